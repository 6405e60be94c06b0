#include "util/sandbox.hpp"

#include "util/seccomp_filter.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <utility>

namespace bh {
namespace {

// What the child reports through the status pipe when it cannot exec.
enum class ChildStage : int {
  redirect = 1,
  limits,
  user,
  workdir,
  no_new_privs,
  seccomp,
  exec,
};

struct ChildReport {
  int stage = 0;
  int errnum = 0;
};

const char* stage_name(int stage) {
  switch (static_cast<ChildStage>(stage)) {
    case ChildStage::redirect:
      return "redirecting its stdin/stdout/stderr";
    case ChildStage::limits:
      return "setting its resource limits";
    case ChildStage::user:
      return "switching to the unprivileged user";
    case ChildStage::workdir:
      return "entering its work directory";
    case ChildStage::no_new_privs:
      return "setting no_new_privs";
    case ChildStage::seccomp:
      return "loading its seccomp filter";
    case ChildStage::exec:
      return "executing the program";
  }
  return "starting";
}

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read;
  Fd write;
};

Result<Pipe> make_pipe(const char* what) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return system_error(std::string("pipe for ") + what, errno);
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}

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
  SandboxIdentity identity;
  const SandboxLimits* limits = nullptr;
  const SeccompProgram* seccomp = nullptr;  // null: no filter
  pid_t parent = 0;
};

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

// Runs in the forked child: async-signal-safe calls only (no allocation,
// no locks), then exec.
[[noreturn]] void run_child(const ChildPlan& plan) {
  // Move the fds out of 0..3 first, so the dup2s below cannot clobber one
  // another whatever numbers they had.
  const int in = ::fcntl(plan.stdin_fd, F_DUPFD_CLOEXEC, 10);
  const int out = ::fcntl(plan.stdout_fd, F_DUPFD_CLOEXEC, 10);
  const int err = ::fcntl(plan.stderr_fd, F_DUPFD_CLOEXEC, 10);
  const int report = ::fcntl(plan.report_fd, F_DUPFD_CLOEXEC, 10);
  if (report < 0) ::_exit(127);
  if (in < 0 || out < 0 || err < 0) child_fail(report, ChildStage::redirect);
  if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0 ||
      ::dup3(report, 3, O_CLOEXEC) < 0) {
    child_fail(report, ChildStage::redirect);
  }
  // Every other fd of the gateway (keys, sockets, the spool) is closed.
  if (::close_range(4, ~0U, 0) != 0) {
    for (int fd = 4; fd < 65536; ++fd) ::close(fd);
  }
  const int report_fd = 3;

  // Its own process group, so a timeout kills whatever it started too.
  ::setpgid(0, 0);
  // Dies with the thread that started it (the gateway's worker).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != plan.parent) ::_exit(127);

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

  const SandboxLimits& limits = *plan.limits;
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
  if (limited && plan.identity.switch_user) {
    limited = set_limit(RLIMIT_NPROC, limits.processes, limits.processes);
  }
  if (!limited) child_fail(report_fd, ChildStage::limits);

  if (plan.identity.switch_user) {
    // Raw system calls: glibc's wrappers synchronise ids across threads,
    // which a forked child (one thread) does not need.
    const gid_t gid = plan.identity.gid;
    const uid_t uid = plan.identity.uid;
    if (::syscall(SYS_setgroups, 0, nullptr) != 0 || ::syscall(SYS_setresgid, gid, gid, gid) != 0 ||
        ::syscall(SYS_setresuid, uid, uid, uid) != 0) {
      child_fail(report_fd, ChildStage::user);
    }
    if (::getuid() != uid || ::geteuid() != uid || ::getgid() != gid) {
      errno = EPERM;
      child_fail(report_fd, ChildStage::user);
    }
  }
  if (::chdir(plan.work_dir.c_str()) != 0) child_fail(report_fd, ChildStage::workdir);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    child_fail(report_fd, ChildStage::no_new_privs);
  }
  if (plan.seccomp != nullptr) {
    struct sock_fprog program {
      static_cast<unsigned short>(plan.seccomp->filter.size()),
          const_cast<sock_filter*>(plan.seccomp->filter.data())
    };
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0) != 0) {
      child_fail(report_fd, ChildStage::seccomp);
    }
  }
  ::execve(plan.program.c_str(), plan.argv.data(), plan.envp.data());
  child_fail(report_fd, ChildStage::exec);
}

