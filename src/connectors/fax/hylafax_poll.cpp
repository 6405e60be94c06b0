#include "connectors/fax/hylafax_poll.hpp"

#include <charconv>
#include <set>
#include <system_error>

#include "util/log.hpp"

namespace bh::connectors::fax::hylafax {

namespace {

using Clock = std::chrono::steady_clock;

// A failure after which the control connection is out of step or gone:
// no reply of the server's (network, timeout, a malformed reply), except
// a value we could not send (nothing was sent).
bool connection_lost(const Error& error) {
  return reply_code(error) == 0 && error.code != std::errc::invalid_argument;
}

std::optional<std::filesystem::file_time_type> modified(const std::string& path) {
  std::error_code error;
  auto time = std::filesystem::last_write_time(path, error);
  if (error) return std::nullopt;
  return time;
}

}  // namespace

const CallFacts* CallFactsCache::find(const std::string& job_id) const {
  auto it = entries_.find(job_id);
  return it == entries_.end() ? nullptr : &it->second;
}

void CallFactsCache::remember(const std::string& job_id, const CallFacts& facts) {
  if (entries_.size() < max_entries_ || entries_.count(job_id)) entries_[job_id] = facts;
}

void CallFactsCache::keep_only(const std::vector<JobListing>& doneq) {
  std::set<std::string> listed;
  for (const auto& job : doneq) listed.insert(job.id);
  std::erase_if(entries_, [&](const auto& entry) { return !listed.count(entry.first); });
}

struct FinishedJobs::Poll {
  std::unique_ptr<Client> client;
  bool replaced = false;     // the one replacement of the connection is used
  bool admin_asked = false;  // on this connection
  bool reading_facts = true;
  std::size_t fact_bytes = 0;
  bool facts_read = false;  // any this poll: after the first, the budget counts
  Clock::time_point fact_deadline;

