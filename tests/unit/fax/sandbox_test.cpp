// util/sandbox: the render helper's containment, proven with a probe
// program (tests/support/sandbox_probe.cpp) that tries what a subverted
// helper would try. The test machine runs as root, so the user switch is
// exercised; as another user the tests check the caller's own ids instead.
#include "util/sandbox.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace bh {
namespace {

namespace fs = std::filesystem;

class FaxSandbox : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "bh-sandbox-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    base_ = pattern;
    ::chmod(base_.c_str(), 0755);
    auto identity = sandbox_identity(SandboxConfinement{});
    ASSERT_TRUE(identity.ok()) << identity.error().message;
    identity_ = identity.value();
    work_ = base_ / "work";
    auto prepared = prepare_work_dir(work_, identity_);
    ASSERT_TRUE(prepared.ok()) << prepared.error().message;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(base_, ignored);
  }

  SandboxSpec probe(std::vector<std::string> args) const {
    SandboxSpec spec;
    spec.program = BH_SANDBOX_PROBE;
    spec.args = std::move(args);
    spec.work_dir = work_;
    spec.limits.wall = std::chrono::seconds(30);
    return spec;
  }

  SandboxResult run(const SandboxSpec& spec) const {
    auto result = run_sandboxed(spec);
    EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message);
    return result.ok() ? result.value() : SandboxResult{};
  }

  fs::path base_;
  fs::path work_;
  SandboxIdentity identity_;
};

TEST_F(FaxSandbox, TrueExitsWithZero) {
  SandboxSpec spec = probe({});
  spec.program = "/bin/true";
  SandboxResult result = run(spec);
  EXPECT_TRUE(result.exited);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.signal, 0);
  EXPECT_FALSE(result.timed_out);
}

TEST_F(FaxSandbox, ReportsTheExitCode) {
  SandboxResult result = run(probe({"exit", "7"}));
  EXPECT_TRUE(result.exited);
  EXPECT_EQ(result.exit_code, 7);
}

TEST_F(FaxSandbox, RunsAsNobodyWhenTheCallerIsRoot) {
  SandboxResult result = run(probe({"ids"}));
  ASSERT_EQ(result.exit_code, 0) << result.stderr_tail;
  if (::geteuid() == 0) {
    EXPECT_TRUE(identity_.switch_user);
    EXPECT_EQ(result.stdout_text, "uid=" + std::to_string(identity_.uid) +
                                      " gid=" + std::to_string(identity_.gid) + " groups=0\n");
    EXPECT_NE(identity_.uid, 0u);
  } else {
    EXPECT_EQ(result.stdout_text.rfind("uid=" + std::to_string(::geteuid()) + " ", 0), 0u)
        << result.stdout_text;
  }
}

TEST_F(FaxSandbox, AnUnknownUserIsAnErrorNotARootRun) {
  SandboxSpec spec = probe({"ids"});
  spec.confinement.user = "bh-no-such-user";
  auto result = run_sandboxed(spec);
  if (::geteuid() == 0) {
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error().message.find("does not exist"), std::string::npos)
        << result.error().message;
  } else {
    ASSERT_TRUE(result.ok());  // not root: there is nobody to switch from
    EXPECT_EQ(result->exit_code, 0);
  }
}

TEST_F(FaxSandbox, InheritsNoFileDescriptors) {
  // Not close-on-exec: a plain fork+exec would pass it on.
  const int leaked = ::open("/etc/hostname", O_RDONLY);
  ASSERT_GE(leaked, 0);
  SandboxResult result = run(probe({"fds"}));
  ::close(leaked);
  EXPECT_EQ(result.stdout_text, "fds=0,1,2\n") << result.stderr_tail;
}

TEST_F(FaxSandbox, GetsAnEmptyEnvironmentAndItsWorkDirectory) {
  ::setenv("BH_SANDBOX_TEST_SECRET", "do-not-pass", 1);
  SandboxResult result = run(probe({"env"}));
  ::unsetenv("BH_SANDBOX_TEST_SECRET");
  EXPECT_EQ(result.stdout_text.find("BH_SANDBOX_TEST_SECRET"), std::string::npos);
  EXPECT_NE(result.stdout_text.find("PATH=/usr/bin:/bin\n"), std::string::npos);
  EXPECT_NE(result.stdout_text.find("HOME=" + work_.string() + "\n"), std::string::npos);
  EXPECT_NE(result.stdout_text.find("cwd=" + work_.string() + "\n"), std::string::npos);
}

TEST_F(FaxSandbox, SocketsOfEveryFamilyAreDenied) {
  const std::string denied = "socket=denied errno=" + std::to_string(EACCES) + "\n";
  EXPECT_EQ(run(probe({"socket", "inet"})).stdout_text, denied);
  EXPECT_EQ(run(probe({"socket", "unix"})).stdout_text, denied);
}

