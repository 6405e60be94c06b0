// The poll's second half (hylafax_backend.hpp lists the queues): this
// connector's finished jobs in doneq described over the poll's own
// connection, JOB and JPARM STATUS / STATUSCODE, and their call facts
// (hylafax_call.hpp), within the poll's limits (hylafax_limits.hpp).
//
// Call facts never change once a job is in doneq: they are read once and
// kept (CallFactsCache) until the job leaves doneq or is forgotten, also
// when reading them failed (the job is then reported without them and
// its files are not asked for again). After a connection lost while
// describing a job, the job whose call facts lost it is reported without
// the facts still missing, a job whose status was not read comes with the
// next poll, and the poll reads no more call facts (the jobs still lacking
// them come with the next poll); the connection is replaced, once per
// poll, when a job whose facts are known is still to be described.
// ADMIN (for session logs) is sent once per connection that reads a sent
// job's facts; refused or failed, it is not sent again until the admin
// password file changes or admin_retry_after has passed.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/fax/fax_backend.hpp"
#include "connectors/fax/hylafax_call.hpp"
#include "connectors/fax/hylafax_client.hpp"
#include "connectors/fax/hylafax_limits.hpp"

namespace bh::connectors::fax::hylafax {

// Call facts by job id, at most max_entries of them.
class CallFactsCache {
 public:
  explicit CallFactsCache(std::size_t max_entries) : max_entries_(max_entries) {}
  const CallFacts* find(const std::string& job_id) const;
  // When full, the facts are not kept (read again at the next poll).
  void remember(const std::string& job_id, const CallFacts& facts);
  void forget(const std::string& job_id) { entries_.erase(job_id); }
  // Drops the jobs not in doneq any more.
  void keep_only(const std::vector<JobListing>& doneq);
  std::size_t size() const { return entries_.size(); }

 private:
  std::size_t max_entries_;
  std::map<std::string, CallFacts> entries_;
};

using Connect = std::function<Result<std::unique_ptr<Client>>()>;

class FinishedJobs {
 public:
  FinishedJobs(std::string connector, std::string admin_password_file, PollLimits limits)
      : connector_(std::move(connector)),
        admin_password_file_(std::move(admin_password_file)),
        limits_(limits),
        cache_(limits.max_cached_facts) {}

  // jobs: this connector's finished jobs in doneq, in the listing's order.
  // client: the poll's connection (logged in); connect: for its one
  // replacement. The reports, at most limits.max_reports; an error only
  // when no job could be described.
  Result<std::vector<FaxJobReport>> describe(std::unique_ptr<Client> client,
                                             const std::vector<JobListing>& jobs,
                                             const Connect& connect);
  void forget(const std::string& job_id) { cache_.forget(job_id); }

 private:
  enum class Admin { granted, refused, lost };
  struct Poll;  // one describe()'s connection and budget

  Result<FaxJobReport> job_status(Client& client, const JobListing& job) const;
  bool admin_due() const;
  Admin become_admin(Client& client);
  bool replace_connection(Poll& poll, const Error& why, const Connect& connect) const;

  std::string connector_;
  std::string admin_password_file_;
  PollLimits limits_;
  CallFactsCache cache_;
  // After a refused or failed ADMIN: the password file's modification
  // time then (nullopt: it could not be read) and when to try again.
  bool admin_backing_off_ = false;
  std::optional<std::filesystem::file_time_type> admin_file_time_;
  std::chrono::steady_clock::time_point admin_retry_at_;
};

}  // namespace bh::connectors::fax::hylafax
