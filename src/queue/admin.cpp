#include "queue/admin.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "smtp/server/received_header.hpp"

namespace bh::queue {
namespace {

std::string sender_text(const Envelope& e) {
  return e.sender.null() ? "<>" : e.sender.text();
}

// Finds the message or explains why not; returns its state.
std::optional<State> find(const Spool& spool, const std::string& id, std::ostream& err) {
  auto state = spool.locate(id);
  if (!state) fmt::print(err, "queue: no message {}\n", id);
  return state;
}

int move_one(const Spool& spool, const std::string& id, std::initializer_list<State> from, State to,
             std::ostream& out, std::ostream& err) {
  auto state = find(spool, id, err);
  if (!state) return 1;
  if (*state == State::active) {
    fmt::print(err, "queue: {} is being delivered right now; try again in a moment\n", id);
    return 1;
  }
  if (std::find(from.begin(), from.end(), *state) == from.end()) {
    fmt::print(err, "queue: {} is {}; cannot move it to {}\n", id, state_name(*state),
               state_name(to));
    return 1;
  }
  switch (spool.move(id, *state, to)) {
    case MoveResult::moved:
      fmt::print(out, "{} {} -> {}\n", id, state_name(*state), state_name(to));
      return 0;
    case MoveResult::not_found:
      fmt::print(err, "queue: {} changed state meanwhile (picked up for delivery?)\n", id);
      return 1;
    case MoveResult::failed:
      fmt::print(err, "queue: cannot move {}: {}\n", id, std::strerror(errno));
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
        fmt::print(out, "{} {} (unreadable: {})\n", id, state_name(state),
                   envelope.error().message);
        continue;
      }
      std::string recipients;
      for (const Recipient& r : envelope->recipients)
        recipients += (recipients.empty() ? "" : ",") + r.address.text();
      fmt::print(out, "{} {} {} {} from={} to={}\n", id, state_name(state), size,
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
    fmt::print(err, "queue: {} cannot be read: {}\n", id, message.error().message);
    return 1;
  }
  const Envelope& e = message->envelope;
  fmt::print(out, "id: {}\nstate: {}\narrival: {}\nsender: {}\n", e.queue_id, state_name(*state),
             smtp::rfc5322_date(e.arrival), sender_text(e));
  fmt::print(out, "ret: {}\nenvid: {}\nsmtputf8: {}\n",
             e.ret == DsnReturn::full      ? "FULL"
             : e.ret == DsnReturn::headers ? "HDRS"
                                           : "-",
             e.envid, e.smtputf8 ? "yes" : "no");
  for (const Recipient& r : e.recipients) {
    std::string notify;
    for (auto [flag, name] : {std::pair{notify_never, "NEVER"},
                              {notify_success, "SUCCESS"},
                              {notify_failure, "FAILURE"},
                              {notify_delay, "DELAY"}})
      if (r.notify & flag) notify += (notify.empty() ? "" : ",") + std::string(name);
    fmt::print(out, "recipient: {} notify={} orcpt={}\n", r.address.text(),
               notify.empty() ? "-" : notify, r.orcpt.empty() ? "-" : r.orcpt);
  }
  fmt::print(
      out, "client: {} port {} helo {}\ntls: {} {}\nclient certificate: {} {}\n", e.client.ip,
      e.client.port, e.client.helo, e.client.tls_version.empty() ? "none" : e.client.tls_version,
      e.client.tls_cipher, e.client.cert_subject.empty() ? "none" : e.client.cert_subject,
      e.client.cert_subject.empty() ? ""
                                    : (e.client.cert_verified ? "(verified)" : "(not verified)"));
  fmt::print(out, "inbound connector: {}\ntenant: {}\n",
             e.client.inbound_connector.empty() ? "none" : e.client.inbound_connector,
             e.tenant.empty() ? "-" : e.tenant);
  fmt::print(out, "size: {}\n\n", message->content.size());
  // The header section only; the body may be large or private.
  std::string_view content = message->content;
  std::size_t end = content.find("\r\n\r\n");
  out << content.substr(0, end == std::string_view::npos ? content.size() : end + 2);
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
    fmt::print(err, "queue: {} is being delivered right now; try again in a moment\n", id);
    return 1;
  }
  if (::unlink(spool.file(*state, id).c_str()) != 0) {
    fmt::print(err, "queue: cannot delete {}: {}\n", id, std::strerror(errno));
    return 1;
  }
  fmt::print(out, "{} deleted (was {})\n", id, state_name(*state));
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
