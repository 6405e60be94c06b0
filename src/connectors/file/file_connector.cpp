#include "connectors/file/file_connector.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "util/files.hpp"

namespace bh::connectors {
namespace {

// Writes <id>.eml, or <id>-2.eml, <id>-3.eml ... when the same message is
// delivered again: an existing file is never overwritten, so a repeated
// delivery stays visible. written_name receives the name used.
std::string write_durably(const std::filesystem::path& directory, const std::string& id,
                          std::string_view content, std::string& written_name) {
  const std::string name = id + ".eml";
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) return fmt::format("create {}: {}", directory.string(), ec.message());
  auto tmp = directory / ("." + name + ".tmp");
  auto target = directory / name;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return fmt::format("create {}: {}", tmp.string(), std::strerror(errno));
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string reason = fmt::format("write {}: {}", tmp.string(), std::strerror(errno));
      ::close(fd);
      ::unlink(tmp.c_str());
      return reason;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    std::string reason = fmt::format("fsync {}: {}", tmp.string(), std::strerror(errno));
    ::unlink(tmp.c_str());
    return reason;
  }
  // link() fails with EEXIST where rename() would replace.
  int copy = 1;
  while (::link(tmp.c_str(), target.c_str()) != 0) {
    if (errno != EEXIST || ++copy > 1000) {
      std::string reason = fmt::format("link {}: {}", target.string(), std::strerror(errno));
      ::unlink(tmp.c_str());
      return reason;
    }
    target = directory / fmt::format("{}-{}.eml", id, copy);
  }
  ::unlink(tmp.c_str());
  written_name = target.filename().string();
  if (auto synced = sync_directory(directory); !synced) return synced.error().message;
  return {};
}

}  // namespace

void FileConnector::deliver(DeliveryRequest request, DeliveryDone done) {
  const std::string& id = request.envelope().queue_id;
  std::string name;
  std::string error = write_durably(directory_, id, request.content(), name);
  if (!error.empty()) return done(same_for_all(request, {Outcome::deferred, "4.3.0", error}));
  done(same_for_all(request,
                    {Outcome::delivered, "2.0.0",
                     fmt::format("written to {}/{}", directory_.string(), name), "", "delivered"}));
}

}  // namespace bh::connectors
