// A tiny SMSC for the bind and connector tests: a TCP listener on
// 127.0.0.1 on its own thread, speaking SMPP 3.4 through the project's
// codec (smpp_pdu.hpp). It answers bind_transceiver, submit_sm (with
// scripted statuses, or not at all), enquire_link and unbind, records
// everything, sends deliver_sm on request, and can drop its connections.
// Thread-safe: the tests read its records while it runs.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "connectors/sms/smpp_pdu.hpp"

namespace bh::test {

namespace smpp = bh::connectors::sms::smpp;

// Polls until pred() or the timeout: true when pred() came true.
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

class FakeSmsc {
 public:
  using Clock = std::chrono::steady_clock;
  struct DeliverAnswer {
    std::uint32_t sequence = 0;
    std::uint32_t status = 0;
  };

  FakeSmsc() : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    port_ = acceptor_.local_endpoint().port();
    boost::asio::co_spawn(io_, accept_loop(), boost::asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~FakeSmsc() {
    boost::asio::post(io_, [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      for (auto& s : sockets_) s->close(ignored);
    });
    work_.reset();
    io_.stop();
    thread_.join();
  }
  FakeSmsc(const FakeSmsc&) = delete;
  FakeSmsc& operator=(const FakeSmsc&) = delete;

  std::uint16_t port() const { return port_; }

  // --- Behaviour (set any time).
  void set_bind_status(std::uint32_t status) {
    std::lock_guard lock(mutex_);
    bind_status_ = status;
  }
  // Statuses for the next submits, in order; then 0.
  void script_submits(std::vector<std::uint32_t> statuses) {
    std::lock_guard lock(mutex_);
    for (auto s : statuses) submit_script_.push_back(s);
  }
  // Submits are recorded but not answered.
  // The message ids of the next accepted submits, in order, instead of
  // "m1", "m2", ...; "" answers status 0 without an id.
  void script_message_ids(std::vector<std::string> ids) {
    std::lock_guard lock(mutex_);
    id_script_.assign(ids.begin(), ids.end());
  }
  void hold_submits(bool hold) {
    std::lock_guard lock(mutex_);
    hold_submits_ = hold;
  }
  // Called on the SMSC's thread when a deliver_sm_resp arrives.
  void on_deliver_answer(std::function<void(const DeliverAnswer&)> hook) {
    std::lock_guard lock(mutex_);
    deliver_hook_ = std::move(hook);
  }

  // --- Actions.
  // Closes every connection (the SMSC went away; it keeps listening).
  void drop() {
    run_here([this] {
      boost::system::error_code ignored;
      for (auto& s : sockets_) s->close(ignored);
    });
  }
  // Answers the submits held so far (hold_submits) with status 0 and the
  // next message ids, over the connections they came on, if still open.
  void answer_held() {
    run_here([this] {
      std::unique_lock lock(mutex_);
      auto held = std::move(held_);
      held_.clear();
      std::vector<std::pair<std::shared_ptr<Socket>, smpp::Pdu>> answers;
      for (auto& [socket, pdu] : held) {
        std::string id = "m" + std::to_string(++next_message_id_);
        message_ids_.push_back(id);
        answers.emplace_back(socket, smpp::response_to(pdu, 0, smpp::MessageIdResponse{id}));
      }
      lock.unlock();
      for (auto& [socket, answer] : answers)
        if (std::find(sockets_.begin(), sockets_.end(), socket) != sockets_.end())
          write(*socket, answer);
    });
  }
  // A deliver_sm over the newest connection; its sequence number (`with`:
  // that one, say one an earlier connection used; 0: the next).
  std::uint32_t send_deliver(const smpp::ShortMessage& message, std::uint32_t with = 0) {
    std::uint32_t sequence = 0;
    run_here([&] {
      if (sockets_.empty()) return;
      sequence = with != 0 ? with : ++sequence_;
      smpp::Pdu pdu{smpp::command::deliver_sm, 0, sequence, message};
      write(*sockets_.back(), pdu);
    });
    return sequence;
  }

  // --- Records.
  int binds() const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(bind_times_.size());
  }
  std::vector<Clock::time_point> bind_times() const {
    std::lock_guard lock(mutex_);
    return bind_times_;
  }
  std::vector<smpp::ShortMessage> submits() const {
    std::lock_guard lock(mutex_);
    return submits_;
  }
  std::vector<std::string> message_ids() const {
    std::lock_guard lock(mutex_);
    return message_ids_;
  }
  std::vector<DeliverAnswer> deliver_answers() const {
    std::lock_guard lock(mutex_);
    return deliver_answers_;
  }
  int unbinds() const {
    std::lock_guard lock(mutex_);
    return unbinds_;
  }
  int connections() const {
    std::lock_guard lock(mutex_);
    return connections_;
  }
  std::string last_system_id() const {
    std::lock_guard lock(mutex_);
    return last_system_id_;
  }

 private:
  using Socket = boost::asio::ip::tcp::socket;

