#include "server/stamp_keys.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <vector>

#include <fmt/format.h>
#include <openssl/rand.h>

#include "server/config_reader.hpp"
#include "util/files.hpp"
#include "util/printable.hpp"
#include "util/secret_file.hpp"

namespace bh {
namespace {

// Closes a descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Removes a temporary file when it goes out of scope.
struct TempPath {
  std::string path;
  ~TempPath() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

Status write_all(int fd, const unsigned char* data, std::size_t size, const std::string& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return system_error("write " + path, errno);
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return ok_status();
}

// Creates path with fresh random bytes unless it exists. The key is
// complete and on disk in a temporary file before link(2) gives it its
// name; link, unlike rename, never replaces a file, so when gateways start
// at once the first key stays and the others use it.
Result<bool> create_key_file(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path final_path(path);
  if (final_path.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(final_path.parent_path(), ec);
    if (ec)
      return Error{"create directory " + final_path.parent_path().string() + ": " + ec.message()};
  }
  unsigned char key[kGeneratedStampKeyBytes];
  if (RAND_bytes(key, sizeof key) != 1) return Error{"cannot generate random bytes for " + path};
  TempPath temp{path + ".tmp.XXXXXX"};
  Fd file{::mkstemp(temp.path.data())};  // mode 0600
  if (file.fd < 0) {
    int error = errno;
    temp.path.clear();
    return system_error("create a temporary file for " + path, error);
  }
  if (::fchmod(file.fd, 0600) != 0) return system_error("chmod " + temp.path, errno);
  if (auto written = write_all(file.fd, key, sizeof key, temp.path); !written)
    return written.error();
  if (::fsync(file.fd) != 0) return system_error("fsync " + temp.path, errno);
  if (::link(temp.path.c_str(), path.c_str()) != 0) {
    if (errno == EEXIST) return false;  // another gateway was first
    return system_error("link " + temp.path + " to " + path, errno);
  }
  auto synced =
      sync_directory(final_path.has_parent_path() ? final_path.parent_path() : fs::path("."));
  if (!synced) return synced.error();
  return true;
}

}  // namespace

Result<std::string> read_stamp_key(const std::string& path) {
  // Whoever can read it can forge stamps.
  auto key = read_secret_file(path, "stamp key", kMaxStampKeyBytes);
  if (!key) return key.error();
  if (key->size() < kMinStampKeyBytes)
    return Error{
        fmt::format("stamp key {}: {} bytes; it must hold {} to {} (e.g. head -c 32 "
                    "/dev/urandom > {})",
                    path, key->size(), kMinStampKeyBytes, kMaxStampKeyBytes, path)};
  return key;
}

Result<StampKeys> load_stamp_keys(const StampConfig& config, const std::string& hostname) {
  StampKeys keys;
  auto current = read_stamp_key(config.key_file);
  if (!current) return current.error();
  keys.current = std::move(*current);
  if (!config.previous_key_file.empty()) {
    auto previous = read_stamp_key(config.previous_key_file);
    if (!previous) return previous.error();
    keys.previous = std::move(*previous);
  }
  keys.node = config.node.empty() ? hostname : config.node;
  keys.max_age_seconds = config.max_age;
  return keys;
}

Result<StampKeys> load_or_create_stamp_keys(const StampConfig& config, const std::string& hostname,
                                            bool* created) {
  if (created) *created = false;
  struct stat info;
  if (::lstat(config.key_file.c_str(), &info) != 0) {
    if (errno != ENOENT) return system_error("stamp key " + config.key_file, errno);
    auto made = create_key_file(config.key_file);
    if (!made) return made.error();
    if (created) *created = *made;
  }
  return load_stamp_keys(config, hostname);
}

namespace config_detail {

void read_stamp(TableReader& r, StampConfig& stamp) {
  stamp.configured = true;
  r.path("key_file", stamp.key_file);
  r.path("previous_key_file", stamp.previous_key_file);
  r.text("node", stamp.node);
  if (r.table().contains("node") && r.node("node")->is_string())
    if (std::string problem = hostname_problem(stamp.node); !problem.empty())
      r.error(*r.node("node"), "node",
              "\"" + printable(stamp.node) + "\" is not a host name: it " + problem);
  r.number("max_age", stamp.max_age, 60, std::int64_t{86400} * 365);
}

}  // namespace config_detail
}  // namespace bh
