// The render helper's seccomp filter (util/sandbox.cpp): sockets (of every family),
// io_uring, ptrace, other processes' memory, kernel keys and modules,
// namespaces and child processes are denied; everything else a renderer
// needs (files, memory, threads) is allowed. Built once with libseccomp in
// the parent (which may allocate) and exported as raw BPF, so the forked
// child only needs prctl(PR_SET_SECCOMP), which is async-signal-safe.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

namespace bh {

struct SeccompProgram {
  std::vector<sock_filter> filter;
  std::string error;  // why it could not be built; then filter is empty
};

// Built on first use (thread-safe), then shared.
const SeccompProgram& seccomp_program();

}  // namespace bh
