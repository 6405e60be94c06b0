// A test program for util/sandbox (tests/unit/fax/sandbox_test.cpp): it
// does one thing a contained helper might try and prints what happened.
//   sandbox_probe ids            uid=<n> gid=<n> groups=<n>
//   sandbox_probe fds            the open fds, "fds=0,1,2"
//   sandbox_probe env            the environment, one per line, and cwd=<dir>
//   sandbox_probe alloc <MiB>    allocates and touches; "allocated" or exit 3 "bad_alloc"
//   sandbox_probe spin           burns CPU until killed
//   sandbox_probe sleep <s>      sleeps
//   sandbox_probe segv           dies of SIGSEGV
//   sandbox_probe socket [unix|inet]  tries a socket (default inet, TCP): "socket=ok" or
//                                "socket=denied errno=<n>"
//   sandbox_probe read <path>    tries to read a file: "read=ok <bytes>" or "read=denied errno=<n>"
//   sandbox_probe replace <path> tries to truncate and rewrite a file: "replace=ok" or
//                                "replace=denied errno=<n>"
//   sandbox_probe pidsleep <s>   writes its pid to ./probe.pid, then sleeps
//   sandbox_probe fork           tries to start a process: "fork=ok" or "fork=denied errno=<n>"
//   sandbox_probe cat            copies stdin to stdout
//   sandbox_probe spew <bytes>   writes that many bytes to stdout, and "tail" to stderr
//   sandbox_probe write <bytes>  writes a file of that size in the cwd: "written" or
//                                "write=failed errno=<n>"
//   sandbox_probe exit <code>    exits with that code
#include <fcntl.h>
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
    // Asked of each fd rather than listed from /proc/self/fd, which the
    // sandbox's Landlock ruleset does not let it open.
    std::string list;
    for (int fd = 0; fd < 4096; ++fd) {
      if (::fcntl(fd, F_GETFD) != -1) list += (list.empty() ? "" : ",") + std::to_string(fd);
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
    const bool unix_socket = argc > 2 && std::string(argv[2]) == "unix";
    const int fd = ::socket(unix_socket ? AF_UNIX : AF_INET, SOCK_STREAM, 0);
    if (fd >= 0) {
      std::printf("socket=ok\n");
    } else {
      std::printf("socket=denied errno=%d\n", errno);
    }
  } else if (mode == "read" && argc > 2) {
    const int fd = ::open(argv[2], O_RDONLY);
    char buffer[4096];
    const ssize_t n = fd >= 0 ? ::read(fd, buffer, sizeof buffer) : -1;
    if (n >= 0) {
      std::printf("read=ok %zd\n", n);
    } else {
      std::printf("read=denied errno=%d\n", errno);
    }
  } else if (mode == "replace" && argc > 2) {
    const int fd = ::open(argv[2], O_WRONLY | O_TRUNC);
    if (fd >= 0 && ::write(fd, "replaced", 8) == 8) {
      std::printf("replace=ok\n");
    } else {
      std::printf("replace=denied errno=%d\n", errno);
    }
  } else if (mode == "pidsleep") {
    std::FILE* file = std::fopen("probe.pid.tmp", "w");
    if (file == nullptr) return 2;
    std::fprintf(file, "%d\n", static_cast<int>(::getpid()));
    std::fclose(file);
    std::rename("probe.pid.tmp", "probe.pid");
    ::sleep(static_cast<unsigned>(arg));
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
