#include "connectors/fax/hylafax_backend.hpp"

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "connectors/fax/hylafax_client.hpp"
#include "connectors/fax/hylafax_poll.hpp"
#include "util/log.hpp"

namespace bh::connectors::fax {

namespace {

using hylafax::Client;
using hylafax::ClientOptions;
using hylafax::JobState;

using hylafax::kMaxWatchedJobs;

// JPARM PAGEWIDTH / PAGELENGTH in mm (as sendfax derives them from etc/pagesizes).
int page_width_mm(render::Paper paper) {
  return paper == render::Paper::a4 ? 209 : 216;
}
int page_length_mm(render::Paper paper) {
  return paper == render::Paper::a4 ? 297 : 279;
}

// Retried or bounced. Before the job is created (connect, login) every
// failure is transient: a wrong hosts.hfaxd is the administrator's to fix,
// not the sender's. Afterwards a 5xx is the server refusing this job.
SubmitFailure classify(const Error& error, bool logged_in) {
  int code = hylafax::reply_code(error);
  if (code == 0) {
    if (logged_in && error.code == std::errc::invalid_argument)
      return SubmitFailure{true, "5.3.0", error.message};  // a value we cannot send
    return SubmitFailure{false, "4.4.1", error.message};   // network, timeout, garbled reply
  }
  if (code >= 500 && logged_in) return SubmitFailure{true, "5.3.0", error.message};
  return SubmitFailure{false, "4.3.0", error.message};  // 4xx (460: faxq unreachable), login
}

class HylafaxBackend : public FaxBackend {
 public:
  HylafaxBackend(const FaxSettings& settings, const hylafax::PollLimits& limits)
      : settings_(settings.hylafax),
        connector_(settings.name),
        tag_prefix_(job_tag_prefix(settings.name)),
        notify_address_(!settings.hylafax.notify_address.empty()
                            ? settings.hylafax.notify_address
                            : "postmaster@" +
                                  (settings.hostname.empty() ? "localhost" : settings.hostname)),
        format_(settings.format),
        finished_jobs_(settings.name, settings.hylafax.admin_password_file, limits) {}

  // Every call has its own connection; watched_ and the poll's state have
  // their own locks.
  bool polls_alongside_submissions() const override { return true; }

  std::variant<Submitted, SubmitFailure> submit(const FaxSubmission& submission) override {
    auto failed = [&](const Error& error, bool logged_in) {
      return sender_safe(classify(error, logged_in), submission);
    };
    auto client = connect();
    if (!client) return failed(client.error(), false);
    // An earlier attempt may have handed this job over already (its result
    // was lost to a crash, a stop or a lost JSUBM reply): that job is the
    // delivery, a second one would be a second fax.
    auto existing = find_job(**client, tag_prefix_ + submission.tag);
    if (!existing) return failed(existing.error(), false);
    if (*existing) {
      (*client)->quit();
      log::Line("fax_hylafax_job_found")
          .kv("connector", connector_)
          .kv("job", **existing)
          .kv("tag", submission.tag)
          .write();
      watch(**existing, submission.tag);
      return Submitted{**existing};
    }
    auto job = send_job(**client, submission);
    if (!job) return failed(job.error(), true);
    (*client)->quit();
    log::Line("fax_hylafax_submitted")
        .kv("connector", connector_)
        .kv("job", *job)
        .kv("tag", submission.tag)
        .kv("pages", submission.pages)
        .write();
    watch(*job, submission.tag);
    return Submitted{*job};
  }

  Result<std::vector<FaxJobReport>> finished() override {
    std::lock_guard poll_lock(poll_mutex_);
    auto client = connect();
    if (!client) return client.error();
    // Jobs watched from here on may be missing from the listings below.
    std::uint64_t listed_from = next_watch_.load();
    // sendq before doneq: a job that finishes between the two listings is
    // then seen in doneq, never in neither.
    auto waiting = (*client)->list_jobs("sendq");
    if (!waiting) return waiting.error();
    auto listing = (*client)->list_jobs("doneq");
    if (!listing) return listing.error();
    if (listing->skipped + waiting->skipped > 0)
      log::Line("fax_hylafax_listing_skipped")
          .kv("connector", connector_)
          .kv("lines", static_cast<unsigned long>(listing->skipped + waiting->skipped))
          .write(log::Level::debug);
    check_watched(*waiting, *listing, listed_from);
    std::vector<hylafax::JobListing> finished;
    for (const auto& job : listing->jobs)
      if (ours(job)) finished.push_back(job);
    return finished_jobs_.describe(std::move(*client), finished, [this] { return connect(); });
  }

