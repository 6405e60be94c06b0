#include "connectors/file/file_connector.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "mail/queue_id.hpp"
#include "queue/spool.hpp"
#include "util/crash_point.hpp"
#include "util/files.hpp"
#include "util/log.hpp"

namespace bh::connectors {
namespace {

// ".<id>.<generation>.<first recipient index>.pending": enough for recover()
// to ask whether this delivery's result was recorded.
std::string pending_name(const std::string& id, std::uint32_t generation, std::size_t index) {
  return fmt::format(".{}.{}.{}.pending", id, generation, index);
}

std::string write_pending(const std::filesystem::path& directory, const std::string& name,
                          std::string_view content) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) return fmt::format("create {}: {}", directory.string(), ec.message());
  auto pending = directory / name;
  int fd = ::open(pending.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return fmt::format("create {}: {}", pending.string(), std::strerror(errno));
  iovec part{const_cast<char*>(content.data()), content.size()};
  if (auto written = queue::write_all(fd, &part, 1, pending); !written) {
    ::close(fd);
    ::unlink(pending.c_str());
    return written.error().message;
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    std::string reason = fmt::format("fsync {}: {}", pending.string(), std::strerror(errno));
    ::unlink(pending.c_str());
    return reason;
  }
  if (auto synced = sync_directory(directory); !synced) return synced.error().message;
  return {};
}

// Links the pending file to <id>.eml, or <id>-2.eml ... when that exists
// (link() fails with EEXIST where rename() would replace). A name already
// linked to the same file (a crash after the link) is reused. On failure
// the pending file stays, for recover() at the next start.
std::string publish(const std::filesystem::path& directory, const std::string& id,
                    const std::string& name) {
  auto pending = directory / name;
  struct stat source;
  if (::stat(pending.c_str(), &source) != 0) return {};  // published already
  bool linked = false;
  for (int copy = 1; copy <= 1000 && !linked; ++copy) {
    auto target = directory / (copy == 1 ? id + ".eml" : fmt::format("{}-{}.eml", id, copy));
    if (::link(pending.c_str(), target.c_str()) == 0) {
      linked = true;
      break;
    }
    struct stat existing;
    if (errno != EEXIST) return fmt::format("link {}: {}", target.string(), std::strerror(errno));
    linked = ::stat(target.c_str(), &existing) == 0 && existing.st_ino == source.st_ino;
  }
  if (!linked) return fmt::format("no free name for {} in {}", id, directory.string());
  crash_point("file.linked");
  ::unlink(pending.c_str());
  if (auto synced = sync_directory(directory); !synced) return synced.error().message;
  return {};
}

}  // namespace

void FileConnector::deliver(DeliveryRequest request, DeliveryDone done) {
  const Envelope& envelope = request.envelope();
  std::string name = pending_name(envelope.queue_id, envelope.generation,
                                  request.recipients.empty() ? 0 : request.recipients.front());
  std::string error = write_pending(directory_, name, request.content());
  if (!error.empty()) return done(same_for_all(request, {Outcome::deferred, "4.3.0", error}));
  done(same_for_all(
      request, {Outcome::delivered, "2.0.0",
                fmt::format("written to {}/{}.eml", directory_.string(), envelope.queue_id), "",
                "delivered"}));
}

void FileConnector::results_recorded(const Envelope& envelope,
                                     const std::vector<std::size_t>& recipients) {
  std::string name = pending_name(envelope.queue_id, envelope.generation,
                                  recipients.empty() ? 0 : recipients.front());
  std::string error = publish(directory_, envelope.queue_id, name);
  if (!error.empty())  // stays pending; recover() publishes it at the next start
    log::Line("connector_error")
        .kv("connector", "file")
        .kv("id", envelope.queue_id)
        .kv("reason", error)
        .write(log::Level::error);
}

void FileConnector::recover(const RecordedCheck& recorded) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(directory_, ec)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with(".") || !name.ends_with(".pending")) continue;
    // ".<id>.<generation>.<index>.pending"
    std::string_view rest = std::string_view(name).substr(1, name.size() - 1 - 8);
    std::size_t dot1 = rest.find('.'), dot2 = rest.rfind('.');
    if (dot1 == std::string_view::npos || dot1 == dot2) continue;
    std::string id(rest.substr(0, dot1));
    std::uint32_t generation = 0;
    std::size_t index = 0;
    auto g = rest.substr(dot1 + 1, dot2 - dot1 - 1), x = rest.substr(dot2 + 1);
    if (!valid_queue_id(id) ||
        std::from_chars(g.data(), g.data() + g.size(), generation).ec != std::errc() ||
        std::from_chars(x.data(), x.data() + x.size(), index).ec != std::errc())
      continue;
    if (recorded(id, generation, index)) {
      publish(directory_, id, name);
    } else {  // the result never became durable: the message is delivered again
      std::filesystem::remove(entry.path(), ec);
    }
  }
}

}  // namespace bh::connectors
