// One SMPP 3.4 session as an ESME (transceiver), socket-free: the I/O
// driver (smpp_bind.hpp) feeds it bytes and the time, writes what it
// returns and acts on its events. Like smtp/server/session_machine, it is
// proven by transcripts (tests/unit/sms/smpp_session_test.cpp).
//
// Life: connected() queues bind_transceiver; a bind_transceiver_resp with
// status 0 makes it bound (event Bound), any other status (or a
// generic_nack) ends it (BindFailed, then Closed). While bound, submit()
// sends submit_sm with the next sequence number (1 .. 0x7FFFFFFF, then 1
// again) while fewer than `window` submits are outstanding; each
// submit_sm_resp, or a generic_nack, matched by sequence number is a
// SubmitAnswered event. bind, enquire_link and unbind are outstanding
// too, with their deadlines, but do not count against the window.
// enquire_link goes out after enquire_link_interval without any PDU
// received. A submit without an answer within response_timeout is
// SubmitLost with timed_out (the session goes on; its sequence is kept
// until the session closes, so an answer that still comes is a late
// SubmitAnswered: the SMSC has the SMS, the owner records it rather than
// send it again). kMaxSubmitTimeouts such timeouts in a row (no submit
// answered in time between them) close the session: a black-hole bind. A
// bind, enquire_link or unbind without an answer closes the session (a
// dead link). A response that matches no request
// of ours, has the wrong command id for its sequence, or cannot be decoded
// (an unknown command id) is a ProtocolProblem and otherwise ignored. A
// known response with a flawed body (missing, an over-long or unterminated
// message_id, left-over octets: the codec decodes responses leniently) is
// still an answer, with a ProtocolProblem naming the flaw before it: a
// submit answer dropped would time out as SubmitLost, and the retry would
// send the SMS twice. Likewise a deliver_sm with a known TLV of an odd
// size is Delivered with the TLV raw, after a ProtocolProblem.
//
// Requests from the SMSC: unbind is answered, then Closed (in any state);
// alert_notification and outbind (which have no response) are ignored.
// Before the bind completed, anything else gets generic_nack with
// ESME_RINVBNDSTS. While bound: enquire_link is answered at once;
// deliver_sm becomes a Delivered event that the owner answers later with
// answer_deliver() (once the receipt or the message is durable, so the
// SMSC retries what was not kept; at most kMaxPendingDelivers unanswered,
// more get ESME_RX_T_APPN at once); anything else gets its _resp with
// ESME_RINVCMDID. While unbinding, enquire_link is answered and deliver_sm
// gets ESME_RX_T_APPN (the SMSC delivers it again after the next bind).
// A request that cannot be decoded gets its _resp (generic_nack for an
// unknown command id) with the decoder's status. Garbage that cannot be
// framed (command_length out of range) closes the session.
//
// When the session closes, every submit still outstanding is reported as
// SubmitLost (the SMSC may or may not have taken it), before Closed. After
// Closed every call is a no-op; take_output() still returns what was
// queued before (an unbind_resp, say), to be written before the close.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "connectors/sms/smpp_pdu.hpp"

namespace bh::connectors::sms::smpp {

// deliver_sm the owner has not answered yet, at most: an SMSC that sends
// faster than they are made durable gets ESME_RX_T_APPN and sends again.
inline constexpr std::size_t kMaxPendingDelivers = 1000;
// Submits timed out in a row before the session is given up (closed).
inline constexpr int kMaxSubmitTimeouts = 3;
// Timed-out submits whose late answer is still matched, at most (the oldest go).
inline constexpr std::size_t kMaxLateSubmits = 1000;

using Clock = std::chrono::steady_clock;

struct SessionSettings {
  std::string system_id;
  std::string password;
  std::string system_type;
  std::size_t window = 10;
  std::chrono::milliseconds response_timeout{30000};
  std::chrono::milliseconds enquire_link_interval{30000};
  // The first request's sequence number (1 .. 0x7FFFFFFF); tests start
  // near the wrap.
  std::uint32_t first_sequence = 1;
};

enum class SessionState { idle, binding, bound, unbinding, closed };

struct Bound {
  std::string smsc_system_id;
};
struct BindFailed {
  std::uint32_t status = 0;
  std::string text;  // "ESME_RBINDFAIL (0x0000000d)" or what else ended the bind
};
// token: the caller's id for the submit (submit()'s argument).
// status 0 with an empty message_id: accepted, but without an id (the
// SMSC sent no body, or an id too long to keep). The SMSC has the SMS:
// the owner must treat it as submitted and not send it again, but no
// receipt can ever be matched to it, so it is not tracked for one (a
// receipt with an empty id must not match it either).
struct SubmitAnswered {
  std::uint64_t token = 0;
  std::uint32_t status = 0;
  std::string message_id;  // with status 0; may be empty (see above), at most 255 octets
  // After its SubmitLost (timed_out): the answer came after response_timeout.
  bool late = false;
};
// No answer: the session closed (or the response timed out) while the
// submit was outstanding. The SMSC may have taken it.
struct SubmitLost {
  std::uint64_t token = 0;
  std::string text;
  // response_timeout passed, the session goes on: a late SubmitAnswered
  // may still follow. false: the session closed, no answer can come.
  bool timed_out = false;
};
struct Delivered {
  std::uint32_t sequence = 0;  // for answer_deliver()
  ShortMessage message;
};
// A frame that was refused or a response without a request: logged by the
// driver; the session goes on.
struct ProtocolProblem {
  std::string text;
};
struct Closed {
  std::string reason;  // "unbind from the SMSC", "no answer to enquire_link within 30 s", ...
};

using SessionEvent =
    std::variant<Bound, BindFailed, SubmitAnswered, SubmitLost, Delivered, ProtocolProblem, Closed>;

class SessionMachine {
 public:
  explicit SessionMachine(SessionSettings settings);

