#include "queue/part_file.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>

namespace bh::queue {

PartFile::~PartFile() {
  discard();
}

PartFile::PartFile(PartFile&& other) noexcept {
  *this = std::move(other);
}

PartFile& PartFile::operator=(PartFile&& other) noexcept {
  if (this == &other) return *this;
  discard();
  fd_ = other.fd_;
  owned_ = other.owned_;
  path_ = std::move(other.path_);
  sum_ = other.sum_;
  body_bytes_ = other.body_bytes_;
  last_errno_ = other.last_errno_;
  other.fd_ = -1;
  other.owned_ = false;
  return *this;
}

std::filesystem::path PartFile::path_for(const Spool& spool, const std::string& id) {
  return spool.tmp_folder() / (id + ".part");
}

Result<PartFile> PartFile::create(const Spool& spool, const std::string& id, int* error_number) {
  PartFile part;
  part.path_ = path_for(spool, id);
  part.fd_ = ::open(part.path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (part.fd_ < 0) {
    int error = errno;
    if (error_number != nullptr) *error_number = error;
    return system_error("create " + part.path_.string(), error);
  }
  part.owned_ = true;
  if (auto written = part.write(kQueueMagic); !written) return written.error();
  return part;
}

Status PartFile::write(std::string_view a, std::string_view b) {
  if (fd_ < 0) return Error{"spool file " + path_.string() + " is not open"};
  iovec parts[2] = {{const_cast<char*>(a.data()), a.size()},
                    {const_cast<char*>(b.data()), b.size()}};
  auto written = write_all(fd_, parts, 2, path_);
  if (!written) {
    last_errno_ = errno;
    return written;
  }
  sum_.update(a);
  sum_.update(b);
  return ok_status();
}

Status PartFile::append(std::string_view body_bytes) {
  if (auto written = write(body_bytes); !written) return written;
  body_bytes_ += body_bytes.size();
  return ok_status();
}

Status PartFile::finish(const Envelope& envelope, std::string_view header,
                        std::string_view body_tail) {
  if (fd_ < 0) return Error{"spool file " + path_.string() + " is not open"};
  StreamChecksum sum = sum_;
  sum.update(body_tail);
  std::string tail = queue_file_tail(envelope, header, body_bytes_ + body_tail.size(), sum);
  iovec parts[2] = {{const_cast<char*>(body_tail.data()), body_tail.size()},
                    {tail.data(), tail.size()}};
  auto written = write_all(fd_, parts, 2, path_);
  if (!written) {
    last_errno_ = errno;
    return written;
  }
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) return system_error("close " + path_.string(), errno);
  // Only the writer marks a file complete: a client can write any bytes,
  // a forged end record included, into a .part file, never a .ready one.
  std::filesystem::path ready = path_;
  ready.replace_extension(".ready");
  if (::rename(path_.c_str(), ready.c_str()) != 0)
    return system_error("rename " + path_.string(), errno);
  path_ = ready;
  return ok_status();
}

void PartFile::release() {
  owned_ = false;
}

void PartFile::discard() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (owned_) ::unlink(path_.c_str());
  owned_ = false;
}

}  // namespace bh::queue
