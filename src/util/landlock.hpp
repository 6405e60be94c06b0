// Filesystem confinement of the render helper with Landlock (util/sandbox):
// the child may read and execute only the paths it needs (its binary, the
// shared libraries, fonts) and read and write only its own work directory,
// whichever uid it runs as, also when the gateway is not root. On kernels
// with Landlock ABI 4 or later TCP bind/connect are denied too, and from
// ABI 6 abstract UNIX sockets and signals to processes outside the sandbox.
//
// The ruleset is built in the parent (opening the paths allocates); the
// forked child only calls landlock_restrict_self, a plain system call.
#pragma once

#include <filesystem>
#include <vector>

#include "util/result.hpp"

namespace bh {

// The highest Landlock ABI the running kernel supports; 0 when it has none
// or Landlock is disabled. Asked once, then cached.
int landlock_abi();

struct LandlockPaths {
  // Files or directories the child may read (and execute); missing ones are skipped.
  std::vector<std::filesystem::path> read_execute;
  // Directories the child may read, create files in and write (the work directory).
  std::vector<std::filesystem::path> read_write;
};

// Owns the ruleset's file descriptor (close-on-exec).
class LandlockRuleset {
 public:
  LandlockRuleset() = default;
  explicit LandlockRuleset(int fd) : fd_(fd) {}
  LandlockRuleset(LandlockRuleset&& other) noexcept;
  LandlockRuleset& operator=(LandlockRuleset&& other) noexcept;
  LandlockRuleset(const LandlockRuleset&) = delete;
  LandlockRuleset& operator=(const LandlockRuleset&) = delete;
  ~LandlockRuleset();
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

// Fails when the kernel has no Landlock or a path cannot be added.
Result<LandlockRuleset> make_landlock_ruleset(const LandlockPaths& paths);

// In the child, after PR_SET_NO_NEW_PRIVS: 0, or the errno of the failure.
// Async-signal-safe.
int landlock_restrict_self(int ruleset_fd);

}  // namespace bh
