#include "connectors/sms/sms_connector.hpp"

#include <fmt/format.h>

#include <future>

#include "connectors/delivery_tag.hpp"
#include "connectors/sms/sms_connector_impl.hpp"
#include "connectors/sms/sms_prepare.hpp"
#include "util/log.hpp"

namespace bh::connectors::sms {
namespace asio = boost::asio;

namespace {

// stop(): how long the binds may take for their unbind beyond
// response_timeout; beyond their own limit (smpp_bind.hpp).
constexpr auto kBindsStopSlack = 2 * kStopSlack;

}  // namespace

void SmsConnector::Impl::start() {
  auto record = [this](const std::string& tag, int part, int parts, const std::string& id,
                       std::function<void(bool, std::string)> answer) {
    StoreJob job;
    job.kind = StoreJob::Kind::part;
    job.tag = tag;
    job.part = PartRecord{id, part, parts};
    job.answer = std::move(answer);
    post_store(std::move(job));
  };
  auto forget = [this](const std::string& tag) {
    StoreJob job;
    job.kind = StoreJob::Kind::forget;
    job.tag = tag;
    post_store(std::move(job));
  };
  auto release = [this](const std::string& tag) {
    std::lock_guard lock(release_mutex);
    release_when_recorded.insert(tag);
  };
  dispatch = std::make_unique<SmsDispatch>(io, settings, record, forget, release);
  work.emplace(asio::make_work_guard(io));
  io_thread = std::thread([this] { run_io(); });
  next_sweep = std::chrono::steady_clock::now() + settings.timing.sweep_interval;
  store_thread = std::thread([this] { run_store(); });
  inbound_thread = std::thread([this] { run_inbound(); });
}

void SmsConnector::Impl::log_problem(const char* where, const std::string& what) const {
  log::Line("sms_connector_problem")
      .kv("connector", settings.name)
      .kv("where", where)
      .kv("reason", what)
      .write(log::Level::warn);
}

void SmsConnector::Impl::run_io() {
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& error) {
      log::Line("connector_error")
          .kv("connector", settings.name)
          .kv("where", "sms io thread")
          .kv("reason", error.what())
          .write(log::Level::error);
    }
  }
}

void SmsConnector::Impl::post_store(StoreJob job) {
  {
    // Under the mutex: run_store's last look at the queue and `gone` are one step.
    std::lock_guard lock(mutex);
    if (!store_thread_gone) {
      jobs.push_back(std::move(job));
      wake.notify_one();
      return;
    }
  }
  fail_job(job, kStopping);
}

void SmsConnector::Impl::fail_job(StoreJob& job, const std::string& reason) {
  switch (job.kind) {
    case StoreJob::Kind::task:
      if (job.fallback) job.fallback(reason);
      return;
    case StoreJob::Kind::part:
      if (job.answer)
        asio::post(io, [answer = std::move(job.answer), reason] { answer(false, reason); });
      return;
    case StoreJob::Kind::deliver:
      answer_deliver(job, smpp::status::temporary_app_error);
      return;
    case StoreJob::Kind::forget:
      log_problem("forget", reason);  // its rows go with purge
      return;
  }
}

void SmsConnector::Impl::post_task(std::function<void()> task) {
  StoreJob job;
  job.task = std::move(task);
  post_store(std::move(job));
}

void SmsConnector::Impl::prepare(DeliveryRequest request, DeliveryDone done) {
  PrepareContext context{settings, store.get(), directory, store_problem, stopping, &destinations};
  std::shared_ptr<SmsRequest> shared = prepare_request(context, request, std::move(done));
  // The io thread submits; it also answers (at once when nothing is left).
  asio::post(io, [this, shared] {
    if (stopping) {
      for (std::size_t slot = 0; slot < shared->final.size(); ++slot)
        if (!shared->final[slot]) {
          shared->results[slot] = deferred_result("4.3.0", kStopping);
          shared->final[slot] = true;
        }
    }
    dispatch->add(shared);
  });
}

Result<std::shared_ptr<SmsConnector>> SmsConnector::create(const SmsSettings& settings) {
  if (settings.binds.empty()) return Error{"connector " + settings.name + ": no bind"};
  auto destinations = DestinationCheck::compile(settings.destinations);
  if (!destinations)
    return Error{"connector " + settings.name + ": " + destinations.error().message};
  std::shared_ptr<SmsConnector> connector(new SmsConnector(settings));
  connector->impl_->destinations = std::move(*destinations);
  connector->impl_->start();
  log::Line("sms_connector")
      .kv("connector", settings.name)
      .kv("binds", settings.binds.size())
      .kv("smsc", fmt::format("{}:{}", settings.binds.front().host, settings.binds.front().port))
      .write();
  return connector;
}

SmsConnector::SmsConnector(const SmsSettings& settings) : impl_(std::make_unique<Impl>(settings)) {}

SmsConnector::~SmsConnector() {
  stop();
}

void SmsConnector::deliver(DeliveryRequest request, DeliveryDone done) {
  if (request.recipients.empty()) return done({});
  auto once = std::make_shared<OnceDone>(std::move(done), request.recipients.size());
  if (impl_->stopping) return once->defer(kStopping);
  Impl* impl = impl_.get();
  StoreJob job;
  job.task = [impl, request = std::move(request), once]() mutable {
    impl->prepare(std::move(request),
                  [once](std::vector<RecipientResult> results) { (*once)(std::move(results)); });
  };
  job.fallback = [once](const std::string& reason) { once->defer(reason); };
  impl->post_store(std::move(job));
}

