// A blocking call of the admin API (a handler, a token check) run on the
// admin worker pool, awaited by a connection's coroutine on the admin
// io_context: the I/O thread never waits for the store, so one slow call
// does not hold up the other connections. The answer is handed back to the
// coroutine's own executor; the coroutine waits for it until the request's
// deadline at most.
//
// The job is built by the caller as a named object and handed over as a
// shared_ptr, so no temporary lives across the co_await: with GCC 12, a
// lambda temporary holding the moved request, given as a co_await operand,
// reached the worker with its body string corrupted.
//
// A call whose deadline passes while it waits in the pool's queue is never
// started (not_started: it changed nothing). One that is running then goes
// on (a blocking call cannot be interrupted), and its answer is given to
// `late` on the io_context instead of the coroutine (still_running).
#pragma once

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>

#include "util/log.hpp"

namespace bh::admin {

enum class CallOutcome { answered, not_started, still_running };

template <typename T>
struct CallResult {
  CallOutcome outcome = CallOutcome::answered;
  std::optional<T> answer;  // set when answered
};

template <typename T>
struct WorkerJob {
  const char* where = "admin";  // names it in the log when an exception escapes
  std::function<T()> run;       // on a worker
  T if_thrown;                  // the answer when run throws
  // On the io_context: the answer of a call that outlived its deadline.
  std::function<void(const T&)> late;
};

namespace worker_call_detail {

// Shared by the coroutine (on the io_context) and the worker: whichever
// side ends last frees it, so neither outlives what it uses.
template <typename T>
struct Handoff {
  enum State { queued, running, abandoned };
  explicit Handoff(boost::asio::any_io_executor io) : wakeup(io) {}
  std::atomic<int> state{queued};  // queued -> running (worker) or -> abandoned (coroutine)
  // The rest is touched on the io_context only.
  boost::asio::steady_timer wakeup;  // expires at the deadline; cancelled by the answer
  std::optional<T> answer;
  bool gave_up = false;  // the coroutine went on without the answer
};

}  // namespace worker_call_detail

// Awaited (co_await) by a coroutine on the io_context, whose executor the
// answer is handed back to.
template <typename T>
boost::asio::awaitable<CallResult<T>> call_on_workers(
    boost::asio::thread_pool& workers, std::chrono::steady_clock::time_point deadline,
    std::shared_ptr<WorkerJob<T>> job) {
  namespace asio = boost::asio;
  using Handoff = worker_call_detail::Handoff<T>;
  asio::any_io_executor io = co_await asio::this_coro::executor;
  auto handoff = std::make_shared<Handoff>(io);
  handoff->wakeup.expires_at(deadline);
  asio::post(workers, [handoff, io, job] {
    int expected = Handoff::queued;
    if (!handoff->state.compare_exchange_strong(expected, Handoff::running)) return;
    std::optional<T> answer;
    try {
      answer.emplace(job->run());
    } catch (...) {
      log::LogEscaped{job->where}(std::current_exception());
      answer.emplace(job->if_thrown);
    }
    asio::post(io, [handoff, job, answer = std::move(answer)]() mutable {
      if (!handoff->gave_up) {
        handoff->answer = std::move(answer);
        handoff->wakeup.cancel();
        return;
      }
      try {
        if (job->late) job->late(*answer);
      } catch (...) {
        log::LogEscaped{job->where}(std::current_exception());
      }
    });
  });
  // Woken by the answer (cancel) or at the deadline; an answer that arrives
  // while the deadline's wake-up is already queued still counts.
  co_await handoff->wakeup.async_wait(asio::as_tuple(asio::use_awaitable));
  CallResult<T> result;
  if (handoff->answer) {
    result.answer = std::move(handoff->answer);
    co_return result;
  }
  handoff->gave_up = true;
  int expected = Handoff::queued;
  result.outcome = handoff->state.compare_exchange_strong(expected, Handoff::abandoned)
                       ? CallOutcome::not_started
                       : CallOutcome::still_running;
  co_return result;
}

}  // namespace bh::admin
