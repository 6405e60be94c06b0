#include "util/sandbox.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <utility>

#include "util/landlock.hpp"
#include "util/sandbox_child.hpp"
#include "util/seccomp_filter.hpp"

namespace bh {
namespace {

using sandbox_detail::ChildPlan;
using sandbox_detail::ChildReport;

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

Result<SandboxResult> run_sandboxed(const SandboxSpec& spec) {
  if (!spec.program.is_absolute())
    return Error{"the program path must be absolute: " + spec.program.string()};
  if (spec.work_dir.empty()) return Error{"no work directory for " + spec.program.string()};
  ChildPlan plan;
  plan.limits = &spec.limits;
  plan.parent = ::getpid();
  if (spec.identity) {
    plan.identity = *spec.identity;
  } else {
    auto identity = sandbox_identity(spec.confinement);
    if (!identity) return identity.error();
    plan.identity = identity.value();
  }
  LandlockRuleset ruleset;
  if (plan.identity.confinement == FilesystemConfinement::landlock) {
    LandlockPaths paths{spec.readable, {spec.work_dir}};
    paths.read_execute.push_back(spec.program);
    auto made = make_landlock_ruleset(paths);
    if (!made) return made.error();
    ruleset = std::move(made.value());
    plan.landlock_fd = ruleset.fd();
  } else if (plan.identity.confinement == FilesystemConfinement::refused) {
    return Error{std::string(confinement_refusal(::geteuid() == 0))};
  }
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
  if (pid == 0) sandbox_detail::run_child(plan);

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
    Error error =
        system_error(std::string("sandbox: ") + sandbox_detail::stage_name(child_report.stage) +
                         " for " + spec.program.string(),
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
