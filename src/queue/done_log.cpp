#include "queue/done_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <future>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "queue/spool.hpp"
#include "util/crash_point.hpp"
#include "util/files.hpp"
#include "util/log.hpp"

namespace bh::queue {
namespace {

// A log file beyond this size is replaced by one with the live records only.
constexpr std::size_t kRotateBytes = 16u << 20;
// The shortest time between two flushes of the log.
constexpr auto kFlushInterval = std::chrono::milliseconds(10);

std::uint32_t line_hash(std::string_view text) {
  std::uint32_t hash = 2166136261u;  // FNV-1a: catches torn or mixed-up lines
  for (unsigned char c : text) hash = (hash ^ c) * 16777619u;
  return hash;
}

std::vector<std::string_view> split(std::string_view text) {
  std::vector<std::string_view> fields;
  while (!text.empty()) {
    std::size_t space = text.find(' ');
    fields.push_back(text.substr(0, space));
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  return fields;
}

template <typename Number>
bool number(std::string_view text, Number& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() && !text.empty();
}

std::uint64_t sequence_of(const std::filesystem::path& path) {
  std::uint64_t value = 0;
  std::string stem = path.stem().string();
  return number(std::string_view(stem), value) ? value : 0;
}

}  // namespace

std::string format_done_record(const DoneRecord& r) {
  std::string body =
      r.dsn_kind.empty()
          ? fmt::format("R {} {} {} {} {} {} {} {}", encode_field(r.id), r.generation, r.index,
                        r.result.delivered ? "delivered" : "bounced", encode_field(r.result.status),
                        encode_field(r.result.remote_mta), encode_field(r.result.success_action),
                        encode_field(r.result.diagnostic)) +
                // Only when not "smtp": records stay as older versions wrote them.
                (r.result.diagnostic_type == "smtp" ? std::string()
                                                    : " " + encode_field(r.result.diagnostic_type))
          : fmt::format(
                "N {} {} {} {} {}", encode_field(r.id), r.generation, encode_field(r.dsn_kind),
                encode_field(r.dsn_id),
                r.covers.empty() ? std::string("-") : fmt::format("{}", fmt::join(r.covers, ",")));
  return fmt::format("{} {:08x}\n", body, line_hash(body));
}

std::optional<DoneRecord> parse_done_record(std::string_view line) {
  std::size_t last = line.rfind(' ');
  if (last == std::string_view::npos) return std::nullopt;
  std::string_view body = line.substr(0, last);
  std::uint32_t hash = 0;
  auto [end, error] = std::from_chars(line.data() + last + 1, line.data() + line.size(), hash, 16);
  if (error != std::errc() || end != line.data() + line.size() || hash != line_hash(body))
    return std::nullopt;
  auto f = split(body);
  DoneRecord r;
  auto text = [](std::string_view field, std::string& out) {
    auto decoded = decode_field(field);
    if (decoded) out = std::move(*decoded);
    return decoded.has_value();
  };
  if ((f.size() == 9 || f.size() == 10) && f[0] == "R") {
    bool good = text(f[1], r.id) && number(f[2], r.generation) && number(f[3], r.index) &&
                (f[4] == "delivered" || f[4] == "bounced") && text(f[5], r.result.status) &&
                text(f[6], r.result.remote_mta) && text(f[7], r.result.success_action) &&
                text(f[8], r.result.diagnostic) &&
                (f.size() == 9 ||
                 (text(f[9], r.result.diagnostic_type) && !r.result.diagnostic_type.empty()));
    r.result.delivered = f[4] == "delivered";
    return good ? std::optional(r) : std::nullopt;
  }
  if (f.size() == 6 && f[0] == "N") {
    bool good = text(f[1], r.id) && number(f[2], r.generation) && text(f[3], r.dsn_kind) &&
                text(f[4], r.dsn_id) && !r.dsn_kind.empty();
    std::string_view list = f[5] == "-" ? std::string_view() : f[5];
    while (good && !list.empty()) {
      std::size_t comma = list.find(',');
      std::size_t index = 0;
      good = number(list.substr(0, comma), index);
      r.covers.push_back(index);
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
    return good ? std::optional(r) : std::nullopt;
  }
  return std::nullopt;
}

DoneLog::DoneLog(std::filesystem::path directory, FlushTracker* flushes)
    : directory_(std::move(directory)), flushes_(flushes) {}

DoneLog::~DoneLog() {
  stop();
  if (fd_ >= 0) ::close(fd_);
}

void DoneLog::apply(const DoneRecord& r) {
  Entry& entry = entries_[r.id];
  if (r.generation < entry.generation) return;  // obsolete: the file was rewritten since
  if (r.generation > entry.generation) entry = Entry{r.generation, {}};
  if (r.dsn_kind.empty())
    entry.marks.results[r.index] = r.result;
  else
    entry.marks.dsns[r.dsn_id] = DsnMark{r.dsn_kind, r.covers};
}

Status DoneLog::open(const Spool& spool) {
  std::error_code ec;
  std::filesystem::create_directories(directory_, ec);
  if (ec) return Error{"create " + directory_.string() + ": " + ec.message()};
  std::vector<std::filesystem::path> old_files;
  for (const auto& item : std::filesystem::directory_iterator(directory_, ec))
    if (item.path().extension() == ".log") old_files.push_back(item.path());
  std::sort(old_files.begin(), old_files.end(),
            [](const auto& a, const auto& b) { return sequence_of(a) < sequence_of(b); });
  std::size_t damaged = 0;
  for (const auto& path : old_files) {
    sequence_ = std::max(sequence_, sequence_of(path));
    auto bytes = read_whole_file(path);
    if (!bytes) return bytes.error();
    std::string_view rest = *bytes;
    while (!rest.empty()) {
      std::size_t newline = rest.find('\n');
      if (newline == std::string_view::npos) {  // torn last line: never acknowledged
        ++damaged;
        break;
      }
      if (auto record = parse_done_record(rest.substr(0, newline)))
        apply(*record);
      else
        ++damaged;
      rest.remove_prefix(newline + 1);
    }
  }
  // Keep what still describes a queued message at its current generation.
  for (auto it = entries_.begin(); it != entries_.end();) {
    std::optional<State> state = spool.locate(it->first);
    std::size_t size = 0;
    auto envelope =
        state ? spool.load_envelope(*state, it->first, &size) : Result<Envelope>(Error{});
    if (!envelope || envelope->generation != it->second.generation)
      it = entries_.erase(it);
    else
      ++it;
  }
  if (damaged > 0) log::Line("done_log").kv("damaged_lines", damaged).write(log::Level::warn);
  spool_root_ = spool.root();
  if (auto rotated = rotate(); !rotated) return rotated;
  return ok_status();
}

Status DoneLog::write_all(const std::string& bytes, bool share_flush) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return system_error("write " + current_.string(), errno);
    done += static_cast<std::size_t>(n);
  }
  written_ += bytes.size();
  // Under intake load a syncfs is never far off, and it covers this write.
  if (share_flush && flushes_ != nullptr &&
      flushes_->wait_beyond(flushes_->started(), kFlushInterval))
    return ok_status();
  if (::fdatasync(fd_) != 0) return system_error("fdatasync " + current_.string(), errno);
  return ok_status();
}

Status DoneLog::rotate() {
  std::vector<std::filesystem::path> old_files;
  std::error_code ec;
  for (const auto& item : std::filesystem::directory_iterator(directory_, ec))
    if (item.path().extension() == ".log") old_files.push_back(item.path());
  auto next = directory_ / fmt::format("{:012}.log", ++sequence_);
  int fd = ::open(next.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return system_error("create " + next.string(), errno);
  std::string live;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, entry] : entries_) {
      for (const auto& [index, result] : entry.marks.results)
        live += format_done_record({id, entry.generation, index, result, "", ""});
      for (const auto& [dsn, mark] : entry.marks.dsns)
        live += format_done_record({id, entry.generation, 0, {}, mark.kind, dsn, mark.covers});
    }
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  current_ = next;
  written_ = 0;
  if (auto w = write_all(live); !w) return w;
  if (auto s = sync_directory(directory_); !s) return s;
  // Finished messages have no records in the new file: their renames and
  // unlinks must be durable before the old records go.
  int root = ::open(spool_root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  bool synced = root >= 0 && ::syncfs(root) == 0;
  if (root >= 0) ::close(root);
  if (!synced) return system_error("syncfs " + spool_root_.string(), errno);
  for (const auto& path : old_files) std::filesystem::remove(path, ec);
  return sync_directory(directory_);
}

void DoneLog::start() {
  thread_ = std::thread([this] { run(); });
}

void DoneLog::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DoneLog::append(std::vector<DoneRecord> records, std::function<void(Status)> done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      pending_.push_back(Job{std::move(records), std::move(done)});
      wake_.notify_one();
      return;
    }
  }
  done(Error{"done log stopped"});
}

