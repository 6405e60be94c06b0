// Durable intake: sessions hand over finished messages; one writer thread
// writes every message waiting at that moment, then makes the whole batch
// durable with a single syncfs(2) of the spool's file system. Sessions get
// their reply (and the client its 250) only after that flush returned, so
// concurrent sessions share one disk flush instead of paying one each.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "queue/flush_tracker.hpp"
#include "queue/part_file.hpp"
#include "queue/spool.hpp"

namespace bh::queue {

// Whether a message was made durable; the error's code tells a full disk
// (452 4.3.1) from other write errors (451 4.3.0).
using CommitResult = Status;

class GroupCommit {
 public:
  // on_durable runs on the writer thread for each message now in incoming/.
  // flushes (optional) counts every syncfs, for the done log to share.
  GroupCommit(const Spool& spool, std::function<void(const std::string&)> on_durable,
              FlushTracker* flushes = nullptr);
  ~GroupCommit();

  const Spool& spool() const { return spool_; }

  void start();
  void stop();  // finishes the batch in hand; later submissions fail

  // What a session hands over: the header and the body's tail in content
  // (the first header_size bytes are the header), and the body's start
  // already on disk in part when the message was large (else part is empty).
  struct Message {
    Envelope envelope;
    std::string content;
    std::size_t header_size = 0;
    PartFile part;
  };

  // Completes with ok_status() once the message is durable in incoming/.
  template <typename Token>
  auto async_commit(Message message, Token&& token) {
    return boost::asio::async_initiate<Token, void(CommitResult)>(
        [this](auto handler, Message message) {
          auto executor = boost::asio::get_associated_executor(handler);
          enqueue(Job{std::move(message),
                      boost::asio::any_completion_handler<void(CommitResult)>(std::move(handler)),
                      boost::asio::make_work_guard(boost::asio::any_io_executor(executor))});
        },
        token, std::move(message));
  }

 private:
  struct Job {
    Message message;
    boost::asio::any_completion_handler<void(CommitResult)> handler;
    boost::asio::executor_work_guard<boost::asio::any_io_executor> work;
  };

  void enqueue(Job job);
  void run();
  void write_batch(std::deque<Job>& batch);
  static void complete(Job& job, CommitResult result);

  const Spool& spool_;
  std::function<void(const std::string&)> on_durable_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> pending_;
  bool stopping_ = false;
  std::thread thread_;
  int spool_fd_ = -1;
  FlushTracker* flushes_ = nullptr;
};

}  // namespace bh::queue
