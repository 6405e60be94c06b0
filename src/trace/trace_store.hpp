// The message trace in the store the nodes share (component "trace"): a
// summary row per message, a row per recipient (so recipient= queries are
// indexed and exact) and the events. Written in batches by the Recorder's
// thread; read by the admin API and `bridgehead trace`. Blocking: never on
// an SMTP I/O thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"
#include "trace/event.hpp"
#include "util/result.hpp"

namespace bh::trace {

// A message's status, from its events: "started" (a transaction that has
// not ended, or whose client left), "refused" (never accepted), "queued",
// "deferred", "pending", then the final "delivered", "bounced", "expired"
// or "partial" (some recipients delivered, some not).
inline constexpr std::string_view kStatuses[] = {"started",  "refused", "queued",
                                                 "deferred", "pending", "delivered",
                                                 "bounced",  "expired", "partial"};
// For messages: "started, refused, queued, ...".
std::string status_list();
bool valid_status(std::string_view status);

struct RecipientSummary {
  std::string address;
  std::string status;  // refused, queued, deferred, pending, delivered, bounced, expired
  std::string connector;
};

struct MessageSummary {
  std::string id;
  std::string node;  // the node that received (or refused) it
  std::int64_t first_ms = 0;
  std::int64_t last_ms = 0;
  std::string sender;
  std::string tenant;
  std::string status;
  std::string subject;
  std::vector<RecipientSummary> recipients;
};

struct MessageTrace {
  MessageSummary summary;
  std::vector<TraceEvent> events;  // in the order they happened
};

// Filters are exact (addresses without case); empty: any.
struct MessageQuery {
  std::string sender;
  std::string recipient;
  std::string tenant;
  std::string status;
  std::int64_t since_ms = 0;  // first event at or after
  std::size_t limit = 100;
  std::string after;  // the last id of the previous page (newest first)
};

struct MessagePage {
  std::vector<MessageSummary> messages;
  std::string next;  // the `after` of the next page; "": this was the last
};

inline constexpr std::size_t kMaxPageSize = 1000;  // as the other lists of the admin API

class TraceStore {
 public:
  // Applies the component's migrations.
  static Result<std::unique_ptr<TraceStore>> open(std::shared_ptr<store::Database> database);

  // One transaction for the whole batch.
  Status write(const std::vector<TraceEvent>& events);
  Result<MessagePage> list(const MessageQuery& query);
  // not_found (store_error.hpp) when the store has no such message.
  Result<MessageTrace> get(const std::string& id);
  // Messages whose last event is older than before_ms, with their
  // recipients and events; returns how many messages.
  Result<std::int64_t> purge(std::int64_t before_ms);

  store::Database& database() { return *database_; }

 private:
  explicit TraceStore(std::shared_ptr<store::Database> database) : database_(std::move(database)) {}
  std::shared_ptr<store::Database> database_;
  std::int64_t seq_ = 0;  // orders the events of one millisecond (write() is one thread's)
};

}  // namespace bh::trace