  Status forget(const std::string& reference) override {
    if (!hylafax::valid_job_id(reference))
      return Error{fmt::format("HylaFAX: \"{}\" is not a job id", reference)};
    auto client = connect();
    if (!client) return client.error();
    if (auto selected = (*client)->select_job(reference); !selected) {
      // 500: the job does not exist (any more); it is forgotten.
      if (hylafax::reply_code(selected.error()) == 500) return ok_status();
      return selected.error();
    }
    if (auto deleted = (*client)->delete_job(); !deleted) return deleted.error();
    (*client)->quit();
    {
      std::lock_guard poll_lock(poll_mutex_);
      finished_jobs_.forget(reference);
    }
    std::lock_guard lock(watched_mutex_);
    watched_.erase(reference);
    // A submission that found this job before the poll forgot it may still
    // come to watch() it (the poll does not take the submission lock): it
    // must not be watched again, or the next poll calls it vanished.
    if (forgotten_.insert(reference).second) {
      forgotten_order_.push_back(reference);
      if (forgotten_order_.size() > hylafax::kMaxForgottenJobs) {
        forgotten_.erase(forgotten_order_.front());
        forgotten_order_.pop_front();
      }
    }
    return ok_status();
  }

 private:
  Result<std::unique_ptr<Client>> connect() const {
    ClientOptions options;
    options.host = settings_.host;
    options.port = settings_.port;
    options.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(settings_.timeout);
    options.user = settings_.user;
    if (!settings_.password_file.empty()) {
      auto password = hylafax::read_password(settings_.password_file, "HylaFAX password");
      if (!password) return password.error();
      options.password = *password;
    }
    return Client::connect(options);
  }

  // A failure's text reaches the sender (a DSN): the local files it may
  // name (the rendered TIFF, the password file) are replaced by what they
  // are; the log line fax_submit_failed has the same text.
  SubmitFailure sender_safe(SubmitFailure failure, const FaxSubmission& submission) const {
    auto replace = [&](const std::string& path, std::string_view what) {
      if (path.empty()) return;
      for (std::size_t at; (at = failure.text.find(path)) != std::string::npos;)
        failure.text.replace(at, path.size(), what);
    };
    std::string detail = failure.text;
    replace(submission.tiff.string(), "the fax document");
    replace(settings_.password_file, "the HylaFAX password file");
    if (failure.text != detail)
      log::Line("fax_hylafax_submit_error")
          .kv("connector", connector_)
          .kv("tag", submission.tag)
          .kv("reason", detail)
          .write(log::Level::warn);
    return failure;
  }

  // The id of this user's job with JOBINFO info in sendq or doneq, if any.
  Result<std::optional<std::string>> find_job(Client& client, const std::string& info) const {
    for (const char* queue : {"sendq", "doneq"}) {
      auto listing = client.list_jobs(queue);
      if (!listing) return listing.error();
      for (const auto& job : listing->jobs)
        if (job.owner == settings_.user && job.tag == info) return std::optional(job.id);
    }
    return std::optional<std::string>();
  }

  // A job this process knows to be at the server, until forget().
  void watch(const std::string& id, const std::string& tag) {
    std::lock_guard lock(watched_mutex_);
    if (forgotten_.count(id)) return;  // reported and deleted already
    if (watched_.size() < kMaxWatchedJobs) watched_[id] = Watched{tag, next_watch_++};
  }

  // A watched job in neither queue was removed behind our back (faxqclean
  // expired it from doneq before a poll saw it, an operator's faxrm): its
  // result is lost and the recipient waits until pending_timeout. Logged
  // as an error naming it. This connector's jobs in sendq are watched too,
  // so jobs submitted before a restart are covered. A job watched since
  // listed_from (a submission while the poll listed) is judged next time.
  void check_watched(const hylafax::JobList& sendq, const hylafax::JobList& doneq,
                     std::uint64_t listed_from) {
    std::set<std::string> seen;
    std::lock_guard lock(watched_mutex_);
    for (const auto& job : sendq.jobs) {
      if (!owned(job)) continue;
      seen.insert(job.id);
      if (watched_.size() < kMaxWatchedJobs && !watched_.count(job.id))
        watched_[job.id] = Watched{job.tag.substr(tag_prefix_.size()), 0};
    }
    for (const auto& job : doneq.jobs)
      if (owned(job)) seen.insert(job.id);
    for (auto it = watched_.begin(); it != watched_.end();) {
      if (seen.count(it->first) || it->second.since >= listed_from) {
        ++it;
        continue;
      }
      log::Line("fax_hylafax_job_vanished")
          .kv("connector", connector_)
          .kv("job", it->first)
          .kv("tag", it->second.tag)
          .kv("detail",
              "the job is in neither sendq nor doneq: its result is lost, the "
              "recipient stays pending until pending_timeout (faxqclean's -j "
              "threshold shorter than poll_interval?)")
          .write(log::Level::error);
      it = watched_.erase(it);
    }
  }

