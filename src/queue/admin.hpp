// `bridgehead queue ...`: works on the spool directly, also while the gateway
// runs (every change is a rename; the running scheduler notices within a
// second).
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "queue/spool.hpp"

namespace bh::queue {

// The data behind the commands, shared by the CLI's printers below and the
// admin API's JSON (admin/queue_api.cpp).

struct QueueEntry {
  std::string id;
  State state = State::incoming;
  std::size_t size = 0;
  std::optional<Envelope> envelope;  // nullopt: unreadable, see problem
  std::string problem;
  // Unix seconds of the next delivery attempt of a deferred message (its
  // file's mtime); 0 for the other states.
  std::int64_t next_attempt = 0;
};
// One message's entry (its envelope read from the queue file).
QueueEntry read_entry(const Spool& spool, State state, const std::string& id);
// Every message, state by state.
std::vector<QueueEntry> list_messages(const Spool& spool);

enum class ActionResult { done, not_found, busy, wrong_state, changed_meanwhile, failed };
struct QueueAction {
  ActionResult result = ActionResult::done;
  State from = State::incoming;  // the state it was in
  State to = State::incoming;    // done: the state it is in now (delete: from)
  std::string message;           // what went wrong, for people (id shown safely)
};
QueueAction hold_message(const Spool& spool, const std::string& id);
QueueAction release_message(const Spool& spool, const std::string& id);
QueueAction retry_message(const Spool& spool, const std::string& id);
QueueAction delete_message(const Spool& spool, const std::string& id);
// Moves every deferred message to incoming; how many.
std::size_t flush_deferred(const Spool& spool);

// The header section of a message (up to the empty line).
std::string_view header_section(std::string_view content);

int admin_list(const Spool& spool, std::ostream& out);
int admin_show(const Spool& spool, const std::string& id, std::ostream& out, std::ostream& err);
int admin_hold(const Spool& spool, const std::string& id, std::ostream& out, std::ostream& err);
int admin_release(const Spool& spool, const std::string& id, std::ostream& out, std::ostream& err);
int admin_delete(const Spool& spool, const std::string& id, std::ostream& out, std::ostream& err);
int admin_retry(const Spool& spool, const std::string& id, std::ostream& out, std::ostream& err);
// Moves every deferred message to incoming.
int admin_flush(const Spool& spool, std::ostream& out);

}  // namespace bh::queue
