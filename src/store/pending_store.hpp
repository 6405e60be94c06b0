// Pending recipients by their foreign system's reference (a fax job id, an
// SMPP message id, a webhook's id): which node and queue file wait for it,
// and the final result once the report came. It lives in the store the
// nodes share (SQLite under var/ on one machine), so a report that arrives
// at any node, or after a restart, finds its message; the node that holds
// the message applies it (scheduler/pending_reports.hpp).
//
// A report may arrive before its delivery is recorded here (a receipt
// within milliseconds): it is kept, and the delivery finds it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"
#include "util/result.hpp"

namespace bh::store {

struct PendingEntry {
  std::string connector;
  std::string reference;
  std::string node;
  std::string queue_id;
  std::string recipient;   // the address, for the trace
  std::int64_t since = 0;  // unix seconds
  std::int64_t deadline = 0;
};

struct PendingResolution {
  bool delivered = false;  // false: bounced
  std::string status;      // enhanced status code
  std::string diagnostic;
  std::string remote_mta;
  bool report = false;  // RecipientResult::report: a success report without NOTIFY=SUCCESS
  std::string diagnostic_type = "smtp";  // RecipientResult::diagnostic_type
};

struct ResolvedEntry {
  PendingEntry entry;  // queue_id empty: a report whose delivery is not recorded yet
  PendingResolution resolution;
};

class PendingStore {
 public:
  // Applies the store's "pending" migrations.
  static Result<std::unique_ptr<PendingStore>> open(std::shared_ptr<Database> database);

  // Durable when it returns (each call is one transaction).
  Status add(const PendingEntry& entry);
  // A report (now: unix seconds). Durable when it returns.
  Status resolve(const std::string& connector, const std::string& reference,
                 const PendingResolution& resolution, std::int64_t now);
  // The report for a pending recipient, if it came.
  Result<std::optional<PendingResolution>> resolution(const std::string& connector,
                                                      const std::string& reference) const;
  // Whether the reference is known (pending or resolved).
  Result<std::optional<PendingEntry>> find(const std::string& connector,
                                           const std::string& reference) const;
  // Reports for messages this node holds, to apply.
  Result<std::vector<ResolvedEntry>> resolved_for(const std::string& node) const;
  Status remove(const std::string& connector, const std::string& reference);
  // Reports no delivery claimed that came before `before` (unix seconds): a
  // reference that expired, or that was never pending. Returns how many.
  Result<std::size_t> purge_unclaimed(std::int64_t before);
  // Every entry (pending or resolved), for `bridgehead queue pending`.
  Result<std::vector<ResolvedEntry>> list() const;

 private:
  explicit PendingStore(std::shared_ptr<Database> database) : database_(std::move(database)) {}
  std::shared_ptr<Database> database_;
};

}  // namespace bh::store
