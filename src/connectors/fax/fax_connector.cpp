#include "connectors/fax/fax_connector.hpp"

#include <fmt/format.h>

#include "connectors/fax/fax_report.hpp"
#include "connectors/fax/hylafax_backend.hpp"
#include "connectors/fax/render_client.hpp"
#include "connectors/fax/spool_backend.hpp"
#include "util/clock.hpp"
#include "util/files.hpp"
#include "util/log.hpp"

namespace bh::connectors::fax {
namespace {

// The largest cover template: a page of text.
constexpr std::uintmax_t kMaxCoverBytes = 64 * 1024;

RecipientResult stopping_result() {
  return {Outcome::deferred, "4.3.0", "the gateway is stopping"};
}

void log_escaped(const std::string& connector, const char* where, const char* what) {
  log::Line("connector_error")
      .kv("connector", connector)
      .kv("where", where)
      .kv("reason", what)
      .write(log::Level::error);
}

Result<std::pair<std::unique_ptr<FaxBackend>, std::string>> make_backend(
    const FaxSettings& settings) {
  if (settings.backend == Backend::spool) {
    auto spool = SpoolBackend::open(settings.spool, settings.name);
    if (!spool) return spool.error();
    return std::make_pair(std::unique_ptr<FaxBackend>(std::move(*spool)),
                          "spool " + settings.spool.directory.string());
  }
  return std::make_pair(make_hylafax_backend(settings),
                        fmt::format("hylafax {}:{}", settings.hylafax.host, settings.hylafax.port));
}

}  // namespace

Result<std::shared_ptr<FaxConnector>> FaxConnector::create(const FaxSettings& settings) {
  auto backend = make_backend(settings);
  if (!backend) return Error{"connector " + settings.name + ": " + backend.error().message};
  return create(settings, std::move(backend->first), backend->second);
}

Result<std::shared_ptr<FaxConnector>> FaxConnector::create(const FaxSettings& settings,
                                                           std::unique_ptr<FaxBackend> backend,
                                                           std::string server) {
  auto fail = [&](const std::string& message) {
    return Error{"connector " + settings.name + ": " + message};
  };
  auto destinations = DestinationCheck::compile(settings.destinations);
  if (!destinations) return fail(destinations.error().message);
  std::string cover;
  if (!settings.cover_template.empty()) {
    std::error_code error;
    if (std::filesystem::file_size(settings.cover_template, error) > kMaxCoverBytes || error)
      return fail(fmt::format("cover_template {}: {}", settings.cover_template.string(),
                              error ? error.message() : "larger than 64 KiB"));
    auto text = read_whole_file(settings.cover_template);
    if (!text) return fail("cover_template: " + text.error().message);
    cover = std::move(*text);
  }
  std::error_code error;
  std::filesystem::create_directories(settings.work_directory, error);
  if (error)
    return fail("work_directory " + settings.work_directory.string() + ": " + error.message());
  FaxSettings resolved = settings;
  if (resolved.render.program.empty()) resolved.render.program = default_render_program();
  std::shared_ptr<FaxConnector> connector(new FaxConnector(
      resolved, std::move(*destinations), std::move(backend), std::move(server), std::move(cover)));
  connector->start();
  return connector;
}

FaxConnector::FaxConnector(const FaxSettings& settings, DestinationCheck destinations,
                           std::unique_ptr<FaxBackend> backend, std::string server,
                           std::string cover)
    : settings_(settings),
      destinations_(std::move(destinations)),
      backend_(std::move(backend)),
      server_(std::move(server)),
      remote_mta_(settings.backend == Backend::hylafax ? settings.hylafax.host : ""),
      place_(settings.backend == Backend::hylafax ? "HylaFAX server " + settings.hylafax.host
                                                  : "the fax spool folder"),
      cover_(std::move(cover)),
      thumbnails_(settings.name, settings.thumbnail) {}

FaxConnector::~FaxConnector() {
  stop();
}

void FaxConnector::start() {
  for (unsigned i = 0; i < std::max(1u, settings_.max_parallel_renders); ++i)
    workers_.emplace_back([this] { work(); });
  poller_ = std::thread([this] { poll(); });
  log::Line("fax_connector")
      .kv("connector", settings_.name)
      .kv("server", server_)
      .kv("workers", workers_.size())
      .write();
}

void FaxConnector::attach(PendingSink* sink) {
  std::lock_guard lock(mutex_);
  sink_ = sink;
}

void FaxConnector::attach_intake(const IntakeServices& services) {
  thumbnails_.attach(services.store);  // blocking (the store's migrations): before the lock
  std::lock_guard lock(mutex_);
  intake_ = services;
  // Fax -> mail: the ingest folder's thread hands received faxes in.
  if (services.ingest != nullptr && services.directory != nullptr && !ingest_ && !stopping_) {
    ingest_ = std::make_unique<FaxIngest>(settings_, *services.ingest, *services.directory);
    folder_ = std::make_unique<IngestFolder>(ingest_directory_of(settings_),
                                             settings_.ingest.poll_interval, *ingest_);
    folder_->start();
  }
}

std::optional<Connector::ReportAttachment> FaxConnector::report_attachment(
    const std::string& reference) {
  return thumbnails_.attachment(reference);
}

void FaxConnector::report_written(const std::string& reference) {
  thumbnails_.written(reference);
}

FaxIngest* FaxConnector::ingest() {
  std::lock_guard lock(mutex_);
  return ingest_.get();
}

void FaxConnector::stop() {
  std::deque<Job> left;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    left.swap(jobs_);
  }
  work_ready_.notify_all();
  stopped_.notify_all();
  if (ingest_) ingest_->stop();  // a wait for the queue ends: the fax stays in the folder
  if (folder_) folder_->stop();
  for (Job& job : left) job.done(same_for_all(job.request, stopping_result()));
  // A render in progress ends within its time limit (render_timeout).
  for (std::thread& worker : workers_)
    if (worker.joinable()) worker.join();
  if (poller_.joinable()) poller_.join();
}

