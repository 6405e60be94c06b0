#include "connectors/fax/ingest_files.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>

#include <fmt/format.h>

#include "connectors/fax/ingest_folder.hpp"

namespace bh::connectors::fax {
namespace fs = std::filesystem;

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

Result<UntrustedFile> read_untrusted_file(int dirfd, const std::string& name,
                                          std::uint64_t max_bytes) {
  // O_NONBLOCK: a FIFO planted under the name must not block the open.
  UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) {
    if (errno == ELOOP) return Error{name + " is a symbolic link"};
    return system_error("open " + name, errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return system_error("stat " + name, errno);
  if (!S_ISREG(st.st_mode)) return Error{name + " is not a regular file"};
  // A second link could be a file of someone else's the writer linked here.
  if (st.st_nlink != 1)
    return Error{fmt::format("{} has {} links (a hard link is refused)", name, st.st_nlink)};
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes)
    return Error{fmt::format("{} is larger than {} bytes ({})", name, max_bytes, st.st_size)};
  UntrustedFile file;
  file.modified_at = st.st_mtim.tv_sec;
  file.bytes.resize(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (true) {
    if (done == file.bytes.size()) {
      // It may have grown since the fstat: read up to the limit, no further.
      if (file.bytes.size() >= max_bytes + 1) break;
      file.bytes.resize(std::min<std::uint64_t>(file.bytes.size() + 65536, max_bytes + 1));
    }
    ssize_t n = ::read(fd.get(), file.bytes.data() + done, file.bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return system_error("read " + name, errno);
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  file.bytes.resize(done);
  if (done > max_bytes) return Error{fmt::format("{} is larger than {} bytes", name, max_bytes)};
  return file;
}

Result<UniqueFd> open_own_directory(int dirfd, const std::string& name) {
  if (::mkdirat(dirfd, name.c_str(), 0700) != 0 && errno != EEXIST)
    return system_error("create " + name, errno);
  UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ELOOP || errno == ENOTDIR)
      return Error{name + " is not a directory (a symbolic link or a file)"};
    return system_error("open " + name, errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return system_error("stat " + name, errno);
  if (st.st_uid != ::geteuid())
    return Error{fmt::format("{} is owned by uid {}, not by the gateway (uid {})", name, st.st_uid,
                             ::geteuid())};
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    return Error{name + " is writable by others than the gateway"};
  return fd;
}

Status create_file_exclusively(int dirfd, const std::string& name, std::string_view bytes,
                               mode_t mode) {
  UniqueFd fd(
      ::openat(dirfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!fd.valid()) return system_error("create " + name, errno);
  std::size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(fd.get(), bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int error = n < 0 ? errno : ENOSPC;
      ::unlinkat(dirfd, name.c_str(), 0);
      return system_error("write " + name, error);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) {
    int error = errno;
    ::unlinkat(dirfd, name.c_str(), 0);
    return system_error("fsync " + name, error);
  }
  return ok_status();
}

Status move_without_replacing(int from_dir, const std::string& name, int to_dir,
                              const std::string& to_name) {
  if (::renameat2(from_dir, name.c_str(), to_dir, to_name.c_str(), RENAME_NOREPLACE) != 0)
    return system_error("move " + name, errno);
  return ok_status();
}

bool looks_like_tiff(std::string_view bytes) {
  return bytes.size() >= 8 && (bytes.starts_with(std::string_view("II*\0", 4)) ||
                               bytes.starts_with(std::string_view("MM\0*", 4)));
}

std::string unique_drop_name(std::int64_t now) {
  std::random_device random;
  return fmt::format("fax-{}-{}-{:08x}", now, ::getpid(), random());
}

Result<std::string> drop_fax_into(const fs::path& folder, std::string_view tiff,
                                  const ReceivedFax& job) {
  UniqueFd dir(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return system_error("open " + folder.string(), errno);
  std::string name = unique_drop_name(job.received_at);
  auto put = [&](const std::string& file, std::string_view bytes) -> Status {
    std::string temp = "." + file + ".tmp";
    if (auto made = create_file_exclusively(dir.get(), temp, bytes, 0640); !made) return made;
    Status moved = move_without_replacing(dir.get(), temp, dir.get(), file);
    if (!moved) ::unlinkat(dir.get(), temp.c_str(), 0);
    return moved;
  };
  Status written = put(name + ".tif", tiff);
  if (written) written = put(name + ".json", fax_job_json(job));
  if (written && ::fsync(dir.get()) != 0) written = system_error("fsync " + folder.string(), errno);
  if (!written) {
    ::unlinkat(dir.get(), (name + ".json").c_str(), 0);
    ::unlinkat(dir.get(), (name + ".tif").c_str(), 0);
    return written.error();
  }
  return name;
}

}  // namespace bh::connectors::fax
