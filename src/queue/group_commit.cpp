#include "queue/group_commit.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <boost/asio/post.hpp>

#include "util/crash_point.hpp"
#include "util/log.hpp"

namespace bh::queue {

GroupCommit::GroupCommit(const Spool& spool, std::function<void(const std::string&)> on_durable,
                         FlushTracker* flushes)
    : spool_(spool), on_durable_(std::move(on_durable)), flushes_(flushes) {}

GroupCommit::~GroupCommit() {
  stop();
}

void GroupCommit::start() {
  spool_fd_ = ::open(spool_.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  thread_ = std::thread([this] { run(); });
}

void GroupCommit::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (spool_fd_ >= 0) ::close(spool_fd_);
  spool_fd_ = -1;
}

void GroupCommit::enqueue(Job job) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      pending_.push_back(std::move(job));
      wake_.notify_one();
      return;
    }
  }
  complete(job,
           Error{"gateway is shutting down", std::make_error_code(std::errc::operation_canceled)});
}

void GroupCommit::complete(Job& job, CommitResult result) {
  auto executor = job.work.get_executor();
  boost::asio::post(executor,
                    [handler = std::move(job.handler), result = std::move(result)]() mutable {
                      std::move(handler)(std::move(result));
                    });
  job.work.reset();
}

namespace {

// One line per message: the trace's first entry, before any delivery line.
void log_message(const Envelope& e, std::size_t size, const std::string& error) {
  log::Line("message")
      .kv("id", e.queue_id)
      .kv("from", e.sender.null() ? "<>" : e.sender.text())
      .kv("rcpts", e.recipients.size())
      .kv("size", size)
      .kv("peer", e.client.ip)
      .kv("tls", e.client.tls_version.empty() ? "none" : e.client.tls_version)
      .kv("cipher", e.client.tls_cipher)
      .kv("client_cert", e.client.cert_subject.empty() ? "none" : e.client.cert_subject)
      .kv("connector", e.client.inbound_connector.empty() ? "none" : e.client.inbound_connector)
      .kv("tenant", e.tenant.empty() ? "-" : e.tenant)
      .kv("result", error.empty() ? "queued" : "failed")
      .kv("reason", error)
      .write(error.empty() ? log::Level::info : log::Level::error);
}

}  // namespace

void GroupCommit::run() {
  std::deque<Job> batch;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping, nothing left
      batch.swap(pending_);
    }
    write_batch(batch);
    batch.clear();
  }
}

// Each message is completed in its tmp/<id>.part file (a large one was
// streamed there by its session; a small one is written now), the batch is
// made durable with one flush, and only then renamed into incoming/: the
// scheduler never sees a message whose flush has not returned, and a failed
// flush leaves nothing behind. A crash after the flush and before the rename
// is repaired by recovery, which queues complete files it finds in tmp/.
void GroupCommit::write_batch(std::deque<Job>& batch) {
  // Per message: its error, with the errno as code (ENOSPC: disk full).
  std::vector<std::string> errors(batch.size());
  std::vector<int> error_numbers(batch.size(), EIO);
  std::vector<std::size_t> sizes(batch.size());
  bool any_written = false;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    Message& m = batch[i].message;
    if (!m.part.is_open()) {
      int create_error = 0;
      auto created = PartFile::create(spool_, m.envelope.queue_id, &create_error);
      if (created) {
        m.part = std::move(*created);
      } else {
        errors[i] = created.error().message;
        error_numbers[i] = create_error != 0 ? create_error : EIO;
      }
    }
    sizes[i] = m.part.body_bytes() + m.content.size();
    std::string_view content = m.content;
    std::size_t header = std::min(m.header_size, content.size());
    if (errors[i].empty()) {
      auto written = m.part.finish(m.envelope, content.substr(0, header), content.substr(header));
      if (!written) {
        errors[i] = written.error().message;
        error_numbers[i] = m.part.last_errno() != 0 ? m.part.last_errno() : EIO;
      } else {
        any_written = true;
      }
    }
    if (!errors[i].empty()) m.part.discard();
    m.content = std::string();  // free the memory early
  }
  crash_point("enqueue.written");
  // One flush for the file data and the directory entries of the batch.
  std::uint64_t flush = flushes_ ? flushes_->begin() : 0;
  bool flushed = !any_written || (spool_fd_ >= 0 && ::syncfs(spool_fd_) == 0);
  int flush_error = flushed ? 0 : (spool_fd_ < 0 ? EBADF : errno);
  if (flushes_ && any_written) flushes_->end(flush, flushed);
  if (!flushed) {
    std::string reason = system_error("syncfs " + spool_.root().string(), flush_error).message;
    log::Line("queue_error").kv("reason", reason).write(log::Level::error);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (!errors[i].empty()) continue;
      errors[i] = reason;
      error_numbers[i] = flush_error;
      batch[i].message.part.discard();  // not acknowledged, so never delivered either
    }
  }
  crash_point("enqueue.flushed");
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!errors[i].empty()) continue;
    Message& m = batch[i].message;
    const std::string& id = m.envelope.queue_id;
    if (::rename(m.part.path().c_str(), spool_.file(State::incoming, id).c_str()) != 0) {
      error_numbers[i] = errno;
      errors[i] = system_error("rename into incoming", errno).message;
      m.part.discard();
    } else {
      m.part.release();
    }
  }
  crash_point("enqueue.visible");
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const Envelope& envelope = batch[i].message.envelope;
    log_message(envelope, sizes[i], errors[i]);
    if (errors[i].empty()) on_durable_(envelope.queue_id);
    if (errors[i].empty())
      complete(batch[i], ok_status());
    else
      complete(batch[i],
               Error{errors[i], std::error_code(error_numbers[i], std::generic_category())});
  }
}

}  // namespace bh::queue