void build_strings(const SandboxSpec& spec, ChildPlan& plan) {
  plan.program = spec.program.string();
  plan.work_dir = spec.work_dir.string();
  const std::string dir = plan.work_dir;
  plan.strings.push_back(spec.program.filename().string());
  for (const auto& arg : spec.args) plan.strings.push_back(arg);
  const std::size_t argc = plan.strings.size();
  // Fontconfig and GLib want a home and a cache directory; the work
  // directory is the only place the child may write.
  plan.strings.push_back("PATH=/usr/bin:/bin");
  plan.strings.push_back("HOME=" + dir);
  plan.strings.push_back("TMPDIR=" + dir);
  plan.strings.push_back("XDG_CACHE_HOME=" + dir + "/.cache");
  plan.strings.push_back("LC_ALL=C.UTF-8");
  for (std::size_t i = 0; i < plan.strings.size(); ++i) {
    (i < argc ? plan.argv : plan.envp).push_back(plan.strings[i].data());
  }
  plan.argv.push_back(nullptr);
  plan.envp.push_back(nullptr);
}

// Appends to a bounded capture: stdout keeps the first bytes, stderr the last.
void keep_head(std::string& to, const char* data, std::size_t n, std::size_t max, bool& truncated) {
  const std::size_t room = to.size() < max ? max - to.size() : 0;
  if (n > room) truncated = true;
  to.append(data, std::min(n, room));
}

void keep_tail(std::string& to, const char* data, std::size_t n, std::size_t max) {
  to.append(data, n);
  if (to.size() > max) to.erase(0, to.size() - max);
}

}  // namespace

Result<SandboxIdentity> sandbox_identity(const std::string& user) {
  SandboxIdentity identity;
  if (::geteuid() != 0) {
    identity.uid = ::geteuid();
    identity.gid = ::getegid();
    return identity;
  }
  if (user.empty())
    return Error{"the render helper's user is not configured (the gateway runs as root)"};
  struct passwd entry {};
  struct passwd* found = nullptr;
  std::vector<char> buffer(16384);
  const int rc = ::getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (rc != 0) return system_error("looking up user " + user, rc);
  if (found == nullptr) {
    return Error{"user " + user + " does not exist; the render helper will not run as root"};
  }
  if (found->pw_uid == 0)
    return Error{"user " + user + " is root; the render helper will not run as root"};
  identity.switch_user = true;
  identity.uid = found->pw_uid;
  identity.gid = found->pw_gid;
  return identity;
}

Status prepare_work_dir(const std::filesystem::path& dir, const SandboxIdentity& identity) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return system_error("mkdir " + dir.string(), errno);
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) return system_error("stat " + dir.string(), errno);
  if (!S_ISDIR(st.st_mode)) return Error{dir.string() + " is not a directory"};
  if (identity.switch_user && ::chown(dir.c_str(), identity.uid, identity.gid) != 0) {
    return system_error("chown " + dir.string(), errno);
  }
  if (::chmod(dir.c_str(), 0700) != 0) return system_error("chmod " + dir.string(), errno);
  return ok_status();
}

