// A test program for util/sandbox (tests/unit/fax/sandbox_test.cpp): it
// does one thing a contained helper might try and prints what happened.
//   sandbox_probe ids            uid=<n> gid=<n> groups=<n>
//   sandbox_probe fds            the open fds, "fds=0,1,2"
//   sandbox_probe env            the environment, one per line, and cwd=<dir>
//   sandbox_probe alloc <MiB>    allocates and touches; "allocated" or exit 3 "bad_alloc"
//   sandbox_probe spin           burns CPU until killed
//   sandbox_probe sleep <s>      sleeps
//   sandbox_probe segv           dies of SIGSEGV
//   sandbox_probe socket         tries a TCP socket: "socket=ok" or "socket=denied errno=<n>"
//   sandbox_probe fork           tries to start a process: "fork=ok" or "fork=denied errno=<n>"
//   sandbox_probe cat            copies stdin to stdout
//   sandbox_probe spew <bytes>   writes that many bytes to stdout, and "tail" to stderr
//   sandbox_probe write <bytes>  writes a file of that size in the cwd: "written" or "write=failed
//   errno=<n>" sandbox_probe exit <code>    exits with that code
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <new>
#include <string>
#include <vector>

extern char** environ;

int main(int argc, char** argv) {
  if (argc < 2) return 64;
  const std::string mode = argv[1];
  const long arg = argc > 2 ? std::atol(argv[2]) : 0;
  if (mode == "ids") {
    std::printf("uid=%u gid=%u groups=%d\n", getuid(), getgid(), getgroups(0, nullptr));
  } else if (mode == "fds") {
    std::string list;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
      const std::string name = entry.path().filename().string();
      // The directory iterator's own fd is open while listing; skip it.
      std::error_code ec;
      if (std::filesystem::read_symlink(entry.path(), ec).string().find("/proc/") == 0) continue;
      list += (list.empty() ? "" : ",") + name;
    }
    std::printf("fds=%s\n", list.c_str());
  } else if (mode == "env") {
    for (char** e = environ; *e != nullptr; ++e) std::printf("%s\n", *e);
    std::printf("cwd=%s\n", std::filesystem::current_path().c_str());
  } else if (mode == "alloc") {
    try {
      std::vector<char> block(static_cast<std::size_t>(arg) << 20);
      for (std::size_t i = 0; i < block.size(); i += 4096) block[i] = 1;
      std::printf("allocated\n");
    } catch (const std::bad_alloc&) {
      std::printf("bad_alloc\n");
      return 3;
    }
  } else if (mode == "spin") {
    volatile unsigned long n = 0;
    for (;;) n = n + 1;
  } else if (mode == "sleep") {
    ::sleep(static_cast<unsigned>(arg));
  } else if (mode == "segv") {
    ::raise(SIGSEGV);
  } else if (mode == "socket") {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0) {
      std::printf("socket=ok\n");
    } else {
      std::printf("socket=denied errno=%d\n", errno);
    }
  } else if (mode == "fork") {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    if (pid > 0) {
      ::waitpid(pid, nullptr, 0);
      std::printf("fork=ok\n");
    } else {
      std::printf("fork=denied errno=%d\n", errno);
    }
  } else if (mode == "cat") {
    char buffer[4096];
    std::size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, stdin)) > 0) std::fwrite(buffer, 1, n, stdout);
  } else if (mode == "spew") {
    std::string chunk(4096, 'x');
    for (long left = arg; left > 0; left -= static_cast<long>(chunk.size())) {
      std::fwrite(chunk.data(), 1, std::min<std::size_t>(chunk.size(), left), stdout);
    }
    std::fprintf(stderr, "%s", std::string(20000, 'e').c_str());
    std::fprintf(stderr, "tail");
  } else if (mode == "write") {
    ::signal(SIGXFSZ, SIG_IGN);
    std::FILE* file = std::fopen("probe.out", "wb");
    std::string chunk(4096, 'w');
    bool ok = file != nullptr;
    for (long left = arg; ok && left > 0; left -= static_cast<long>(chunk.size())) {
      ok = std::fwrite(chunk.data(), 1, std::min<std::size_t>(chunk.size(), left), file) > 0;
    }
    if (file != nullptr && std::fclose(file) != 0) ok = false;
    if (ok) {
      std::printf("written\n");
    } else {
      std::printf("write=failed errno=%d\n", errno);
    }
  } else if (mode == "exit") {
    return static_cast<int>(arg);
  } else {
    return 64;
  }
  return 0;
}
