// The fixture of the bind tests (smpp_bind_test.cpp, smpp_bind_tls_test.cpp):
// a fake SMSC, an io thread for the bind, and a handler that records.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "connectors/sms/smpp_bind.hpp"
#include "tests/unit/sms/fake_smsc.hpp"

namespace bh::connectors::sms::test {

using bh::test::eventually;
using bh::test::FakeSmsc;
using namespace std::chrono_literals;

// Records what the bind reports; everything arrives on the io thread.
class Recorder final : public BindHandler {
 public:
  void bound(SmppBind&) override {
    std::lock_guard lock(mutex);
    ++bound_count;
    log.push_back("bound");
  }
  void submit_answered(SmppBind&, const smpp::SubmitAnswered& answer) override {
    std::lock_guard lock(mutex);
    answers.push_back(answer);
    log.push_back("answered");
  }
  void submit_lost(SmppBind&, const smpp::SubmitLost& lost) override {
    std::lock_guard lock(mutex);
    lost_tokens.push_back(lost.token);
    log.push_back("lost");
  }
  void delivered(SmppBind& bind, const smpp::Delivered& delivered) override {
    std::lock_guard lock(mutex);
    deliveries.push_back(delivered);
    sessions.push_back(bind.session());
    log.push_back("delivered");
  }
  void unbound(SmppBind&, const std::string& reason) override {
    std::lock_guard lock(mutex);
    ++unbound_count;
    reasons.push_back(reason);
    log.push_back("unbound");
  }

  template <typename T>
  T get(T Recorder::*member) {
    std::lock_guard lock(mutex);
    return this->*member;
  }

  std::mutex mutex;
  int bound_count = 0;
  int unbound_count = 0;
  std::vector<smpp::SubmitAnswered> answers;
  std::vector<std::uint64_t> lost_tokens;
  std::vector<smpp::Delivered> deliveries;
  std::vector<std::uint64_t> sessions;
  std::vector<std::string> reasons;
  std::vector<std::string> log;
};

struct SmppBindTest : ::testing::Test {
  FakeSmsc smsc;
  boost::asio::io_context io;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work{
      boost::asio::make_work_guard(io)};
  std::thread runner;
  Recorder recorder;
  BindSettings bind_settings;
  SmsSettings settings;
  std::unique_ptr<SmppBind> bind;

  SmppBindTest() {
    bind_settings.host = "127.0.0.1";
    bind_settings.port = smsc.port();
    bind_settings.system_id = "bridgehead";
    bind_settings.password = "secret";
    settings.name = "sms-test";
    settings.timing.connect_timeout = 2s;
    settings.timing.response_timeout = 2s;
    settings.timing.reconnect_min = 50ms;
    settings.timing.reconnect_max = 400ms;
    settings.timing.throttle_backoff = 100ms;
    settings.timing.throttle_backoff_max = 300ms;
    runner = std::thread([this] { io.run(); });
  }
  ~SmppBindTest() override {
    on_io([this] { bind.reset(); });
    work.reset();
    io.stop();
    runner.join();
  }

  // Runs f on the io thread (where the bind lives) and returns its value.
  template <typename F>
  auto on_io(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    boost::asio::post(io, [&task] { task(); });
    return result.get();
  }

  void start() {
    on_io([this] {
      bind = std::make_unique<SmppBind>(io, bind_settings, settings, 1, recorder);
      bind->start();
    });
  }
  bool ready() {
    return on_io([this] { return bind->ready(); });
  }
  std::uint32_t submit(std::uint64_t token) {
    return on_io([this, token] {
      smpp::ShortMessage message;
      message.destination = {1, 1, "491701234567"};
      message.short_message = "hello";
      return bind->submit(message, token);
    });
  }
};

}  // namespace bh::connectors::sms::test