Result<SandboxResult> run_sandboxed(const SandboxSpec& spec) {
  if (!spec.program.is_absolute())
    return Error{"the program path must be absolute: " + spec.program.string()};
  if (spec.work_dir.empty()) return Error{"no work directory for " + spec.program.string()};
  ChildPlan plan;
  plan.limits = &spec.limits;
  plan.parent = ::getpid();
  auto identity = sandbox_identity(spec.user);
  if (!identity) return identity.error();
  plan.identity = identity.value();
  if (spec.deny_network) {
    const SeccompProgram& program = seccomp_program();
    if (!program.error.empty()) return Error{"seccomp filter: " + program.error};
    plan.seccomp = &program;
  }
  build_strings(spec, plan);

  const std::string input = spec.stdin_file.empty() ? "/dev/null" : spec.stdin_file.string();
  Fd stdin_fd(::open(input.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (stdin_fd.get() < 0) return system_error("open " + input, errno);
  auto out = make_pipe("stdout");
  if (!out) return out.error();
  auto err = make_pipe("stderr");
  if (!err) return err.error();
  auto report = make_pipe("status");
  if (!report) return report.error();
  plan.stdin_fd = stdin_fd.get();
  plan.stdout_fd = out->write.get();
  plan.stderr_fd = err->write.get();
  plan.report_fd = report->write.get();

  const auto started = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) return system_error("fork", errno);
  if (pid == 0) run_child(plan);

  // Also set here: the kill on timeout must not race the child's setpgid.
  ::setpgid(pid, pid);
  stdin_fd.reset();
  out->write.reset();
  err->write.reset();
  report->write.reset();

  SandboxResult result;
  // The status pipe closes on exec (O_CLOEXEC) or carries why it failed.
  ChildReport child_report;
  ssize_t got;
  do {
    got = ::read(report->read.get(), &child_report, sizeof child_report);
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof child_report)) {
    ::waitpid(pid, nullptr, 0);
    Error error = system_error(
        std::string("sandbox: ") + stage_name(child_report.stage) + " for " + spec.program.string(),
        child_report.errnum);
    return error;
  }

  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  const auto deadline = started + spec.limits.wall;
  bool exited = false;
  int poll_error = 0;
  char buffer[8192];
  while (!exited) {
    pollfd fds[3];
    nfds_t n = 0;
    if (out->read.get() >= 0) fds[n++] = {out->read.get(), POLLIN, 0};
    if (err->read.get() >= 0) fds[n++] = {err->read.get(), POLLIN, 0};
    if (pidfd.get() >= 0) fds[n++] = {pidfd.get(), POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    // Without a pidfd (old kernels) the exit is noticed by polling waitpid.
    const long slice = pidfd.get() >= 0 ? left.count() : std::min<long>(left.count(), 20);
    if (left.count() <= 0) {
      result.timed_out = true;
      break;
    }
    const int ready = ::poll(fds, n, static_cast<int>(std::max<long>(slice, 1)));
    if (ready < 0 && errno != EINTR) {
      poll_error = errno;
      break;
    }
    for (nfds_t i = 0; ready > 0 && i < n; ++i) {
      if (fds[i].revents == 0 || fds[i].fd == pidfd.get()) continue;
      const ssize_t r = ::read(fds[i].fd, buffer, sizeof buffer);
      if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (fds[i].fd == out->read.get()) {
        if (r <= 0)
          out->read.reset();
        else
          keep_head(result.stdout_text, buffer, static_cast<std::size_t>(r),
                    spec.limits.stdout_bytes, result.stdout_truncated);
      } else {
        if (r <= 0)
          err->read.reset();
        else
          keep_tail(result.stderr_tail, buffer, static_cast<std::size_t>(r),
                    spec.limits.stderr_tail_bytes);
      }
    }
    // Exited (a zombie, not yet reaped: its pid still names the group).
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
      poll_error = errno;
      break;
    }
    exited = info.si_pid == pid;
  }
  // On timeout the whole group is killed; after an exit, whatever it left
  // behind in its group (nothing, normally) goes too.
  ::kill(-pid, SIGKILL);
  int status = 0;
  struct rusage usage {};
  pid_t waited;
  do {
    waited = ::wait4(pid, &status, 0, &usage);
  } while (waited < 0 && errno == EINTR);
  if (waited != pid) return system_error("sandbox: waiting for " + spec.program.string(), errno);
  if (poll_error != 0) return system_error("sandbox: poll", poll_error);
  // What it wrote just before exiting is still in the pipes.
  for (Fd* fd : {&out->read, &err->read}) {
    if (fd->get() < 0) continue;
    ::fcntl(fd->get(), F_SETFL, O_NONBLOCK);
    ssize_t r;
    while ((r = ::read(fd->get(), buffer, sizeof buffer)) > 0) {
      if (fd == &out->read) {
        keep_head(result.stdout_text, buffer, static_cast<std::size_t>(r), spec.limits.stdout_bytes,
                  result.stdout_truncated);
      } else {
        keep_tail(result.stderr_tail, buffer, static_cast<std::size_t>(r),
                  spec.limits.stderr_tail_bytes);
      }
    }
  }

  result.cpu_used =
      std::chrono::milliseconds((usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000L +
                                (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000L);
  result.max_rss_kib = usage.ru_maxrss;
  if (WIFEXITED(status)) {
    result.exited = true;
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  const auto cpu_limit = std::chrono::duration_cast<std::chrono::milliseconds>(spec.limits.cpu);
  result.cpu_exceeded =
      !result.timed_out && spec.limits.cpu.count() > 0 &&
      (result.signal == SIGXCPU || (result.signal == SIGKILL && result.cpu_used >= cpu_limit));
  return result;
}

}  // namespace bh
