#include "queue/admin.hpp"

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

// Finds the message or explains why not; returns its state.
std::optional<State> find(const Spool& spool, const std::string& id, std::ostream& err) {
  auto state = spool.locate(id);
  if (!state) fmt::print(err, "queue: no message {}\n", shown(id));
  return state;
}

int move_one(const Spool& spool, const std::string& id, std::initializer_list<State> from, State to,
             std::ostream& out, std::ostream& err) {
  auto state = find(spool, id, err);
  if (!state) return 1;
  if (*state == State::active) {
    fmt::print(err, "queue: {} is being delivered right now; try again in a moment\n", shown(id));
    return 1;
  }
  if (std::find(from.begin(), from.end(), *state) == from.end()) {
    fmt::print(err, "queue: {} is {}; cannot move it to {}\n", shown(id), state_name(*state),
               state_name(to));
    return 1;
  }
  switch (spool.move(id, *state, to)) {
    case MoveResult::moved:
      fmt::print(out, "{} {} -> {}\n", shown(id), state_name(*state), state_name(to));
      return 0;
    case MoveResult::not_found:
      fmt::print(err, "queue: {} changed state meanwhile (picked up for delivery?)\n", shown(id));
      return 1;
    case MoveResult::failed:
      fmt::print(err, "queue: cannot move {}: {}\n", shown(id), std::strerror(errno));
      return 1;
  }
  return 1;
}

}  // namespace

int admin_list(const Spool& spool, std::ostream& out) {
  std::size_t count = 0;
  for (State state : kAllStates) {
    for (const std::string& id : spool.list(state)) {
      std::size_t size = 0;
      auto envelope = spool.load_envelope(state, id, &size);
      ++count;
      if (!envelope) {
        fmt::print(out, "{} {} (unreadable: {})\n", shown(id), state_name(state),
                   shown(envelope.error().message));
        continue;
      }
      std::string recipients;
      for (const Recipient& r : envelope->recipients)
        recipients += (recipients.empty() ? "" : ",") + shown(r.address.text());
      fmt::print(out, "{} {} {} {} from={} to={}\n", shown(id), state_name(state), size,
                 smtp::rfc5322_date(envelope->arrival), sender_text(*envelope), recipients);
    }
  }
  fmt::print(out, "-- {} message(s)\n", count);
  return 0;
}

int admin_show(const Spool& spool, const std::string& id, std::ostream& out, std::ostream& err) {
  auto state = find(spool, id, err);
  if (!state) return 1;
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
  std::string_view content = message->content;
  std::size_t end = content.find("\r\n\r\n");
  std::string_view header = content.substr(0, end == std::string_view::npos ? content.size() : end);
  while (!header.empty()) {
    std::size_t cut = header.find("\r\n");
    out << printable(header.substr(0, cut), "\t") << "\n";
    if (cut == std::string_view::npos) break;
    header.remove_prefix(cut + 2);
  }
  return 0;
}

int admin_hold(const Spool& spool, const std::string& id, std::ostream& out, std::ostream& err) {
  return move_one(spool, id, {State::incoming, State::deferred}, State::hold, out, err);
}

int admin_release(const Spool& spool, const std::string& id, std::ostream& out, std::ostream& err) {
  return move_one(spool, id, {State::hold}, State::incoming, out, err);
}

int admin_retry(const Spool& spool, const std::string& id, std::ostream& out, std::ostream& err) {
  return move_one(spool, id, {State::deferred}, State::incoming, out, err);
}

int admin_delete(const Spool& spool, const std::string& id, std::ostream& out, std::ostream& err) {
  auto state = find(spool, id, err);
  if (!state) return 1;
  if (*state == State::active) {
    fmt::print(err, "queue: {} is being delivered right now; try again in a moment\n", shown(id));
    return 1;
  }
  if (::unlink(spool.file(*state, id).c_str()) != 0) {
    fmt::print(err, "queue: cannot delete {}: {}\n", shown(id), std::strerror(errno));
    return 1;
  }
  fmt::print(out, "{} deleted (was {})\n", shown(id), state_name(*state));
  return 0;
}

int admin_flush(const Spool& spool, std::ostream& out) {
  std::size_t moved = 0;
  for (const std::string& id : spool.list(State::deferred))
    if (spool.move(id, State::deferred, State::incoming) == MoveResult::moved) ++moved;
  fmt::print(out, "{} deferred message(s) scheduled now\n", moved);
  return 0;
}

}  // namespace bh::queue