TEST_F(FaxSandbox, WithoutTheFilterSocketsWork) {
  // The counter-check: the denial above is the filter's doing.
  for (const char* family : {"inet", "unix"}) {
    SandboxSpec spec = probe({"socket", family});
    spec.deny_network = false;
    EXPECT_EQ(run(spec).stdout_text, "socket=ok\n") << family;
  }
}

TEST_F(FaxSandbox, ChildProcessesAreDenied) {
  SandboxResult result = run(probe({"fork"}));
  EXPECT_EQ(result.stdout_text, "fork=denied errno=" + std::to_string(EPERM) + "\n");
}

TEST_F(FaxSandbox, WallClockTimeoutKillsTheProcessGroup) {
  SandboxSpec spec = probe({"sleep", "60"});
  spec.limits.wall = std::chrono::milliseconds(300);
  SandboxResult result = run(spec);
  EXPECT_TRUE(result.timed_out);
  EXPECT_FALSE(result.exited);
  EXPECT_EQ(result.signal, SIGKILL);
  EXPECT_FALSE(result.cpu_exceeded);
}

TEST_F(FaxSandbox, CpuLimitEndsASpinningProgram) {
  SandboxSpec spec = probe({"spin"});
  spec.limits.cpu = std::chrono::seconds(1);
  spec.limits.wall = std::chrono::seconds(60);
  SandboxResult result = run(spec);
  EXPECT_FALSE(result.timed_out);
  EXPECT_TRUE(result.cpu_exceeded);
  EXPECT_TRUE(result.signal == SIGXCPU || result.signal == SIGKILL) << result.signal;
}

TEST_F(FaxSandbox, AddressSpaceLimitMakesAllocationFail) {
  SandboxSpec spec = probe({"alloc", "512"});
  spec.limits.address_space_bytes = 128ull << 20;
  SandboxResult result = run(spec);
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(result.stdout_text, "bad_alloc\n");

  SandboxSpec small = probe({"alloc", "16"});
  small.limits.address_space_bytes = 128ull << 20;
  EXPECT_EQ(run(small).stdout_text, "allocated\n");
}

TEST_F(FaxSandbox, ACrashIsReportedAsItsSignal) {
  SandboxResult result = run(probe({"segv"}));
  EXPECT_FALSE(result.exited);
  EXPECT_EQ(result.signal, SIGSEGV);
}

TEST_F(FaxSandbox, FileSizeLimitStopsAWriter) {
  SandboxSpec spec = probe({"write", std::to_string(4 << 20)});
  spec.limits.file_bytes = 1 << 20;
  SandboxResult result = run(spec);
  EXPECT_EQ(result.stdout_text, "write=failed errno=" + std::to_string(EFBIG) + "\n");
  EXPECT_LE(fs::file_size(work_ / "probe.out"), 1u << 20);
}

TEST_F(FaxSandbox, StdinComesFromTheGivenFile) {
  const fs::path input = base_ / "input.txt";
  std::ofstream(input) << "line one\nline two\n";
  ::chmod(input.c_str(), 0600);  // the parent opens it: the child's user need not read it
  SandboxSpec spec = probe({"cat"});
  spec.stdin_file = input;
  EXPECT_EQ(run(spec).stdout_text, "line one\nline two\n");
}

TEST_F(FaxSandbox, OutputIsBounded) {
  SandboxSpec spec = probe({"spew", "300000"});
  spec.limits.stdout_bytes = 65536;
  spec.limits.stderr_tail_bytes = 1000;
  SandboxResult result = run(spec);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.stdout_text.size(), 65536u);
  EXPECT_TRUE(result.stdout_truncated);
  EXPECT_EQ(result.stderr_tail.size(), 1000u);
  EXPECT_EQ(result.stderr_tail.substr(result.stderr_tail.size() - 4), "tail");
}

TEST_F(FaxSandbox, AMissingProgramIsAnError) {
  SandboxSpec spec = probe({});
  spec.program = base_ / "no-such-program";
  auto result = run_sandboxed(spec);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("executing the program"), std::string::npos)
      << result.error().message;
  EXPECT_EQ(result.error().code, std::errc::no_such_file_or_directory);
}

TEST_F(FaxSandbox, RunsFromManyThreadsAtOnce) {
  constexpr int kThreads = 6;
  std::vector<std::string> outputs(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto result = run_sandboxed(probe({"exit", std::to_string(i + 1)}));
      outputs[i] = result.ok() ? std::to_string(result->exit_code) : result.error().message;
    });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < kThreads; ++i) EXPECT_EQ(outputs[i], std::to_string(i + 1));
}

}  // namespace
}  // namespace bh
