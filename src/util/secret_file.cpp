#include "util/secret_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include <fmt/format.h>

namespace bh {

Result<std::string> read_secret_file(const std::string& path, std::string_view what,
                                     std::size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return system_error(fmt::format("{} {}", what, path), errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info;
  if (::fstat(fd, &info) != 0) return system_error(fmt::format("{} {}", what, path), errno);
  if (!S_ISREG(info.st_mode)) return Error{fmt::format("{} {}: not a regular file", what, path)};
  if ((info.st_mode & 077) != 0)
    return Error{fmt::format(
        "{} {}: permissions {:04o} are too open: it must be accessible by its owner only "
        "(chmod 600 {})",
        what, path, info.st_mode & 07777, path)};
  // One byte more than allowed: a file that grew since fstat is still caught.
  std::vector<char> buffer(max_bytes + 1);
  std::size_t size = 0;
  while (size < buffer.size()) {
    ssize_t n = ::read(fd, buffer.data() + size, buffer.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return system_error(fmt::format("read {} {}", what, path), errno);
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  if (size > max_bytes)
    return Error{fmt::format("{} {}: more than {} bytes", what, path, max_bytes)};
  return std::string(buffer.data(), size);
}

}  // namespace bh
