#include "queue/admin.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "smtp/server/received_header.hpp"
#include "util/printable.hpp"

namespace bh::queue {
namespace {

// Everything printed comes from clients or files: control characters,
// terminal escapes and invalid UTF-8 are shown as \xHH.
std::string shown(std::string_view text) {
  return printable(text);
}

std::string sender_text(const Envelope& e) {
  return e.sender.null() ? "<>" : shown(e.sender.text());
}

QueueAction move_one(const Spool& spool, const std::string& id, std::initializer_list<State> from,
                     State to) {
  QueueAction action;
  action.to = to;
  auto state = spool.locate(id);
  if (!state) {
    action.result = ActionResult::not_found;
    action.message = fmt::format("no message {}", shown(id));
    return action;
  }
  action.from = *state;
  if (*state == State::active) {
    action.result = ActionResult::busy;
    action.message =
        fmt::format("{} is being delivered right now; try again in a moment", shown(id));
    return action;
  }
  if (std::find(from.begin(), from.end(), *state) == from.end()) {
    action.result = ActionResult::wrong_state;
    action.message = fmt::format("{} is {}; cannot move it to {}", shown(id), state_name(*state),
                                 state_name(to));
    return action;
  }
  switch (spool.move(id, *state, to)) {
    case MoveResult::moved:
      return action;
    case MoveResult::not_found:
      action.result = ActionResult::changed_meanwhile;
      action.message =
          fmt::format("{} changed state meanwhile (picked up for delivery?)", shown(id));
      return action;
    case MoveResult::failed:
      action.result = ActionResult::failed;
      action.message = fmt::format("cannot move {}: {}", shown(id), std::strerror(errno));
      return action;
  }
  return action;
}

int print_action(const QueueAction& action, const std::string& id, std::ostream& out,
                 std::ostream& err) {
  if (action.result != ActionResult::done) {
    fmt::print(err, "queue: {}\n", action.message);
    return 1;
  }
  fmt::print(out, "{} {} -> {}\n", shown(id), state_name(action.from), state_name(action.to));
  return 0;
}

}  // namespace

QueueEntry read_entry(const Spool& spool, State state, const std::string& id) {
  QueueEntry entry;
  entry.id = id;
  entry.state = state;
  auto envelope = spool.load_envelope(state, id, &entry.size);
  if (envelope)
    entry.envelope = std::move(*envelope);
  else
    entry.problem = envelope.error().message;
  struct stat info {};
  if (state == State::deferred && ::stat(spool.file(state, id).c_str(), &info) == 0)
    entry.next_attempt = info.st_mtime;
  return entry;
}

std::vector<QueueEntry> list_messages(const Spool& spool) {
  std::vector<QueueEntry> entries;
  for (State state : kAllStates)
    for (const std::string& id : spool.list(state)) entries.push_back(read_entry(spool, state, id));
  return entries;
}

int admin_list(const Spool& spool, std::ostream& out) {
  std::vector<QueueEntry> entries = list_messages(spool);
  for (const QueueEntry& entry : entries) {
    if (!entry.envelope) {
      fmt::print(out, "{} {} (unreadable: {})\n", shown(entry.id), state_name(entry.state),
                 shown(entry.problem));
      continue;
    }
    std::string recipients;
    for (const Recipient& r : entry.envelope->recipients)
      recipients += (recipients.empty() ? "" : ",") + shown(r.address.text());
    fmt::print(out, "{} {} {} {} from={} to={}\n", shown(entry.id), state_name(entry.state),
               entry.size, smtp::rfc5322_date(entry.envelope->arrival),
               sender_text(*entry.envelope), recipients);
  }
  fmt::print(out, "-- {} message(s)\n", entries.size());
  return 0;
}

int admin_show(const Spool& spool, const std::string& id, std::ostream& out, std::ostream& err) {
  auto state = spool.locate(id);
  if (!state) {
    fmt::print(err, "queue: no message {}\n", shown(id));
    return 1;
  }
  auto message = spool.load(*state, id);
  if (!message) {
    fmt::print(err, "queue: {} cannot be read: {}\n", shown(id), shown(message.error().message));
    return 1;
  }
  const Envelope& e = message->envelope;
  fmt::print(out, "id: {}\nstate: {}\narrival: {}\nsender: {}\n", shown(e.queue_id),
             state_name(*state), smtp::rfc5322_date(e.arrival), sender_text(e));
  fmt::print(out, "ret: {}\nenvid: {}\nsmtputf8: {}\n",
             e.ret == DsnReturn::full      ? "FULL"
             : e.ret == DsnReturn::headers ? "HDRS"
                                           : "-",
             shown(e.envid), e.smtputf8 ? "yes" : "no");
  for (const Recipient& r : e.recipients) {
    std::string notify;
    for (auto [flag, name] : {std::pair{notify_never, "NEVER"},
                              {notify_success, "SUCCESS"},
                              {notify_failure, "FAILURE"},
                              {notify_delay, "DELAY"}})
      if (r.notify & flag) notify += (notify.empty() ? "" : ",") + std::string(name);
    fmt::print(out, "recipient: {} notify={} orcpt={}\n", shown(r.address.text()),
               notify.empty() ? "-" : notify, r.orcpt.empty() ? "-" : shown(r.orcpt));
  }
  fmt::print(out, "client: {} port {} helo {}\ntls: {} {}\nclient certificate: {} {}\n",
             shown(e.client.ip), e.client.port, shown(e.client.helo),
             e.client.tls_version.empty() ? "none" : shown(e.client.tls_version),
             shown(e.client.tls_cipher),
             e.client.cert_subject.empty() ? "none" : shown(e.client.cert_subject),
             e.client.cert_subject.empty()
                 ? ""
                 : (e.client.cert_verified ? "(verified)" : "(not verified)"));
  fmt::print(out, "inbound connector: {}\ntenant: {}\n",
             e.client.inbound_connector.empty() ? "none" : shown(e.client.inbound_connector),
             e.tenant.empty() ? "-" : shown(e.tenant));
  fmt::print(out, "size: {}\n\n", message->content.size());
  // The header section only; the body may be large or private. One header
  // line per output line (LF); tabs of folded lines stay, every other
  // control character (a bare CR or LF too) is escaped.
  std::string_view header = header_section(message->content);
  while (!header.empty()) {
    std::size_t cut = header.find("\r\n");
    out << printable(header.substr(0, cut), "\t") << "\n";
    if (cut == std::string_view::npos) break;
    header.remove_prefix(cut + 2);
  }
  return 0;
}

std::string_view header_section(std::string_view content) {
  std::size_t end = content.find("\r\n\r\n");
  return content.substr(0, end == std::string_view::npos ? content.size() : end);
}

QueueAction hold_message(const Spool& spool, const std::string& id) {
  return move_one(spool, id, {State::incoming, State::deferred}, State::hold);
}

QueueAction release_message(const Spool& spool, const std::string& id) {
  return move_one(spool, id, {State::hold}, State::incoming);
}

QueueAction retry_message(const Spool& spool, const std::string& id) {
  return move_one(spool, id, {State::deferred}, State::incoming);
}

QueueAction delete_message(const Spool& spool, const std::string& id) {
  QueueAction action;
  auto state = spool.locate(id);
  if (!state) {
    action.result = ActionResult::not_found;
    action.message = fmt::format("no message {}", shown(id));
    return action;
  }
  action.from = action.to = *state;
  if (*state == State::active) {
    action.result = ActionResult::busy;
    action.message =
        fmt::format("{} is being delivered right now; try again in a moment", shown(id));
    return action;
  }
  if (::unlink(spool.file(*state, id).c_str()) != 0) {
    action.result = errno == ENOENT ? ActionResult::changed_meanwhile : ActionResult::failed;
    action.message = fmt::format("cannot delete {}: {}", shown(id), std::strerror(errno));
  }
  return action;
}

std::size_t flush_deferred(const Spool& spool) {
  std::size_t moved = 0;
  for (const std::string& id : spool.list(State::deferred))
    if (spool.move(id, State::deferred, State::incoming) == MoveResult::moved) ++moved;
  return moved;
}

int admin_hold(const Spool& spool, const std::string& id, std::ostream& out, std::ostream& err) {
  return print_action(hold_message(spool, id), id, out, err);
}

int admin_release(const Spool& spool, const std::string& id, std::ostream& out, std::ostream& err) {
  return print_action(release_message(spool, id), id, out, err);
}

int admin_retry(const Spool& spool, const std::string& id, std::ostream& out, std::ostream& err) {
  return print_action(retry_message(spool, id), id, out, err);
}

int admin_delete(const Spool& spool, const std::string& id, std::ostream& out, std::ostream& err) {
  QueueAction action = delete_message(spool, id);
  if (action.result != ActionResult::done) {
    fmt::print(err, "queue: {}\n", action.message);
    return 1;
  }
  fmt::print(out, "{} deleted (was {})\n", shown(id), state_name(action.from));
  return 0;
}

int admin_flush(const Spool& spool, std::ostream& out) {
  fmt::print(out, "{} deferred message(s) scheduled now\n", flush_deferred(spool));
  return 0;
}

}  // namespace bh::queue