  // Runs f on the SMSC's thread and waits for it.
  void run_here(std::function<void()> f) {
    std::promise<void> done;
    boost::asio::post(io_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  void write(Socket& socket, const smpp::Pdu& pdu) {
    auto bytes = smpp::encode(pdu);
    ASSERT_TRUE(bytes) << bytes.error().message;
    boost::system::error_code ignored;
    boost::asio::write(socket, boost::asio::buffer(*bytes), ignored);
  }

  boost::asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] =
          co_await acceptor_.async_accept(boost::asio::as_tuple(boost::asio::use_awaitable));
      if (ec) co_return;
      auto shared = std::make_shared<Socket>(std::move(socket));
      sockets_.push_back(shared);
      {
        std::lock_guard lock(mutex_);
        ++connections_;
      }
      boost::asio::co_spawn(io_, session(shared), boost::asio::detached);
    }
  }

  boost::asio::awaitable<void> session(std::shared_ptr<Socket> socket) {
    std::string buffered;
    char chunk[4096];
    for (;;) {
      auto [ec, n] = co_await socket->async_read_some(
          boost::asio::buffer(chunk), boost::asio::as_tuple(boost::asio::use_awaitable));
      if (ec) break;
      buffered.append(chunk, n);
      for (;;) {
        auto octets = std::span<const std::uint8_t>(
            reinterpret_cast<const std::uint8_t*>(buffered.data()), buffered.size());
        auto length = smpp::frame_length(octets);
        if (!length || !length->has_value() || buffered.size() < **length) break;
        auto decoded = smpp::decode(octets.first(**length));
        buffered.erase(0, **length);
        if (auto* pdu = std::get_if<smpp::Pdu>(&decoded)) handle(*socket, *pdu);
      }
    }
    boost::system::error_code ignored;
    socket->close(ignored);
    std::erase(sockets_, socket);
  }

  void handle(Socket& socket, const smpp::Pdu& pdu) {
    std::unique_lock lock(mutex_);
    switch (pdu.command_id) {
      case smpp::command::bind_transceiver: {
        bind_times_.push_back(Clock::now());
        if (auto* bind = std::get_if<smpp::Bind>(&pdu.body)) last_system_id_ = bind->system_id;
        std::uint32_t status = bind_status_;
        lock.unlock();
        write(socket, smpp::response_to(pdu, status, smpp::BindResponse{"fakesmsc", {}}));
        return;
      }
      case smpp::command::submit_sm: {
        if (auto* message = std::get_if<smpp::ShortMessage>(&pdu.body))
          submits_.push_back(*message);
        if (hold_submits_) {
          for (auto& open : sockets_)
            if (open.get() == &socket) held_.emplace_back(open, pdu);
          return;
        }
        std::uint32_t status = 0;
        if (!submit_script_.empty()) {
          status = submit_script_.front();
          submit_script_.pop_front();
        }
        smpp::Body body = smpp::Empty{};
        if (status == 0) {
          std::string id = "m" + std::to_string(++next_message_id_);
          if (!id_script_.empty()) {
            id = id_script_.front();
            id_script_.pop_front();
          }
          message_ids_.push_back(id);
          body = smpp::MessageIdResponse{id};
        }
        lock.unlock();
        write(socket, smpp::response_to(pdu, status, body));
        return;
      }
      case smpp::command::enquire_link:
        lock.unlock();
        write(socket, smpp::response_to(pdu, 0));
        return;
      case smpp::command::unbind: {
        ++unbinds_;
        lock.unlock();
        write(socket, smpp::response_to(pdu, 0));
        boost::system::error_code ignored;
        socket.close(ignored);
        return;
      }
      case smpp::command::deliver_sm | smpp::command::response_bit: {
        DeliverAnswer answer{pdu.sequence, pdu.command_status};
        deliver_answers_.push_back(answer);
        auto hook = deliver_hook_;
        lock.unlock();
        if (hook) hook(answer);
        return;
      }
      default:
        return;
    }
  }

  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
      boost::asio::make_work_guard(io_)};
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::vector<std::shared_ptr<Socket>> sockets_;  // SMSC thread only
  std::uint32_t sequence_ = 0;                    // SMSC thread only

  mutable std::mutex mutex_;
  std::uint32_t bind_status_ = 0;
  std::deque<std::uint32_t> submit_script_;
  std::deque<std::string> id_script_;
  bool hold_submits_ = false;
  std::vector<std::pair<std::shared_ptr<Socket>, smpp::Pdu>> held_;  // SMSC thread
  std::function<void(const DeliverAnswer&)> deliver_hook_;
  std::vector<Clock::time_point> bind_times_;
  std::string last_system_id_;
  std::vector<smpp::ShortMessage> submits_;
  std::vector<std::string> message_ids_;
  std::vector<DeliverAnswer> deliver_answers_;
  int unbinds_ = 0;
  int connections_ = 0;
  int next_message_id_ = 0;
};

}  // namespace bh::test
