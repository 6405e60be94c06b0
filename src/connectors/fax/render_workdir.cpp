#include "connectors/fax/render_workdir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace bh::connectors::fax {

Result<WorkDir> WorkDir::create(const SandboxIdentity& identity) {
  std::error_code ec;
  std::filesystem::path base = std::filesystem::temp_directory_path(ec);
  if (ec) base = "/tmp";
  std::string pattern = (base / "bridgehead-render-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return system_error("mkdtemp " + pattern, errno);
  WorkDir dir(pattern);
  if (Status prepared = prepare_work_dir(dir.path_, identity); !prepared) {
    return prepared.error();
  }
  return dir;
}

Status copy_out(const std::filesystem::path& from, const std::filesystem::path& to,
                std::uint64_t max_bytes) {
  const int in = ::open(from.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (in < 0) return system_error("open " + from.string(), errno);
  struct stat st {};
  if (::fstat(in, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
      static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    ::close(in);
    return Error{from.string() + " is not a plain file of the render helper"};
  }
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (out < 0) {
    const int err = errno;
    ::close(in);
    return system_error("create " + to.string(), err);
  }
  char buffer[65536];
  std::uint64_t copied = 0;
  Status status = ok_status();
  while (true) {
    const ssize_t n = ::read(in, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = system_error("read " + from.string(), errno);
      break;
    }
    if (n == 0) break;
    copied += static_cast<std::uint64_t>(n);
    if (copied > max_bytes) {
      status = Error{from.string() + " grew past its limit"};
      break;
    }
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(out, buffer + done, static_cast<std::size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        status = system_error("write " + to.string(), errno);
        break;
      }
      done += w;
    }
    if (!status) break;
  }
  ::close(in);
  if (::close(out) != 0 && status) status = system_error("close " + to.string(), errno);
  if (!status) ::unlink(to.c_str());
  return status;
}

}  // namespace bh::connectors::fax
