// A message's spool file while it is being received: tmp/<id>.part, then
// tmp/<id>.ready once the queue writer has completed it. The
// file format puts the body first (queue/spool_format.hpp), so a session
// appends body bytes as they arrive, keeping only a bounded buffer in
// memory; at commit the queue writer adds the body's tail, the header, the
// envelope and the end record, flushes, and renames the file into incoming/.
// A PartFile that is dropped before that removes its file.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "queue/checksum.hpp"
#include "queue/spool.hpp"

namespace bh::queue {

class PartFile {
 public:
  PartFile() = default;
  ~PartFile();
  PartFile(PartFile&& other) noexcept;
  PartFile& operator=(PartFile&& other) noexcept;
  PartFile(const PartFile&) = delete;
  PartFile& operator=(const PartFile&) = delete;

  static std::filesystem::path path_for(const Spool& spool, const std::string& id);
  // Creates the file (it must not exist) and writes the format's magic;
  // error_number receives the errno of a failure (ENOSPC: the disk is full).
  static Result<PartFile> create(const Spool& spool, const std::string& id,
                                 int* error_number = nullptr);

  bool is_open() const { return fd_ >= 0; }
  const std::filesystem::path& path() const { return path_; }
  // The errno of the last failed write (ENOSPC: the disk is full).
  int last_errno() const { return last_errno_; }
  std::size_t body_bytes() const { return body_bytes_; }

  Status append(std::string_view body_bytes);
  // Writes the rest of the file, closes it and renames it tmp/<id>.ready
  // (complete, as only the queue writer can mark it; no flush: the caller does).
  Status finish(const Envelope& envelope, std::string_view header, std::string_view body_tail);
  // The file was renamed into the queue: it is no longer ours to remove.
  void release();
  // Closes and removes the file.
  void discard();

 private:
  Status write(std::string_view a, std::string_view b = {});

  int fd_ = -1;
  bool owned_ = false;  // the file exists and is ours to remove
  std::filesystem::path path_;
  StreamChecksum sum_;
  std::size_t body_bytes_ = 0;
  int last_errno_ = 0;
};

}  // namespace bh::queue
