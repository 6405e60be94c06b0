// The render helper's work directory and how its output is taken over
// (render_client): one private directory per run, owned by the identity
// the helper runs as, removed with everything in it afterwards.
#pragma once

#include <cstdint>
#include <filesystem>

#include "util/result.hpp"
#include "util/sandbox.hpp"

namespace bh::connectors::fax {

// A private directory for one run, in the temp directory (every user can
// reach it there, and the helper's user can write only this one).
class WorkDir {
 public:
  static Result<WorkDir> create(const SandboxIdentity& identity);
  WorkDir(WorkDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  WorkDir& operator=(WorkDir&&) = delete;
  ~WorkDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  explicit WorkDir(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

// The helper's output is copied, not moved: the file belongs to the
// helper's user, and a subverted helper could have left a symlink or a
// hard link to a file of the gateway in its place. Only a regular file of
// at most max_bytes is copied, into a new file the gateway owns.
Status copy_out(const std::filesystem::path& from, const std::filesystem::path& to,
                std::uint64_t max_bytes);

}  // namespace bh::connectors::fax