Status DoneLog::append_and_wait(std::vector<DoneRecord> records) {
  std::promise<Status> promise;
  auto future = promise.get_future();
  append(std::move(records), [&promise](Status status) { promise.set_value(std::move(status)); });
  return future.get();
}

void DoneLog::run() {
  std::deque<Job> batch;
  auto last_flush = std::chrono::steady_clock::now() - kFlushInterval;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;
      // At most one flush per interval: results that arrive meanwhile share
      // it (each flush is a journal commit that intake's flushes wait behind).
      wake_.wait_until(lock, last_flush + kFlushInterval, [this] { return stopping_; });
      batch.swap(pending_);
    }
    last_flush = std::chrono::steady_clock::now();
    std::string bytes;
    for (const Job& job : batch)
      for (const DoneRecord& r : job.records) bytes += format_done_record(r);
    Status written = fd_ < 0 ? Status(Error{"done log not open"}) : write_all(bytes, true);
    if (!written)
      log::Line("queue_error").kv("reason", written.error().message).write(log::Level::error);
    if (written) {
      std::lock_guard lock(mutex_);
      for (const Job& job : batch)
        for (const DoneRecord& r : job.records) apply(r);
    }
    if (std::any_of(batch.begin(), batch.end(), [](const Job& job) {
          return std::any_of(job.records.begin(), job.records.end(),
                             [](const DoneRecord& r) { return r.dsn_kind.empty(); });
        }))
      crash_point("outcome.result_marked");
    for (Job& job : batch) job.done(written);
    batch.clear();
    // After a failed write the file may end in a fragment that would swallow
    // the next record: continue in a new file (the live records are carried).
    if (!written || written_ > kRotateBytes) {
      if (auto rotated = rotate(); !rotated)
        log::Line("queue_error").kv("reason", rotated.error().message).write(log::Level::error);
    }
  }
}

Marks DoneLog::marks(const std::string& id, std::uint32_t generation) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.generation != generation) return {};
  return it->second.marks;
}

void DoneLog::forget(const std::string& id) {
  std::lock_guard lock(mutex_);
  entries_.erase(id);
}

std::set<std::string> DoneLog::committed_dsns() const {
  std::lock_guard lock(mutex_);
  std::set<std::string> ids;
  for (const auto& [id, entry] : entries_)
    for (const auto& [dsn, mark] : entry.marks.dsns) ids.insert(dsn);
  return ids;
}

}  // namespace bh::queue
