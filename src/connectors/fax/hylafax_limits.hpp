// What one poll of the HylaFAX backend may spend, in one place. The
// defaults are the gateway's; tests pass smaller ones
// (make_hylafax_backend's second form).
#pragma once

#include <chrono>
#include <cstddef>

namespace bh::connectors::fax::hylafax {

// Jobs watched for vanishing (hylafax_backend.cpp check_watched); beyond
// this many pending jobs the newest are not watched (their results still
// arrive).
inline constexpr std::size_t kMaxWatchedJobs = 100000;
// Jobs remembered as forgotten (reported and deleted), so a submission that
// found one just before is not watched again (hylafax_backend.cpp).
inline constexpr std::size_t kMaxForgottenJobs = 10000;
inline constexpr std::size_t kMaxPasswordBytes = 1024;  // a password file
// A queue file (doneq/q<id>) is about 1 KiB.
inline constexpr std::size_t kMaxQueueFileBytes = 64 * 1024;
// A session log at Debian's SessionTracing (11) is some 10 KiB per page;
// a bigger one (HDLC or ECM frame tracing) is not read.
inline constexpr std::size_t kMaxSessionLogBytes = 1024 * 1024;

struct PollLimits {
  // Finished jobs reported per poll; the rest come with the next poll,
  // once forget() has made room.
  std::size_t max_reports = 200;
  // Call facts (queue file, session log) read per poll: a job's files are
  // read only while the whole of their maximum still fits in max_fact_bytes
  // and max_fact_time has not passed (the first job's always are, so
  // every poll makes progress). A job whose facts are not read yet waits
  // for the next poll; facts once read are kept until the job leaves doneq.
  std::size_t max_fact_bytes = 8 * 1024 * 1024;
  std::chrono::milliseconds max_fact_time{20'000};
  // Jobs whose call facts are kept; more than max_reports, since a job
  // stays in doneq (and in the cache) until its report is durable.
  std::size_t max_cached_facts = 1000;
  // After a refused or failed ADMIN, it is not sent again until the admin
  // password file changes (its modification time) or this much later.
  std::chrono::seconds admin_retry_after{3600};
};

}  // namespace bh::connectors::fax::hylafax
