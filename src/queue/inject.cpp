#include "queue/inject.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace bh::queue {
namespace {

Status write_synced(const std::filesystem::path& path, const Envelope& envelope,
                    std::string_view content) {
  ::unlink(path.c_str());
  if (auto written = Spool::write_file(path, envelope, content); !written) return written;
  return sync_file(path);
}

Status place(const Spool& spool, const std::filesystem::path& tmp, State state,
             const std::string& id) {
  auto target = spool.file(state, id);
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    int error = errno;
    ::unlink(tmp.c_str());
    return system_error("rename " + target.string(), error);
  }
  return sync_directory(spool.folder(state));
}

}  // namespace

std::filesystem::path pending_path(const Spool& spool, const std::string& id) {
  return spool.tmp_folder() / (id + ".new");
}

Status write_pending(const Spool& spool, const Envelope& envelope, std::string_view content) {
  return write_synced(pending_path(spool, envelope.queue_id), envelope, content);
}

Status place_pending(const Spool& spool, const std::string& id) {
  return place(spool, pending_path(spool, id), State::incoming, id);
}

Status rewrite(const Spool& spool, State state, const Envelope& envelope,
               std::string_view content) {
  auto tmp = spool.tmp_folder() / (envelope.queue_id + ".rewrite");
  if (auto written = write_synced(tmp, envelope, content); !written) return written;
  return place(spool, tmp, state, envelope.queue_id);
}

}  // namespace bh::queue