void FaxConnector::deliver(DeliveryRequest request, DeliveryDone done) {
  if (request.recipients.empty()) return done({});
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      jobs_.push_back({std::move(request), std::move(done)});
      work_ready_.notify_one();
      return;
    }
  }
  done(same_for_all(request, stopping_result()));
}

void FaxConnector::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      work_ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    std::vector<RecipientResult> results;
    try {
      std::shared_ptr<ThumbnailStore> thumbnails = thumbnails_.for_submissions();
      DeliveryContext context{settings_, destinations_,   *backend_, backend_mutex_,
                              server_,   remote_mta_,     place_,    cover_,
                              stopping_, thumbnails.get()};
      results = deliver_fax(context, job.request);
    } catch (const std::exception& error) {
      // Never leave a request without an answer: the message would wait in active/.
      log_escaped(settings_.name, "fax delivery", error.what());
      results = same_for_all(job.request, {Outcome::deferred, "4.3.0",
                                           std::string("internal error: ") + error.what()});
    } catch (...) {
      log_escaped(settings_.name, "fax delivery", "unknown exception");
      results = same_for_all(job.request, {Outcome::deferred, "4.3.0", "internal error"});
    }
    job.done(std::move(results));
  }
}

void FaxConnector::poll() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      std::chrono::seconds interval = settings_.backend == Backend::spool
                                          ? settings_.spool.poll_interval
                                          : settings_.hylafax.poll_interval;
      if (stopped_.wait_for(lock, interval, [this] { return stopping_.load(); })) return;
    }
    try {
      poll_once();
      thumbnails_.maintain(unix_now());
    } catch (const std::exception& error) {
      log_escaped(settings_.name, "fax poll", error.what());
    } catch (...) {
      log_escaped(settings_.name, "fax poll", "unknown exception");
    }
  }
}

void FaxConnector::poll_once() {
  PendingSink* sink;
  {
    std::lock_guard lock(mutex_);
    sink = sink_;
  }
  if (sink == nullptr) return;  // nobody to report to yet: the jobs wait at the server
  // A backend that allows it is polled beside the submissions: a slow
  // poll (call facts over a slow link) holds up no delivery.
  auto poll_lock = [this] {
    std::unique_lock lock(backend_mutex_, std::defer_lock);
    if (!backend_->polls_alongside_submissions()) lock.lock();
    return lock;
  };
  Result<std::vector<FaxJobReport>> reports = Error{};
  {
    auto lock = poll_lock();
    reports = backend_->finished();
  }
  if (!reports) {
    log::Line("fax_poll_failed")
        .kv("connector", settings_.name)
        .kv("server", server_)
        .kv("reason", reports.error().message)
        .write(log::Level::warn);
    return;
  }
  for (const FaxJobReport& report : *reports) {
    RecipientResult result = result_of_report(report, settings_.success_notice, place_);
    result.remote_mta = remote_mta_;  // the host name only; none for the spool folder
    bool recorded = sink->resolve(settings_.name, report.reference, result);
    log::Line("fax_finished")
        .kv("connector", settings_.name)
        .kv("reference", report.reference)
        .kv("result", outcome_name(result.outcome))
        .kv("status", result.status)
        .kv("detail", result.diagnostic)
        .kv("recorded", recorded)
        .write();
    if (!recorded) continue;  // reported again at the next poll
    auto lock = poll_lock();
    if (Status forgotten = backend_->forget(report.reference); !forgotten)
      log::Line("fax_forget_failed")
          .kv("connector", settings_.name)
          .kv("reference", report.reference)
          .kv("reason", forgotten.error().message)
          .write(log::Level::warn);
  }
}

}  // namespace bh::connectors::fax
