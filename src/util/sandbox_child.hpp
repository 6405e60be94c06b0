// The forked child's side of util/sandbox (internal): what it is given,
// prepared by the parent before fork, and the async-signal-safe steps from
// fork to exec.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "util/sandbox.hpp"
#include "util/seccomp_filter.hpp"

namespace bh::sandbox_detail {

// What the child reports through the status pipe when it cannot exec.
enum class ChildStage : int {
  redirect = 1,
  limits,
  capabilities,
  user,
  parent_gone,
  workdir,
  no_new_privs,
  landlock,
  seccomp,
  exec,
};

struct ChildReport {
  int stage = 0;
  int errnum = 0;
};

const char* stage_name(int stage);

// Everything the child uses, ready before fork.
struct ChildPlan {
  std::vector<std::string> strings;  // owns argv and envp text
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::string program;
  std::string work_dir;
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  int report_fd = -1;
  int landlock_fd = -1;  // a Landlock ruleset to enter; -1: none
  SandboxIdentity identity;
  const SandboxLimits* limits = nullptr;
  const SeccompProgram* seccomp = nullptr;  // null: no filter
  pid_t parent = 0;
};

// Runs in the forked child: async-signal-safe calls only (no allocation,
// no locks), then exec.
[[noreturn]] void run_child(const ChildPlan& plan);

}  // namespace bh::sandbox_detail
