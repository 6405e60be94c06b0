// The I/O driver of one SMPP bind (smpp_session.hpp is the protocol): a
// coroutine on the connector's io_context that connects (TCP, or TLS with
// the SMSC's certificate verified), runs the session machine, writes what
// it queues, ticks it at its deadlines, and reconnects after a lost bind
// with a doubling backoff (reconnect_min .. reconnect_max). A bind that is
// refused (ESME_RBINDFAIL, a wrong password) is retried at reconnect_max
// and logged as an error each time. Everything runs on the io_context's one
// thread; the handler is called there. Keeps Asio out of this header.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "connectors/sms/smpp_session.hpp"
#include "connectors/sms/sms_settings.hpp"

namespace boost::asio {
class io_context;
}

namespace bh::connectors::sms {

class SmppBind;

// What the connector hears from a bind (on the io thread).
class BindHandler {
 public:
  virtual ~BindHandler() = default;
  // Bound: submits may start.
  virtual void bound(SmppBind& bind) = 0;
  // A submit_sm answered (or lost with the session).
  virtual void submit_answered(SmppBind& bind, const smpp::SubmitAnswered& answer) = 0;
  virtual void submit_lost(SmppBind& bind, const smpp::SubmitLost& lost) = 0;
  // A deliver_sm: a receipt or an incoming SMS. The handler answers it with
  // bind.answer_deliver(sequence, status), at once or later (the same bind
  // object; when the session closed meanwhile the answer is dropped and the
  // SMSC sends it again).
  virtual void delivered(SmppBind& bind, const smpp::Delivered& delivered) = 0;
  // The bind went down (before reconnecting): submits in flight were
  // reported lost before this.
  virtual void unbound(SmppBind& bind, const std::string& reason) = 0;
};

// stop(): how much longer than response_timeout (its unbind's own limit) a
// bind may take before it closes anyway. The connector's stop() waits for
// its binds twice this beyond response_timeout, so that the binds' own
// limit always comes first.
inline constexpr auto kStopSlack = std::chrono::seconds(1);

class SmppBind {
 public:
  // index: the bind's number in the connector (for logs: "sms-out/1").
  SmppBind(boost::asio::io_context& io, const BindSettings& settings, const SmsSettings& connector,
           int index, BindHandler& handler);
  ~SmppBind();
  SmppBind(const SmppBind&) = delete;
  SmppBind& operator=(const SmppBind&) = delete;

  // Starts the connect loop (on the io thread).
  void start();
  // Unbinds gracefully and stops reconnecting; done() once closed (or
  // after response_timeout). Call on the io thread.
  void stop(std::function<void()> done);

  // Bound, window not full, not throttled: submit() may be called.
  bool ready() const;
  // Bound (ready or busy: window full, throttled).
  bool bound() const;
  // After ESME_RTHROTTLED / ESME_RMSGQFUL: no submit until the backoff
  // (throttle_backoff, doubling up to throttle_backoff_max; reset by the
  // next status 0) has passed; the connector calls this.
  void throttled();
  // When a throttled bind is ready again (the connector retries then).
  smpp::Clock::time_point throttled_until() const;
  // Returns the sequence number; the answer comes through the handler.
  std::uint32_t submit(const smpp::ShortMessage& message, std::uint64_t token);
  void answer_deliver(std::uint32_t sequence, std::uint32_t status);
  // The same, for a deliver_sm of connection `session` (session() when it
  // came): dropped when that connection is gone, so a late answer never
  // acknowledges another session's deliver_sm with the same sequence.
  void answer_deliver(std::uint32_t sequence, std::uint32_t status, std::uint64_t session);
  // The current connection's number (1, 2, ... for each connect; 0 none).
  std::uint64_t session() const;

  int index() const { return index_; }
  const std::string& name() const { return name_; }  // "sms-out/1 127.0.0.1:2775"

 private:
  struct State;  // the socket, the machine, timers (smpp_bind.cpp)
  std::shared_ptr<State> state_;
  int index_ = 0;
  std::string name_;
};

}  // namespace bh::connectors::sms
