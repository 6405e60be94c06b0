#include "connectors/fax/hylafax_backend.hpp"

#include <charconv>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "connectors/fax/hylafax_call.hpp"
#include "connectors/fax/hylafax_client.hpp"
#include "util/log.hpp"
#include "util/secret_file.hpp"

namespace bh::connectors::fax {

namespace {

using hylafax::Client;
using hylafax::ClientOptions;
using hylafax::JobState;

// At most this many finished jobs per poll; the rest come with the next
// poll, once forget() has made room.
constexpr std::size_t kMaxReportsPerPoll = 200;
constexpr std::size_t kMaxPasswordBytes = 1024;
// Jobs watched for vanishing (check_watched); beyond this many pending
// jobs the newest are not watched (their results still arrive).
constexpr std::size_t kMaxWatchedJobs = 100000;

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
  explicit HylafaxBackend(const FaxSettings& settings)
      : settings_(settings.hylafax),
        connector_(settings.name),
        tag_prefix_(job_tag_prefix(settings.name)),
        notify_address_(!settings.hylafax.notify_address.empty()
                            ? settings.hylafax.notify_address
                            : "postmaster@" +
                                  (settings.hostname.empty() ? "localhost" : settings.hostname)),
        format_(settings.format) {}

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
    auto client = connect();
    if (!client) return client.error();
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
    check_watched(*waiting, *listing);
    std::vector<FaxJobReport> reports;
    bool admin_asked = false;
    for (const auto& job : listing->jobs) {
      if (reports.size() >= kMaxReportsPerPoll) break;
      if (!ours(job)) continue;
      // Session logs (the call's duration) are mode 0600 unless the
      // operator says otherwise: ADMIN, once, when a sent job needs one.
      if (job.state == JobState::done && !admin_asked) {
        admin_asked = true;
        become_admin(**client);
      }
      bool connection_lost = false;
      auto report = describe(**client, job, connection_lost);
      if (!report) {
        if (hylafax::reply_code(report.error()) == 500) continue;  // deleted meanwhile
        return report.error();
      }
      reports.push_back(std::move(*report));
      // This report is complete without its call facts; the other jobs
      // come with the next poll, on a new connection.
      if (connection_lost) return reports;
    }
    (*client)->quit();
    return reports;
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
    std::lock_guard lock(watched_mutex_);
    watched_.erase(reference);
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
      auto password = read_password(settings_.password_file, "HylaFAX password");
      if (!password) return password.error();
      options.password = *password;
    }
    return Client::connect(options);
  }

  // A password file's one line, without its line end.
  static Result<std::string> read_password(const std::string& path, std::string_view what) {
    auto password = read_secret_file(path, what, kMaxPasswordBytes);
    if (!password) return password.error();
    while (!password->empty() && (password->back() == '\n' || password->back() == '\r'))
      password->pop_back();
    return password;
  }

  // ADMIN with hylafax_admin_password_file, when there is one. Best
  // effort: refused, the poll goes on unprivileged (reports without a
  // duration when the session logs are private), and says so.
  void become_admin(Client& client) const {
    if (settings_.admin_password_file.empty()) return;
    auto password = read_password(settings_.admin_password_file, "HylaFAX admin password");
    Status admin = password ? client.become_admin(*password) : Status(password.error());
    if (!admin)
      log::Line("fax_hylafax_admin_refused")
          .kv("connector", connector_)
          .kv("reason", admin.error().message)
          .kv("detail", "session logs (the call's duration) stay unread unless world-readable")
          .write(log::Level::warn);
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
    if (watched_.size() < kMaxWatchedJobs) watched_[id] = tag;
  }

  // A watched job in neither queue was removed behind our back (faxqclean
  // expired it from doneq before a poll saw it, an operator's faxrm): its
  // result is lost and the recipient waits until pending_timeout. Logged
  // as an error naming it. This connector's jobs in sendq are watched too,
  // so jobs submitted before a restart are covered.
  void check_watched(const hylafax::JobList& sendq, const hylafax::JobList& doneq) {
    std::set<std::string> seen;
    std::lock_guard lock(watched_mutex_);
    for (const auto& job : sendq.jobs) {
      if (!owned(job)) continue;
      seen.insert(job.id);
      if (watched_.size() < kMaxWatchedJobs && !watched_.count(job.id))
        watched_[job.id] = job.tag.substr(tag_prefix_.size());
    }
    for (const auto& job : doneq.jobs)
      if (owned(job)) seen.insert(job.id);
    for (auto it = watched_.begin(); it != watched_.end();) {
      if (seen.count(it->first)) {
        ++it;
        continue;
      }
      log::Line("fax_hylafax_job_vanished")
          .kv("connector", connector_)
          .kv("job", it->first)
          .kv("tag", it->second)
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

  // STATUS and STATUSCODE are not in any JOBFMT letter: asked per job;
  // CSID and duration come from HylaFAX's files (hylafax_call.hpp).
  Result<FaxJobReport> describe(Client& client, const hylafax::JobListing& job,
                                bool& connection_lost) const {
    if (auto selected = client.select_job(job.id); !selected) return selected.error();
    auto status = client.query_parameter("STATUS");
    if (!status) return status.error();
    auto code_text = client.query_parameter("STATUSCODE");
    if (!code_text) return code_text.error();
    FaxJobReport report;
    report.reference = job.id;
    report.sent = job.state == JobState::done;
    report.status_text = *status;
    int code = -1;
    auto [end, error] =
        std::from_chars(code_text->data(), code_text->data() + code_text->size(), code);
    report.status_code =
        error == std::errc() && end == code_text->data() + code_text->size() ? code : -1;
    report.pages_sent = job.pages_sent;
    report.pages_total = job.pages_total;
    auto facts = hylafax::read_call_facts(client, job.id, report.sent, connector_);
    report.remote_csid = facts.remote_csid;
    report.duration = facts.duration;
    connection_lost = facts.connection_lost;
    return report;
  }

  HylafaxSettings settings_;
  std::string connector_;
  std::string tag_prefix_;
  std::string notify_address_;
  render::PageFormat format_;
  std::mutex watched_mutex_;
  std::map<std::string, std::string> watched_;  // job id -> tag
};

}  // namespace

std::string job_tag_prefix(const std::string& connector_name) {
  return fmt::format("bridgehead/{}/", connector_name);
}

std::unique_ptr<FaxBackend> make_hylafax_backend(const FaxSettings& settings) {
  return std::make_unique<HylafaxBackend>(settings);
}

}  // namespace bh::connectors::fax