  SessionState state() const { return state_; }
  // Bound, and fewer than window submits outstanding.
  bool can_submit() const;
  // submit_sm without an answer yet (bind, enquire_link, unbind not counted).
  std::size_t outstanding() const { return submits_outstanding_; }

  // The TCP (or TLS) connection is up: bind_transceiver is queued.
  void connected(Clock::time_point now);
  // Octets from the SMSC, in any split.
  void received(std::span<const std::uint8_t> bytes, Clock::time_point now);
  // Time passes: enquire_link when due, response timeouts.
  void tick(Clock::time_point now);
  // Queues a submit_sm (only when can_submit()); returns its sequence
  // number. Without can_submit(): nothing is sent, SubmitLost at once, 0.
  // A message the codec refuses (a field over its maximum): SubmitAnswered
  // with ESME_RSYSERR at once and a ProtocolProblem naming the field.
  std::uint32_t submit(const ShortMessage& message, std::uint64_t token, Clock::time_point now);
  // The answer to a Delivered event: deliver_sm_resp with status (0: kept;
  // ESME_RX_T_APPN: try again later; ESME_RX_P_APPN / ESME_RINVDSTADR: refused).
  // A sequence not delivered, answered already, or from before a close: nothing.
  void answer_deliver(std::uint32_t sequence, std::uint32_t status, Clock::time_point now);
  // A graceful end: unbind, then Closed when unbind_resp comes (or after
  // response_timeout). Outstanding submits are still answered meanwhile.
  // Before the bind completed: Closed at once.
  void unbind(Clock::time_point now);
  // The connection broke (read or write error, EOF): Closed with reason.
  void connection_lost(const std::string& reason);

  // What to write to the socket, in order (taken: the next call returns
  // only what was queued since).
  std::string take_output();
  std::vector<SessionEvent> take_events();
  // When tick() must be called next; nullopt: nothing is timed.
  std::optional<Clock::time_point> next_deadline() const;

 private:
  struct Outstanding {
    std::uint32_t command_id = 0;
    std::uint64_t token = 0;  // submits only
    Clock::time_point deadline;
  };
  std::uint32_t next_sequence();
  // Queues a request of ours as outstanding (an error: not encodable).
  Status send_request(const Pdu& pdu, std::uint64_t token, Clock::time_point now);
  void send(const Pdu& pdu);
  void consume(std::span<const std::uint8_t> frame, Clock::time_point now);
  void handle_request(const Pdu& pdu);
  void handle_response(const Pdu& pdu, Clock::time_point now);
  // The answer to an SMSC request: its _resp, or generic_nack for a command without one.
  void respond(std::uint32_t command_id, std::uint32_t sequence, std::uint32_t status);
  void problem(std::string text);
  void close(const std::string& reason);

  SessionSettings settings_;
  SessionState state_ = SessionState::idle;
  std::uint32_t sequence_ = 0;
  // By sequence number: submits, bind, enquire_link, unbind.
  std::map<std::uint32_t, Outstanding> outstanding_;
  std::size_t submits_outstanding_ = 0;
  // deliver_sm sequence numbers not yet answered (an SMSC may repeat one).
  std::multiset<std::uint32_t> pending_delivers_;
  // Timed-out submits, sequence -> token, oldest first in late_order_.
  std::map<std::uint32_t, std::uint64_t> late_;
  std::deque<std::uint32_t> late_order_;
  int submit_timeouts_ = 0;  // in a row
  std::string input_;        // a partial frame, at most kMaxPduSize octets
  std::string output_;
  std::vector<SessionEvent> events_;
  Clock::time_point last_received_{};
};

}  // namespace bh::connectors::sms::smpp
