#include "util/seccomp_filter.hpp"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

namespace bh {
namespace {

int add_rule(scmp_filter_ctx ctx, int errnum, int syscall) {
  return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(errnum), syscall, 0);
}

SeccompProgram build_seccomp_program() {
  SeccompProgram program;
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == nullptr) {
    program.error = "seccomp_init failed";
    return program;
  }
  int rc = 0;
  // No sockets of any family: the helper reads stdin and writes files
  // (strace on text, HTML, PDF and image mails: no socket call at all), and
  // an AF_UNIX socket could reach the gateway's or another daemon's.
  rc |= add_rule(ctx, EACCES, SCMP_SYS(socket));
  rc |= add_rule(ctx, EACCES, SCMP_SYS(socketpair));
  // io_uring can open sockets without the socket() system call.
  for (int call :
       {SCMP_SYS(io_uring_setup), SCMP_SYS(io_uring_enter), SCMP_SYS(io_uring_register)}) {
    rc |= add_rule(ctx, EPERM, call);
  }
  // Other processes, the kernel and namespaces are out of a renderer's business.
  for (int call : {SCMP_SYS(ptrace),
                   SCMP_SYS(process_vm_readv),
                   SCMP_SYS(process_vm_writev),
                   SCMP_SYS(perf_event_open),
                   SCMP_SYS(bpf),
                   SCMP_SYS(userfaultfd),
                   SCMP_SYS(keyctl),
                   SCMP_SYS(add_key),
                   SCMP_SYS(request_key),
                   SCMP_SYS(kexec_load),
                   SCMP_SYS(mount),
                   SCMP_SYS(umount2),
                   SCMP_SYS(unshare),
                   SCMP_SYS(setns),
                   SCMP_SYS(pivot_root),
                   SCMP_SYS(chroot),
                   SCMP_SYS(init_module),
                   SCMP_SYS(finit_module),
                   SCMP_SYS(delete_module),
                   SCMP_SYS(fork),
                   SCMP_SYS(vfork)}) {
    rc |= add_rule(ctx, EPERM, call);
  }
  // No child processes: clone only with CLONE_THREAD (threads are fine).
  // clone3 passes its flags in memory a filter cannot read: ENOSYS makes
  // glibc fall back to clone.
  rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                         SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
  rc |= add_rule(ctx, ENOSYS, SCMP_SYS(clone3));
  if (rc != 0) {
    program.error = "seccomp_rule_add failed";
    seccomp_release(ctx);
    return program;
  }
  const int memory = ::memfd_create("bh-seccomp", MFD_CLOEXEC);
  if (memory < 0 || seccomp_export_bpf(ctx, memory) != 0) {
    program.error = "seccomp_export_bpf failed";
    seccomp_release(ctx);
    if (memory >= 0) ::close(memory);
    return program;
  }
  seccomp_release(ctx);
  const off_t size = ::lseek(memory, 0, SEEK_END);
  if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0) {
    program.error = "seccomp_export_bpf wrote no program";
  } else {
    program.filter.resize(static_cast<std::size_t>(size) / sizeof(sock_filter));
    if (::pread(memory, program.filter.data(), static_cast<std::size_t>(size), 0) != size) {
      program.error = "cannot read the exported seccomp program";
      program.filter.clear();
    }
  }
  ::close(memory);
  return program;
}

}  // namespace

const SeccompProgram& seccomp_program() {
  static const SeccompProgram program = build_seccomp_program();  // thread-safe initialisation
  return program;
}

}  // namespace bh
