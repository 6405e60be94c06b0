// Runs a program as a contained child process (the fax render helper):
// fork and exec without a shell, stdin from a file, stdout and stderr
// captured through pipes (bounded), resource limits (CPU, address space,
// file size, open files, no core dumps), a process group of its own that is
// killed as a whole on timeout, no new privileges and no capabilities
// (ambient and bounding set cleared), no fds of the parent, an empty
// environment, a private working directory, and:
//  - filesystem confinement (util/landlock.hpp): the child reads only the
//    paths a renderer needs and writes only its own work directory, also
//    when the gateway is not root. Without Landlock in the kernel a root
//    gateway runs each child under a uid of its own from a configured
//    range; a gateway that is not root refuses to run it at all unless
//    confinement is explicitly switched off (tests and development);
//  - when the caller runs as root, an unprivileged user;
//  - a seccomp filter (util/seccomp_filter.hpp): no sockets of any family,
//    no ptrace, no child processes, nothing of the kernel's administration.
//
// Thread-safe: everything the child needs (argv, envp, the user's ids, the
// seccomp program, the Landlock ruleset) is prepared before fork; between
// fork and exec the child makes only async-signal-safe calls. Blocking:
// call it from a worker thread. Never throws: a failure to start is an
// Error, whatever happens to the child is in SandboxResult.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
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

// How the child is kept out of the rest of the filesystem.
enum class FilesystemConfinement {
  landlock,    // only the readable paths and its work directory
  own_uid,     // root without Landlock: a uid no other run has at the same time
  unconfined,  // switched off (render_sandbox = "unconfined"): tests and development only
  refused,     // neither is possible: the child is not run
};

struct SandboxConfinement {
  // When the caller runs as root the child runs as this user (and its
  // primary group, no supplementary groups). A user that does not exist is
  // an error, never a silent root run. Ignored when not root, and when
  // each run gets a uid of its own.
  std::string user = "nobody";
  // No filesystem confinement even when it would be possible. Never in
  // production: a subverted child can read what the gateway's user can.
  bool unconfined = false;
  // Root without Landlock: each run gets uid (and gid) uid_base + n, n <
  // uid_count, unique among the runs in progress. 0: no such range (then
  // root without Landlock refuses too). The range must be reserved for it:
  // no file on the machine may belong to these ids.
  unsigned uid_base = 0;
  unsigned uid_count = 64;
};

// The decision behind sandbox_identity, for the kernel's Landlock ABI (0:
// none) and whether the caller is root.
FilesystemConfinement choose_filesystem_confinement(int landlock_abi, bool root,
                                                    const SandboxConfinement& confinement);
// The same for this process and kernel.
FilesystemConfinement filesystem_confinement(const SandboxConfinement& confinement);
// Why a refused confinement is refused, and what the administrator can do.
std::string_view confinement_refusal(bool root);

// The ids the child will run as and how it is confined: the configured
// user's ids when the caller is root, a leased uid of the range (own_uid),
// else the caller's own. An error when confinement is refused.
struct SandboxIdentity {
  bool switch_user = false;
  unsigned uid = 0;
  unsigned gid = 0;
  FilesystemConfinement confinement = FilesystemConfinement::landlock;
  std::shared_ptr<const void> uid_lease;  // own_uid: the uid is free again when the last copy goes
};
Result<SandboxIdentity> sandbox_identity(const SandboxConfinement& confinement);

// The paths a document renderer reads: shared libraries, the dynamic
// linker's cache, fonts and their configuration, Poppler's data.
std::vector<std::filesystem::path> sandbox_readable_paths();

struct SandboxSpec {
  std::filesystem::path program;  // absolute; executed directly, no PATH search, no shell
  std::vector<std::string> args;  // argv[1..]; argv[0] is the program's file name
  std::filesystem::path
      stdin_file;  // opened by the parent (the child need not be able to); empty: /dev/null
  std::filesystem::path work_dir;  // the child's cwd and HOME; must exist (see prepare_work_dir)
  SandboxConfinement confinement;
  // The identity the work directory was prepared for (sandbox_identity of
  // `confinement`); none: decided here.
  std::optional<SandboxIdentity> identity;
  // What the child may read and execute under Landlock besides `program`
  // (which is always added) and its work directory (read and write).
  std::vector<std::filesystem::path> readable = sandbox_readable_paths();
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

// Creates `dir` (mode 0700) owned by the identity the child will run as,
// so the child can write its output there and nobody else can look in.
Status prepare_work_dir(const std::filesystem::path& dir, const SandboxIdentity& identity);

}  // namespace bh