  // Upload, JNEW, JPARMs, JSUBM: the job id.
  Result<std::string> send_job(Client& client, const FaxSubmission& submission) const {
    auto file = client.upload_tiff(submission.tiff);
    if (!file) return file.error();
    auto job = client.create_job();
    if (!job) return job.error();
    // The envelope sender is only shown in HylaFAX's logs; the null sender
    // (or one that cannot be sent) is shown as MAILER-DAEMON.
    std::string from = submission.sender;
    if (from.empty() || !hylafax::safe_in_command(from)) from = "MAILER-DAEMON";
    const std::pair<const char*, std::string> strings[] = {
        {"FROMUSER", from},
        {"NOTIFYADDR", notify_address_},
        {"DIALSTRING", submission.number},
        {"EXTERNAL", submission.number},
        {"JOBINFO", tag_prefix_ + submission.tag},
        {"NOTIFY", "NONE"},  // Bridgehead reports to the sender itself
        {"MODEM", settings_.modem},
    };
    for (const auto& [name, value] : strings)
      if (auto set = client.set_parameter(name, value); !set) return set.error();
    // The T.33 sub-address the receiver routes on (sendfax's -S).
    if (!submission.subaddress.empty())
      if (auto set = client.set_parameter("SUBADDR", submission.subaddress); !set)
        return set.error();
    const std::pair<const char*, long long> numbers[] = {
        {"VRES", format_.resolution == render::Resolution::fine ? 196 : 98},
        {"PAGEWIDTH", page_width_mm(format_.paper)},
        {"PAGELENGTH", page_length_mm(format_.paper)},
        {"MAXTRIES", settings_.max_tries},
        {"MAXDIALS", settings_.max_dials},
    };
    for (const auto& [name, value] : numbers)
      if (auto set = client.set_number(name, value); !set) return set.error();
    // LASTTIME is a time, not a number: DDHHMM, sent as a bare token.
    auto lasttime = client.exchange(
        fmt::format("JPARM LASTTIME {}\r\n", hylafax::lasttime_value(settings_.kill_time)));
    if (!lasttime) return lasttime.error();
    if (lasttime->code != 213)
      return Error{"HylaFAX JPARM LASTTIME: " + lasttime->summary(),
                   std::error_code(lasttime->code, hylafax::reply_category())};
    if (auto added = client.add_document(*file); !added) return added.error();
    if (auto submitted = client.submit_job(); !submitted) return submitted.error();
    return *job;
  }

  bool owned(const hylafax::JobListing& job) const {
    return job.owner == settings_.user && job.tag.rfind(tag_prefix_, 0) == 0;
  }
  bool ours(const hylafax::JobListing& job) const {
    return owned(job) && (job.state == JobState::done || job.state == JobState::failed);
  }

  HylafaxSettings settings_;
  std::string connector_;
  std::string tag_prefix_;
  std::string notify_address_;
  render::PageFormat format_;
  std::mutex poll_mutex_;  // finished() and the cache forget() updates
  hylafax::FinishedJobs finished_jobs_;
  struct Watched {
    std::string tag;
    std::uint64_t since = 0;  // next_watch_ when it was watched
  };
  std::mutex watched_mutex_;
  std::map<std::string, Watched> watched_;  // by job id
  // Jobs forget() removed, newest last (bounded): never watched again.
  std::set<std::string> forgotten_;
  std::deque<std::string> forgotten_order_;
  std::atomic<std::uint64_t> next_watch_ = 0;
};

}  // namespace

std::string job_tag_prefix(const std::string& connector_name) {
  return fmt::format("bridgehead/{}/", connector_name);
}

std::unique_ptr<FaxBackend> make_hylafax_backend(const FaxSettings& settings,
                                                 const hylafax::PollLimits& limits) {
  return std::make_unique<HylafaxBackend>(settings, limits);
}

}  // namespace bh::connectors::fax