  // Whether a job's call facts of at most `most` bytes may be read now.
  bool may_read(std::size_t most, const PollLimits& limits) const {
    if (!reading_facts) return false;
    if (!facts_read) return true;
    return fact_bytes + most <= limits.max_fact_bytes && Clock::now() < fact_deadline;
  }
};

Result<std::vector<FaxJobReport>> FinishedJobs::describe(std::unique_ptr<Client> client,
                                                         const std::vector<JobListing>& jobs,
                                                         const Connect& connect) {
  cache_.keep_only(jobs);
  Poll poll;
  poll.client = std::move(client);
  poll.fact_deadline = Clock::now() + limits_.max_fact_time;
  std::vector<FaxJobReport> reports;
  std::size_t waiting = 0;  // for their call facts, until the next poll
  // Why the connection was lost; it is replaced when the next job needs it.
  std::optional<Error> lost;
  // The connection is gone and cannot be replaced: what was described is
  // reported, the rest comes with the next poll.
  auto cut_short = [&](const Error& why) -> Result<std::vector<FaxJobReport>> {
    if (reports.empty()) return why;
    log::Line("fax_hylafax_poll_cut_short")
        .kv("connector", connector_)
        .kv("reported", static_cast<unsigned long>(reports.size()))
        .kv("reason", why.message)
        .write(log::Level::warn);
    return reports;
  };
  for (const JobListing& job : jobs) {
    if (reports.size() >= limits_.max_reports) break;
    bool sent = job.state == JobState::done;
    const CallFacts* known = cache_.find(job.id);
    if (!known) {
      std::size_t most = kMaxQueueFileBytes + (sent ? kMaxSessionLogBytes : 0);
      if (!poll.may_read(most, limits_)) {
        ++waiting;
        continue;
      }
    }
    if (lost) {
      if (!replace_connection(poll, *lost, connect)) return cut_short(*lost);
      lost.reset();
    }
    if (!known) {
      // Session logs are mode 0600 unless the operator says otherwise:
      // ADMIN, once per connection, when a sent job's facts are read.
      if (sent && !poll.admin_asked && admin_due()) {
        poll.admin_asked = true;
        if (become_admin(*poll.client) == Admin::lost) {
          poll.reading_facts = false;
          ++waiting;
          lost = Error{"HylaFAX ADMIN: the connection was lost",
                       std::make_error_code(std::errc::connection_reset)};
          continue;
        }
      }
    }
    auto report = job_status(*poll.client, job);
    if (!report) {
      if (reply_code(report.error()) == 500) continue;  // deleted meanwhile
      if (!connection_lost(report.error())) return cut_short(report.error());
      lost = report.error();
      continue;  // this job comes with the next poll
    }
    CallFacts facts;
    if (known) {
      facts = *known;
    } else {
      facts = read_call_facts(*poll.client, job.id, sent, connector_);
      poll.facts_read = true;
      poll.fact_bytes += facts.bytes_read;
      // Kept even when incomplete: a file that failed is not asked for again.
      cache_.remember(job.id, facts);
    }
    report->remote_csid = facts.remote_csid;
    report->duration = facts.duration;
    reports.push_back(std::move(*report));
    if (!known && facts.connection_lost) {
      poll.reading_facts = false;
      log::Line("fax_hylafax_call_facts_lost")
          .kv("connector", connector_)
          .kv("job", job.id)
          .kv("detail",
              "the connection was lost reading the job's files: it is reported "
              "without what they were to give, and they are not read again")
          .write(log::Level::warn);
      lost = Error{"HylaFAX: the connection was lost reading call facts",
                   std::make_error_code(std::errc::connection_reset)};
    }
  }
  if (waiting > 0)
    log::Line("fax_hylafax_reports_waiting")
        .kv("connector", connector_)
        .kv("jobs", static_cast<unsigned long>(waiting))
        .kv("detail", "their call facts are read by the next poll")
        .write(log::Level::debug);
  if (!lost) poll.client->quit();
  return reports;
}

// STATUS and STATUSCODE are not in any JOBFMT letter: asked per job.
Result<FaxJobReport> FinishedJobs::job_status(Client& client, const JobListing& job) const {
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
  return report;
}

bool FinishedJobs::admin_due() const {
  if (admin_password_file_.empty()) return false;
  if (!admin_backing_off_) return true;
  return modified(admin_password_file_) != admin_file_time_ || Clock::now() >= admin_retry_at_;
}

FinishedJobs::Admin FinishedJobs::become_admin(Client& client) {
  auto file_time = modified(admin_password_file_);
  auto password = read_password(admin_password_file_, "HylaFAX admin password");
  Status admin = password ? client.become_admin(*password) : Status(password.error());
  if (admin) {
    admin_backing_off_ = false;
    return Admin::granted;
  }
  // Refused or failed alike, it is not sent again soon: a wrong password
  // stays wrong, and an ADMIN the server never answers must not stall
  // every poll.
  bool lost = password && connection_lost(admin.error());
  admin_backing_off_ = true;
  admin_file_time_ = file_time;
  admin_retry_at_ = Clock::now() + limits_.admin_retry_after;
  log::Line(lost ? "fax_hylafax_admin_failed" : "fax_hylafax_admin_refused")
      .kv("connector", connector_)
      .kv("reason", admin.error().message)
      .kv("retry_after", static_cast<long long>(limits_.admin_retry_after.count()))
      .kv("detail",
          "session logs (the call's duration) stay unread unless world-readable; ADMIN is "
          "sent again when the admin password file changes or after retry_after seconds")
      .write(log::Level::warn);
  return lost ? Admin::lost : Admin::refused;
}

bool FinishedJobs::replace_connection(Poll& poll, const Error& why, const Connect& connect) const {
  if (poll.replaced) return false;
  poll.replaced = true;
  auto fresh = connect();
  log::Line("fax_hylafax_reconnected")
      .kv("connector", connector_)
      .kv("reason", why.message)
      .kv("result", fresh ? "connected" : fresh.error().message)
      .write(log::Level::debug);
  if (!fresh) return false;
  poll.client = std::move(*fresh);
  poll.admin_asked = false;
  return true;
}

}  // namespace bh::connectors::fax::hylafax
