#include "admin/token_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

namespace bh::admin {

Status ensure_token_file(TokenStore& tokens, const std::string& path, bool* created) {
  *created = false;
  namespace fs = std::filesystem;
  fs::path file(path);
  if (file.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    if (ec) return Error{"create directory " + file.parent_path().string() + ": " + ec.message()};
  }
  // O_EXCL: of several gateways started at once only one makes the token.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST) return ok_status();
  if (fd < 0) return system_error("create " + path, errno);
  auto made = tokens.create(Scope::admin, "", "made at the first start (" + path + ")");
  Status result = ok_status();
  if (!made) {
    result = made.error();
  } else {
    std::string text = made->text + "\n";
    const char* data = text.data();
    std::size_t left = text.size();
    while (left > 0 && result) {
      ssize_t n = ::write(fd, data, left);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        result = system_error("write " + path, errno);
        break;
      }
      data += n;
      left -= static_cast<std::size_t>(n);
    }
    if (result && ::fsync(fd) != 0) result = system_error("fsync " + path, errno);
    if (!result) (void)tokens.revoke(made->info.id);
  }
  ::close(fd);
  if (!result) {
    ::unlink(path.c_str());
    return result;
  }
  *created = true;
  return ok_status();
}

}  // namespace bh::admin
