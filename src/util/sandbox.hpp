// Runs a program as a contained child process (the fax render helper):
// fork and exec without a shell, stdin from a file, stdout and stderr
// captured through pipes (bounded), resource limits (CPU, address space,
// file size, open files, no core dumps), a process group of its own that is
// killed as a whole on timeout, no new privileges, no fds of the parent, an
// empty environment, a private working directory, and when the caller runs
// as root, an unprivileged user. A seccomp filter denies network sockets,
// ptrace and other calls a document renderer never needs.
//
// Thread-safe: everything the child needs (argv, envp, the user's ids, the
// seccomp program) is prepared before fork; between fork and exec the
// child makes only async-signal-safe calls. Blocking: call it from a worker
// thread. Never throws: a failure to start is an Error, whatever happens to
// the child is in SandboxResult.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace bh {

struct SandboxLimits {
  std::chrono::milliseconds wall{120'000};           // then the process group is killed
  std::chrono::seconds cpu{60};                      // RLIMIT_CPU (SIGXCPU, SIGKILL a second later)
  std::uint64_t address_space_bytes = 512ull << 20;  // RLIMIT_AS; 0: unlimited
  std::uint64_t file_bytes = 256ull << 20;           // RLIMIT_FSIZE; 0: unlimited
  unsigned open_files = 64;                          // RLIMIT_NOFILE
  // RLIMIT_NPROC, set only when the child runs as a switched-to user (it
  // counts every process and thread of that user, and root ignores it).
  unsigned processes = 256;
  std::size_t stdout_bytes = 64 << 10;  // more is read and dropped (stdout_truncated)
  std::size_t stderr_tail_bytes = 8 << 10;
};

struct SandboxSpec {
  std::filesystem::path program;  // absolute; executed directly, no PATH search, no shell
  std::vector<std::string> args;  // argv[1..]; argv[0] is the program's file name
  std::filesystem::path
      stdin_file;  // opened by the parent (the child need not be able to); empty: /dev/null
  std::filesystem::path work_dir;  // the child's cwd and HOME; must exist (see prepare_work_dir)
  // When the caller runs as root the child runs as this user (and its
  // primary group, no supplementary groups). A user that does not exist is
  // an error, never a silent root run. Ignored when not root.
  std::string user = "nobody";
  bool deny_network = true;  // the seccomp filter
  SandboxLimits limits;
};

struct SandboxResult {
  bool exited = false;  // exit_code is valid
  int exit_code = -1;
  int signal = 0;             // the signal that ended it, else 0
  bool timed_out = false;     // killed after limits.wall
  bool cpu_exceeded = false;  // SIGXCPU, or SIGKILL at the hard CPU limit
  std::chrono::milliseconds cpu_used{0};
  long max_rss_kib = 0;  // peak resident set size
  std::string stdout_text;
  bool stdout_truncated = false;
  std::string stderr_tail;  // the last limits.stderr_tail_bytes of stderr
};

Result<SandboxResult> run_sandboxed(const SandboxSpec& spec);

// The ids the child will run as: the given user's when the caller is root,
// else the caller's own.
struct SandboxIdentity {
  bool switch_user = false;
  unsigned uid = 0;
  unsigned gid = 0;
};
Result<SandboxIdentity> sandbox_identity(const std::string& user);

// Creates `dir` (mode 0700) owned by the identity the child will run as,
// so the child can write its output there and nobody else can look in.
Status prepare_work_dir(const std::filesystem::path& dir, const SandboxIdentity& identity);

}  // namespace bh