void SmsConnector::results_recorded(const Envelope& envelope,
                                    const std::vector<std::size_t>& recipients) {
  Impl& impl = *impl_;
  std::vector<std::string> released;
  {
    std::lock_guard lock(impl.release_mutex);
    if (impl.release_when_recorded.empty()) return;
    for (std::size_t index : recipients) {
      if (index >= envelope.recipients.size()) continue;
      std::string tag = delivery_tag(envelope.queue_id, envelope.recipients[index].address.text());
      if (impl.release_when_recorded.erase(tag) > 0) released.push_back(std::move(tag));
    }
  }
  // Delivered for good now: a retry can no longer need the parts' rows.
  for (std::string& tag : released) {
    StoreJob job;
    job.kind = StoreJob::Kind::forget;
    job.tag = std::move(tag);
    impl.post_store(std::move(job));
  }
}

void SmsConnector::attach(PendingSink* sink) {
  impl_->sink = sink;
}

void SmsConnector::attach_intake(const IntakeServices& services) {
  Impl& impl = *impl_;
  if (impl.stopping) return;
  // On the store thread: everything that reads these runs there.
  std::promise<void> attached;
  impl.post_task([&impl, &services, &attached] {
    impl.ingest = services.ingest;
    impl.directory = services.directory;
    if (!services.store) {
      impl.store_problem = "the SMS connector has no store";
    } else {
      impl.grouped = std::make_shared<GroupCommitDatabase>(services.store);
      auto opened = SmsStore::open(impl.grouped);
      if (!opened) {
        impl.store_problem = "the SMS store could not be opened: " + opened.error().message;
      } else {
        impl.store = std::move(*opened);
        if (impl.ingest != nullptr && impl.directory != nullptr)
          impl.inbound = std::make_unique<SmsInbound>(impl.settings, *impl.ingest, *impl.directory,
                                                      *impl.store);
      }
      // Only for the sweep's diagnostics: without it they name no number.
      if (auto pending = store::PendingStore::open(services.store); pending)
        impl.pending = std::move(*pending);
    }
    if (!impl.store)
      log::Line("sms_store_unavailable")
          .kv("connector", impl.settings.name)
          .kv("reason", impl.store_problem)
          .write(log::Level::error);
    attached.set_value();
  });
  attached.get_future().wait();
  asio::post(impl.io, [&impl] {
    if (impl.stopping || !impl.binds.empty()) return;
    std::vector<SmppBind*> raw;
    for (std::size_t i = 0; i < impl.settings.binds.size(); ++i) {
      impl.binds.push_back(std::make_unique<SmppBind>(
          impl.io, impl.settings.binds[i], impl.settings, static_cast<int>(i + 1), impl));
      raw.push_back(impl.binds.back().get());
    }
    impl.dispatch->set_binds(raw);
    for (auto& bind : impl.binds) bind->start();
  });
}

void SmsConnector::stop() {
  Impl& impl = *impl_;
  if (impl.stopping.exchange(true)) return;
  if (impl.inbound) impl.inbound->stop();
  // Unbind every bind (bounded), then answer what is still in flight.
  auto unbound = std::make_shared<std::promise<void>>();
  asio::post(impl.io, [&impl, unbound] {
    auto left = std::make_shared<std::size_t>(impl.binds.size());
    if (*left == 0) return unbound->set_value();
    for (auto& bind : impl.binds)
      bind->stop([left, unbound] {
        if (--*left == 0) unbound->set_value();
      });
  });
  unbound->get_future().wait_for(impl.settings.timing.response_timeout + kBindsStopSlack);
  // The parts the binds' last answers queued are written (and their answers
  // posted to the io thread, ahead of abandon) first: a recipient whose
  // every part is recorded is then pending, not deferred for a retry.
  auto written = std::make_shared<std::promise<void>>();
  impl.post_task([written] { written->set_value(); });
  written->get_future().wait_for(impl.settings.timing.response_timeout + kBindsStopSlack);
  std::promise<void> abandoned;
  asio::post(impl.io, [&impl, &abandoned] {
    impl.dispatch->abandon(kStopping);
    abandoned.set_value();
  });
  abandoned.get_future().wait();
  {
    std::lock_guard lock(impl.mutex);
    impl.store_thread_end = true;  // the jobs left still run (and defer)
  }
  impl.wake.notify_all();
  if (impl.store_thread.joinable()) impl.store_thread.join();
  {
    std::lock_guard lock(impl.inbound_mutex);
    impl.inbound_end = true;  // its jobs left still run (inbound is stopping: they answer fast)
  }
  impl.inbound_wake.notify_all();
  if (impl.inbound_thread.joinable()) impl.inbound_thread.join();
  // The store thread's last answers (deliveries it deferred) go out now.
  std::promise<void> drained;
  asio::post(impl.io, [&drained] { drained.set_value(); });
  drained.get_future().wait();
  impl.work.reset();
  impl.io.stop();
  if (impl.io_thread.joinable()) impl.io_thread.join();
  impl.binds.clear();
}

}  // namespace bh::connectors::sms
