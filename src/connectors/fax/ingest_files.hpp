// The files of the fax ingest folder. The folder's writer (the fax
// server's user, uucp/faxrcvd) is not the gateway: a file it names could
// be a symlink or a hard link to something only the gateway may read, and
// a directory it planted could point writes elsewhere. So every file is
// opened relative to the folder without following a link, checked with
// fstat (a regular file, one link, not too large) and read through that
// descriptor; every file the gateway creates there is created exclusively
// (O_CREAT | O_EXCL | O_NOFOLLOW) and moved without replacing; rejected/
// is the gateway's own directory (mode 0700, owned by its uid) or refused.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "connectors/fax/fax_ingest.hpp"
#include "util/result.hpp"

namespace bh::connectors::fax {

// A file descriptor, closed when it goes out of scope.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

struct UntrustedFile {
  std::string bytes;
  std::int64_t modified_at = 0;  // unix seconds (st_mtime)
};

// Reads `name` in the directory `dirfd` (AT_FDCWD: a path) without
// following a symlink in its last component; refused (with the reason)
// unless it is a regular file with exactly one link and at most max_bytes.
Result<UntrustedFile> read_untrusted_file(int dirfd, const std::string& name,
                                          std::uint64_t max_bytes);

// Opens the directory `name` in `dirfd`, creating it with mode 0700 when it
// does not exist; refused when it is a symlink, not a directory, not owned
// by the gateway's uid, or writable by others.
Result<UniqueFd> open_own_directory(int dirfd, const std::string& name);

// Creates `name` in `dirfd` exclusively (never through a symlink, never over
// an existing file) with `mode`, writes the bytes and fsyncs them.
Status create_file_exclusively(int dirfd, const std::string& name, std::string_view bytes,
                               mode_t mode);

// Renames from_dir/name to to_dir/to_name, failing (EEXIST) rather than
// replacing what is there.
Status move_without_replacing(int from_dir, const std::string& name, int to_dir,
                              const std::string& to_name);

// The TIFF magic ("II*\0" or "MM\0*") and room for the first IFD offset.
bool looks_like_tiff(std::string_view bytes);

// A name no other drop has: the time (so the folder sorts by arrival), the
// process and random bits.
std::string unique_drop_name(std::int64_t now);

// Drops a fax into the folder as the folder's writers do: <name>.tif, then
// <name>.json (fax_job_json), each written to a hidden temporary, fsynced
// and renamed without replacing, then the folder fsynced. The job file last:
// a job file means the pair is complete. Returns the name; on failure
// nothing is left behind.
Result<std::string> drop_fax_into(const std::filesystem::path& folder, std::string_view tiff,
                                  const ReceivedFax& job);

}  // namespace bh::connectors::fax
