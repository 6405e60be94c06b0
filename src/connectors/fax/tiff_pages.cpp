#include "connectors/fax/tiff_pages.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace bh::connectors::fax {
namespace {

constexpr std::uint16_t kTagImageWidth = 256;
constexpr std::uint16_t kTypeShort = 3;
constexpr std::uint16_t kTypeLong = 4;
constexpr std::size_t kEntryBytes = 12;

class TiffFile {
 public:
  TiffFile(int fd, std::uint64_t size) : fd_(fd), size_(size) {}

  // `n` bytes at `offset`, entirely inside the file.
  bool read(std::uint64_t offset, void* to, std::size_t n) const {
    if (offset > size_ || n > size_ - offset) return false;
    return ::pread(fd_, to, n, static_cast<off_t>(offset)) == static_cast<ssize_t>(n);
  }
  bool u16(std::uint64_t offset, std::uint16_t& out) const {
    unsigned char b[2];
    if (!read(offset, b, 2)) return false;
    out = big_endian_ ? static_cast<std::uint16_t>(b[0] << 8 | b[1])
                      : static_cast<std::uint16_t>(b[1] << 8 | b[0]);
    return true;
  }
  bool u32(std::uint64_t offset, std::uint32_t& out) const {
    unsigned char b[4];
    if (!read(offset, b, 4)) return false;
    out = big_endian_ ? (std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 |
                         std::uint32_t{b[2]} << 8 | b[3])
                      : (std::uint32_t{b[3]} << 24 | std::uint32_t{b[2]} << 16 |
                         std::uint32_t{b[1]} << 8 | b[0]);
    return true;
  }
  void set_big_endian(bool big) { big_endian_ = big; }

 private:
  int fd_;
  std::uint64_t size_;
  bool big_endian_ = false;
};

// The ImageWidth of the IFD at `ifd` with `entries` entries, or 0.
Result<std::uint32_t> image_width(const TiffFile& file, std::uint64_t ifd, std::uint16_t entries) {
  for (std::uint16_t i = 0; i < entries; ++i) {
    const std::uint64_t entry = ifd + 2 + std::uint64_t{i} * kEntryBytes;
    std::uint16_t tag = 0, type = 0;
    std::uint32_t count = 0;
    if (!file.u16(entry, tag) || !file.u16(entry + 2, type) || !file.u32(entry + 4, count))
      return Error{"a TIFF directory entry runs past the end of the file"};
    if (tag != kTagImageWidth) continue;
    if (count != 1) return Error{"a TIFF ImageWidth with " + std::to_string(count) + " values"};
    if (type == kTypeShort) {
      std::uint16_t width = 0;
      if (!file.u16(entry + 8, width)) return Error{"a truncated TIFF ImageWidth"};
      return std::uint32_t{width};
    }
    if (type == kTypeLong) {
      std::uint32_t width = 0;
      if (!file.u32(entry + 8, width)) return Error{"a truncated TIFF ImageWidth"};
      return width;
    }
    return Error{"a TIFF ImageWidth of type " + std::to_string(type)};
  }
  return std::uint32_t{0};
}

}  // namespace

Result<int> count_fax_pages(const std::filesystem::path& tiff, int max_pages) {
  const int fd = ::open(tiff.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return system_error("open " + tiff.string(), errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error{tiff.string() + " is not a regular file"};
  }
  TiffFile file(fd, static_cast<std::uint64_t>(st.st_size));
  auto walk = [&]() -> Result<int> {
    unsigned char header[4];
    if (!file.read(0, header, 4)) return Error{"shorter than a TIFF header"};
    if (header[0] == 'I' && header[1] == 'I') {
      file.set_big_endian(false);
    } else if (header[0] == 'M' && header[1] == 'M') {
      file.set_big_endian(true);
    } else {
      return Error{"not a TIFF (no II or MM byte order)"};
    }
    std::uint16_t magic = 0;
    std::uint32_t offset = 0;
    if (!file.u16(2, magic) || magic != 42) return Error{"not a classic TIFF (no 42)"};
    if (!file.u32(4, offset)) return Error{"a truncated TIFF header"};
    std::set<std::uint32_t> seen;
    int pages = 0;
    while (offset != 0) {
      if (!seen.insert(offset).second) return Error{"the TIFF's directories form a loop"};
      if (pages == max_pages) return Error{"more than " + std::to_string(max_pages) + " pages"};
      std::uint16_t entries = 0;
      if (!file.u16(offset, entries)) return Error{"a TIFF directory past the end of the file"};
      if (entries == 0 || entries > kMaxTiffEntries)
        return Error{"a TIFF directory with " + std::to_string(entries) + " entries"};
      const std::uint64_t next_at = offset + 2 + std::uint64_t{entries} * kEntryBytes;
      std::uint32_t next = 0;
      if (!file.u32(next_at, next)) return Error{"a truncated TIFF directory"};
      auto width = image_width(file, offset, entries);
      if (!width) return width.error();
      if (width.value() != kFaxPageWidth)
        return Error{"page " + std::to_string(pages + 1) + " is " + std::to_string(width.value()) +
                     " pels wide, not " + std::to_string(kFaxPageWidth)};
      ++pages;
      offset = next;
    }
    if (pages == 0) return Error{"a TIFF without pages"};
    return pages;
  };
  Result<int> counted = walk();
  ::close(fd);
  return counted;
}

}  // namespace bh::connectors::fax
