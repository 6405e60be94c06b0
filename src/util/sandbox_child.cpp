#include "util/sandbox_child.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "util/landlock.hpp"

namespace bh::sandbox_detail {
namespace {

// The fds the child keeps until exec: 0-2, the status pipe, the ruleset.
constexpr int kReportFd = 3;
constexpr int kLandlockFd = 4;

[[noreturn]] void child_fail(int report_fd, ChildStage stage) {
  ChildReport report{static_cast<int>(stage), errno};
  [[maybe_unused]] ssize_t n = ::write(report_fd, &report, sizeof report);
  ::_exit(127);
}

bool set_limit(int resource, rlim_t soft, rlim_t hard) {
  struct rlimit limit {
    soft, hard
  };
  return ::setrlimit(resource, &limit) == 0;
}

bool set_limits(const SandboxLimits& limits, bool switch_user) {
  const rlim_t cpu = static_cast<rlim_t>(limits.cpu.count());
  bool limited = set_limit(RLIMIT_CORE, 0, 0) &&
                 set_limit(RLIMIT_NOFILE, limits.open_files, limits.open_files) &&
                 (cpu == 0 || set_limit(RLIMIT_CPU, cpu, cpu + 1));
  if (limited && limits.address_space_bytes != 0) {
    limited = set_limit(RLIMIT_AS, limits.address_space_bytes, limits.address_space_bytes);
  }
  if (limited && limits.file_bytes != 0) {
    limited = set_limit(RLIMIT_FSIZE, limits.file_bytes, limits.file_bytes);
  }
  if (limited && switch_user) {
    limited = set_limit(RLIMIT_NPROC, limits.processes, limits.processes);
  }
  return limited;
}

// No capability survives into the helper: the ambient set (a unit's
// AmbientCapabilities would otherwise pass through execve) is cleared, and
// the bounding set too where the caller may (root; others cannot, but
// no_new_privs already keeps file capabilities and set-user-ID from
// granting any).
bool drop_capability_sets(bool may_drop_bounding) {
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    return false;
  if (!may_drop_bounding) return true;
  for (int cap = 0; cap <= 63; ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0) continue;
    if (errno == EINVAL) break;  // past the kernel's last capability
    return false;
  }
  return true;
}

// Empties the permitted, effective and inheritable sets (a caller that is
// not root may still have some, e.g. CAP_NET_BIND_SERVICE).
bool clear_capabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  return ::syscall(SYS_capset, &header, data) == 0;
}

void reset_signals() {
  // Signal handling of the gateway (ignored SIGPIPE, blocked signals) is
  // not the helper's.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &default_action, nullptr);
  }
}

void switch_user(const SandboxIdentity& identity) {
  // Raw system calls: glibc's wrappers synchronise ids across threads,
  // which a forked child (one thread) does not need.
  const gid_t gid = identity.gid;
  const uid_t uid = identity.uid;
  if (::syscall(SYS_setgroups, 0, nullptr) != 0 || ::syscall(SYS_setresgid, gid, gid, gid) != 0 ||
      ::syscall(SYS_setresuid, uid, uid, uid) != 0) {
    child_fail(kReportFd, ChildStage::user);
  }
  if (::getuid() != uid || ::geteuid() != uid || ::getgid() != gid) {
    errno = EPERM;
    child_fail(kReportFd, ChildStage::user);
  }
}

}  // namespace

const char* stage_name(int stage) {
  switch (static_cast<ChildStage>(stage)) {
    case ChildStage::redirect:
      return "redirecting its stdin/stdout/stderr";
    case ChildStage::limits:
      return "setting its resource limits";
    case ChildStage::capabilities:
      return "dropping its capabilities";
    case ChildStage::user:
      return "switching to the unprivileged user";
    case ChildStage::parent_gone:
      return "finding its parent gone";
    case ChildStage::workdir:
      return "entering its work directory";
    case ChildStage::no_new_privs:
      return "setting no_new_privs";
    case ChildStage::landlock:
      return "entering its Landlock ruleset";
    case ChildStage::seccomp:
      return "loading its seccomp filter";
    case ChildStage::exec:
      return "executing the program";
  }
  return "starting";
}

[[noreturn]] void run_child(const ChildPlan& plan) {
  // Move the fds out of 0..4 first, so the dup2s below cannot clobber one
  // another whatever numbers they had.
  const int in = ::fcntl(plan.stdin_fd, F_DUPFD_CLOEXEC, 10);
  const int out = ::fcntl(plan.stdout_fd, F_DUPFD_CLOEXEC, 10);
  const int err = ::fcntl(plan.stderr_fd, F_DUPFD_CLOEXEC, 10);
  const int report = ::fcntl(plan.report_fd, F_DUPFD_CLOEXEC, 10);
  const int ruleset = plan.landlock_fd >= 0 ? ::fcntl(plan.landlock_fd, F_DUPFD_CLOEXEC, 10) : -1;
  if (report < 0) ::_exit(127);
  if (in < 0 || out < 0 || err < 0 || (plan.landlock_fd >= 0 && ruleset < 0))
    child_fail(report, ChildStage::redirect);
  if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0 ||
      ::dup3(report, kReportFd, O_CLOEXEC) < 0 ||
      (ruleset >= 0 && ::dup3(ruleset, kLandlockFd, O_CLOEXEC) < 0)) {
    child_fail(report, ChildStage::redirect);
  }
  // Every other fd of the gateway (keys, sockets, the spool) is closed.
  const unsigned first_closed = kLandlockFd + 1;
  if (::close_range(first_closed, ~0U, 0) != 0) {
    for (int fd = static_cast<int>(first_closed); fd < 65536; ++fd) ::close(fd);
  }
  if (ruleset < 0) ::close(kLandlockFd);

  // Its own process group, so a timeout kills whatever it started too.
  ::setpgid(0, 0);
  reset_signals();
  if (!set_limits(*plan.limits, plan.identity.switch_user))
    child_fail(kReportFd, ChildStage::limits);

  const bool root = ::geteuid() == 0;
  if (!drop_capability_sets(root)) child_fail(kReportFd, ChildStage::capabilities);
  if (plan.identity.switch_user) switch_user(plan.identity);
  if (!clear_capabilities()) child_fail(kReportFd, ChildStage::capabilities);

  // Dies with the thread that started it (the gateway's worker). Set after
  // the uid switch, which clears it; and the parent may have gone before.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) child_fail(kReportFd, ChildStage::parent_gone);
  if (::getppid() != plan.parent) ::_exit(127);

  if (::chdir(plan.work_dir.c_str()) != 0) child_fail(kReportFd, ChildStage::workdir);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    child_fail(kReportFd, ChildStage::no_new_privs);
  }
  if (ruleset >= 0) {
    if (const int failed = landlock_restrict_self(kLandlockFd); failed != 0) {
      errno = failed;
      child_fail(kReportFd, ChildStage::landlock);
    }
    ::close(kLandlockFd);
  }
  if (plan.seccomp != nullptr) {
    struct sock_fprog program {
      static_cast<unsigned short>(plan.seccomp->filter.size()),
          const_cast<sock_filter*>(plan.seccomp->filter.data())
    };
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0) != 0) {
      child_fail(kReportFd, ChildStage::seccomp);
    }
  }
  ::execve(plan.program.c_str(), plan.argv.data(), plan.envp.data());
  child_fail(kReportFd, ChildStage::exec);
}

}  // namespace bh::sandbox_detail
