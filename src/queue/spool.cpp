#include "queue/spool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "mail/queue_id.hpp"

namespace bh::queue {

std::string_view state_name(State state) {
  switch (state) {
    case State::incoming:
      return "incoming";
    case State::active:
      return "active";
    case State::deferred:
      return "deferred";
    case State::hold:
      return "hold";
    case State::corrupt:
      return "corrupt";
  }
  return "?";
}

std::optional<State> state_from_name(std::string_view name) {
  for (State state : kAllStates)
    if (state_name(state) == name) return state;
  return std::nullopt;
}

Status Spool::create_layout() const {
  std::error_code ec;
  for (State state : kAllStates) {
    std::filesystem::create_directories(folder(state), ec);
    if (ec) return Error{"create " + folder(state).string() + ": " + ec.message()};
  }
  std::filesystem::create_directories(tmp_folder(), ec);
  if (ec) return Error{"create " + tmp_folder().string() + ": " + ec.message()};
  return ok_status();
}

std::filesystem::path Spool::folder(State state) const {
  return root_ / state_name(state);
}

std::filesystem::path Spool::file(State state, std::string_view id) const {
  return folder(state) / std::string(id);
}

MoveResult Spool::move(std::string_view id, State from, State to) const {
  if (::rename(file(from, id).c_str(), file(to, id).c_str()) == 0) return MoveResult::moved;
  return errno == ENOENT ? MoveResult::not_found : MoveResult::failed;
}

std::vector<std::string> Spool::list(State state) const {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(folder(state), ec)) {
    std::string name = entry.path().filename().string();
    if (valid_queue_id(name)) ids.push_back(std::move(name));
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::optional<State> Spool::locate(std::string_view id) const {
  if (!valid_queue_id(id)) return std::nullopt;
  for (State state : kAllStates) {
    struct stat info;
    if (::stat(file(state, id).c_str(), &info) == 0) return state;
  }
  return std::nullopt;
}

Result<QueuedMessage> Spool::load(State state, std::string_view id) const {
  auto bytes = read_whole_file(file(state, id));
  if (!bytes) return bytes.error();
  return parse_queue_file(*bytes);
}

Result<Envelope> Spool::load_envelope(State state, std::string_view id, std::size_t* size) const {
  auto bytes = read_whole_file(file(state, id));
  if (!bytes) return bytes.error();
  return parse_envelope_only(*bytes, size);
}

Status Spool::write_file(const std::filesystem::path& path, const Envelope& envelope,
                         std::string_view content) {
  StreamChecksum sum;
  sum.update(kQueueMagic);
  sum.update(content);
  std::string tail = queue_file_tail(envelope, {}, content.size(), sum);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return system_error("create " + path.string(), errno);
  iovec parts[3] = {{const_cast<char*>(kQueueMagic.data()), kQueueMagic.size()},
                    {const_cast<char*>(content.data()), content.size()},
                    {tail.data(), tail.size()}};
  if (auto written = write_all(fd, parts, 3, path); !written) {
    ::close(fd);
    ::unlink(path.c_str());
    return written;
  }
  if (::close(fd) != 0) return system_error("close " + path.string(), errno);
  return ok_status();
}

Status write_all(int fd, iovec* parts, int count, const std::filesystem::path& path) {
  std::size_t total = 0;
  for (int i = 0; i < count; ++i) total += parts[i].iov_len;
  std::size_t written = 0;
  int part = 0;
  while (written < total) {
    ssize_t n = ::writev(fd, parts + part, count - part);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return system_error("write " + path.string(), errno);
    written += static_cast<std::size_t>(n);
    // Advance past what was written (partial writes are rare but legal).
    std::size_t left = static_cast<std::size_t>(n);
    while (part < count && left >= parts[part].iov_len) left -= parts[part++].iov_len;
    if (part < count) {
      parts[part].iov_base = static_cast<char*>(parts[part].iov_base) + left;
      parts[part].iov_len -= left;
    }
  }
  return ok_status();
}

}  // namespace bh::queue
