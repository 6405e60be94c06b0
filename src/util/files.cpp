#include "util/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace bh {
namespace {

Status sync_path(const std::filesystem::path& path, int flags) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | flags);
  if (fd < 0) return system_error("open " + path.string(), errno);
  int result = ::fsync(fd);
  int error = errno;
  ::close(fd);
  if (result != 0) return system_error("fsync " + path.string(), error);
  return ok_status();
}

}  // namespace

Status sync_file(const std::filesystem::path& path) {
  return sync_path(path, 0);
}

Status sync_directory(const std::filesystem::path& path) {
  return sync_path(path, O_DIRECTORY);
}

Status write_file_durably(const std::filesystem::path& path, std::string_view bytes) {
  std::filesystem::path temporary = path.parent_path() / ("." + path.filename().string() + ".tmp");
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return system_error("create " + temporary.string(), errno);
  auto fail = [&](const std::string& what, int error) {
    if (fd >= 0) ::close(fd);
    ::unlink(temporary.c_str());
    return system_error(what + " " + temporary.string(), error);
  };
  for (std::size_t written = 0; written < bytes.size();) {
    ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status(fail("write", n < 0 ? errno : EIO));
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return Status(fail("fsync", errno));
  int closed = ::close(fd);
  fd = -1;
  if (closed != 0) return Status(fail("close", errno));
  if (::rename(temporary.c_str(), path.c_str()) != 0) return Status(fail("rename", errno));
  std::filesystem::path directory = path.parent_path();
  return sync_directory(directory.empty() ? std::filesystem::path(".") : directory);
}

Result<std::string> read_whole_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return system_error("open " + path.string(), errno);
  std::string bytes;
  struct stat info;
  if (::fstat(fd, &info) == 0) bytes.reserve(static_cast<std::size_t>(info.st_size));
  char buffer[65536];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int error = errno;
      ::close(fd);
      return system_error("read " + path.string(), error);
    }
    if (n == 0) break;
    bytes.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return bytes;
}

}  // namespace bh
