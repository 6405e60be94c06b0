// The admin API's hand-off of blocking calls to its workers
// (admin/worker_call.hpp): answered, never started when the deadline passes
// in the queue, still running (and answered late) when it passes during
// the call, and an exception turned into the fallback answer.
#include "admin/worker_call.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <future>
#include <optional>
#include <stdexcept>
#include <thread>

namespace bh::admin {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// A deadline far enough that it never passes during a test.
Clock::time_point never() {
  return Clock::now() + std::chrono::hours(1);
}

// A deadline that passes while the test holds the only worker.
Clock::time_point soon() {
  return Clock::now() + std::chrono::milliseconds(50);
}

std::shared_ptr<WorkerJob<int>> job(std::function<int()> run,
                                    std::function<void(const int&)> late = {}) {
  return std::make_shared<WorkerJob<int>>(
      WorkerJob<int>{"test", std::move(run), -1, std::move(late)});
}

// Runs call_on_workers on io (the test's thread) and returns its result.
CallResult<int> await_call(asio::io_context& io, asio::thread_pool& workers,
                           Clock::time_point deadline, std::shared_ptr<WorkerJob<int>> call,
                           std::function<void()> after = {}) {
  CallResult<int> result;
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        result = co_await call_on_workers(workers, deadline, call);
        done = true;
        if (after) after();
      },
      asio::detached);
  io.run();
  io.restart();
  EXPECT_TRUE(done);
  return result;
}

TEST(WorkerCall, AnswerComesBackOnTheCallersThread) {
  asio::io_context io;
  asio::thread_pool workers(2);
  std::thread::id ran_on;
  auto result = await_call(io, workers, never(), job([&] {
                             ran_on = std::this_thread::get_id();
                             return 42;
                           }));
  EXPECT_EQ(result.outcome, CallOutcome::answered);
  ASSERT_TRUE(result.answer);
  EXPECT_EQ(*result.answer, 42);
  EXPECT_NE(ran_on, std::this_thread::get_id());
  workers.join();
}

TEST(WorkerCall, CallsRunAtOnceOnSeveralWorkers) {
  // Two calls, each waiting until the other has started: only workers that
  // run both at once let them finish.
  asio::io_context io;
  asio::thread_pool workers(2);
  std::promise<void> first_started, second_started;
  auto a = job([&] {
    first_started.set_value();
    second_started.get_future().wait();
    return 1;
  });
  auto b = job([&] {
    second_started.set_value();
    first_started.get_future().wait();
    return 2;
  });
  CallResult<int> ra, rb;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { ra = co_await call_on_workers(workers, never(), a); },
      asio::detached);
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { rb = co_await call_on_workers(workers, never(), b); },
      asio::detached);
  io.run();
  ASSERT_TRUE(ra.answer && rb.answer);
  EXPECT_EQ(*ra.answer, 1);
  EXPECT_EQ(*rb.answer, 2);
  workers.join();
}

TEST(WorkerCall, DeadlinePassedInTheQueueMeansNeverStarted) {
  asio::io_context io;
  asio::thread_pool workers(1);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  asio::post(workers, [released] { released.wait(); });  // holds the one worker
  std::atomic<bool> ran = false;
  auto result = await_call(io, workers, soon(), job([&] {
                             ran = true;
                             return 1;
                           }));
  EXPECT_EQ(result.outcome, CallOutcome::not_started);
  EXPECT_FALSE(result.answer);
  release.set_value();
  workers.join();  // the queued call was given its turn: it did nothing
  EXPECT_FALSE(ran);
}

TEST(WorkerCall, DeadlinePassedDuringTheCallGivesTheAnswerToLate) {
  // The deadline must pass after the worker took the call: a machine too
  // busy to start it in time gives not_started, and a longer one is tried.
  for (auto wait : {std::chrono::milliseconds(50), std::chrono::milliseconds(500),
                    std::chrono::milliseconds(5000)}) {
    asio::io_context io;
    asio::thread_pool workers(1);
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    auto keep_running = asio::make_work_guard(io);  // until the late answer came
    std::optional<int> late_answer;
    auto call = job(
        [released] {
          released.wait();
          return 7;
        },
        [&](const int& answer) {
          late_answer = answer;
          keep_running.reset();
        });
    CallResult<int> result;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          result = co_await call_on_workers(workers, Clock::now() + wait, call);
          release.set_value();  // now let the call end
          if (result.outcome != CallOutcome::still_running) keep_running.reset();
        },
        asio::detached);
    io.run();
    workers.join();
    if (result.outcome == CallOutcome::not_started) continue;
    EXPECT_EQ(result.outcome, CallOutcome::still_running);
    EXPECT_FALSE(result.answer);
    ASSERT_TRUE(late_answer);
    EXPECT_EQ(*late_answer, 7);
    return;
  }
  FAIL() << "the worker never started the call within 5 s";
}

TEST(WorkerCall, ExceptionIsLoggedAndAnsweredWithTheFallback) {
  asio::io_context io;
  asio::thread_pool workers(1);
  auto result =
      await_call(io, workers, never(), job([]() -> int { throw std::runtime_error("boom"); }));
  EXPECT_EQ(result.outcome, CallOutcome::answered);
  ASSERT_TRUE(result.answer);
  EXPECT_EQ(*result.answer, -1);
  workers.join();
}

}  // namespace
}  // namespace bh::admin
