// util/sandbox's filesystem confinement (Landlock) and privilege drop,
// proven with the probe program (tests/support/sandbox_probe.cpp): a
// contained child reads no file of the caller's and nothing of another
// run's work directory, whichever uid it runs as; it dies with its parent;
// and the decision between Landlock, a uid of its own, and refusing.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "util/landlock.hpp"
#include "util/sandbox.hpp"

namespace bh {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class FaxSandboxConfinement : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "bh-confinement-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    base_ = pattern;
    ::chmod(base_.c_str(), 0755);
    auto identity = sandbox_identity(SandboxConfinement{});
    ASSERT_TRUE(identity.ok()) << identity.error().message;
    identity_ = identity.value();
    work_ = base_ / "work";
    other_work_ = base_ / "other-work";
    for (const auto& dir : {work_, other_work_}) {
      auto prepared = prepare_work_dir(dir, identity_);
      ASSERT_TRUE(prepared.ok()) << prepared.error().message;
    }
    // Another run's output, as that run's helper left it (same uid).
    other_fax_ = other_work_ / "fax.tif";
    std::ofstream(other_fax_) << "tenant B's fax";
    ASSERT_EQ(::chown(other_fax_.c_str(), identity_.uid, identity_.gid), 0);
    ::chmod(other_fax_.c_str(), 0600);
    // A file of the caller's (the gateway's key, say).
    secret_ = base_ / "secret.key";
    std::ofstream(secret_) << "private key";
    ::chmod(secret_.c_str(), 0600);
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

  std::string output(const SandboxSpec& spec) const {
    auto result = run_sandboxed(spec);
    if (!result.ok()) return "error: " + result.error().message;
    return result->stdout_text + result->stderr_tail;
  }

  fs::path base_, work_, other_work_, other_fax_, secret_;
  SandboxIdentity identity_;
};

const std::string kDenied = "denied errno=" + std::to_string(EACCES) + "\n";

TEST(FaxSandboxConfinementChoice, LandlockWheneverTheKernelHasIt) {
  SandboxConfinement confinement;
  EXPECT_EQ(choose_filesystem_confinement(1, true, confinement), FilesystemConfinement::landlock);
  EXPECT_EQ(choose_filesystem_confinement(7, false, confinement), FilesystemConfinement::landlock);
  confinement.uid_base = 60000;
  EXPECT_EQ(choose_filesystem_confinement(3, true, confinement), FilesystemConfinement::landlock);
}

TEST(FaxSandboxConfinementChoice, RootWithoutLandlockNeedsAUidRange) {
  SandboxConfinement confinement;
  EXPECT_EQ(choose_filesystem_confinement(0, true, confinement), FilesystemConfinement::refused);
  confinement.uid_base = 60000;
  EXPECT_EQ(choose_filesystem_confinement(0, true, confinement), FilesystemConfinement::own_uid);
  confinement.uid_count = 0;
  EXPECT_EQ(choose_filesystem_confinement(0, true, confinement), FilesystemConfinement::refused);
}

TEST(FaxSandboxConfinementChoice, NotRootWithoutLandlockRefusesUnlessUnconfined) {
  SandboxConfinement confinement;
  confinement.uid_base = 60000;  // of no use without root
  EXPECT_EQ(choose_filesystem_confinement(0, false, confinement), FilesystemConfinement::refused);
  EXPECT_NE(confinement_refusal(false).find("not root"), std::string_view::npos);
  confinement.unconfined = true;
  EXPECT_EQ(choose_filesystem_confinement(0, false, confinement),
            FilesystemConfinement::unconfined);
  EXPECT_EQ(choose_filesystem_confinement(7, false, confinement),
            FilesystemConfinement::unconfined);
}

TEST(FaxSandboxConfinementChoice, ThisMachineUsesLandlockOrRefuses) {
  // The path that runs here: with Landlock (kernel 6.18 on the test
  // machines) every run is confined by it; without, a default
  // configuration refuses rather than run unconfined.
  const FilesystemConfinement here = filesystem_confinement(SandboxConfinement{});
  if (landlock_abi() > 0) {
    EXPECT_EQ(here, FilesystemConfinement::landlock);
  } else {
    EXPECT_EQ(here, FilesystemConfinement::refused);
    EXPECT_FALSE(sandbox_identity(SandboxConfinement{}).ok());
  }
}

TEST_F(FaxSandboxConfinement, ReadsNeitherTheCallersFilesNorAnotherRunsWorkDirectory) {
  ASSERT_EQ(identity_.confinement, FilesystemConfinement::landlock);
  EXPECT_EQ(output(probe({"read", secret_.string()})), "read=" + kDenied);
  EXPECT_EQ(output(probe({"read", other_fax_.string()})), "read=" + kDenied);
  EXPECT_EQ(output(probe({"replace", other_fax_.string()})), "replace=" + kDenied);
  EXPECT_EQ(slurp(other_fax_), "tenant B's fax");
  EXPECT_EQ(output(probe({"read", "/etc/passwd"})), "read=" + kDenied);
  // What a renderer needs stays readable.
  EXPECT_EQ(output(probe({"read", "/etc/ld.so.cache"})).rfind("read=ok ", 0), 0u);
}

TEST_F(FaxSandboxConfinement, WritesItsOwnWorkDirectory) {
  EXPECT_EQ(output(probe({"write", "10000"})), "written\n");
  EXPECT_EQ(fs::file_size(work_ / "probe.out"), 10000u);
}

TEST_F(FaxSandboxConfinement, UnconfinedItCouldReadAnotherRunsOutput) {
  // The counter-check: the same uid, without Landlock, reaches the other
  // run's files, so the denials above are Landlock's doing.
  SandboxSpec spec = probe({"read", other_fax_.string()});
  spec.confinement.unconfined = true;
  EXPECT_EQ(output(spec), "read=ok 14\n");
}

// Runs `body` in a forked child that has become nobody (the gateway as an
// unprivileged user; a caller that is not root runs it itself) and returns what it wrote to the
// pipe.
std::string as_nobody(const std::function<std::string()>& body) {
  if (::geteuid() != 0) return body();  // already not root: the caller's own uid
  struct passwd* nobody = ::getpwnam("nobody");
  if (nobody == nullptr) return "no user nobody";
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    std::string text;
    if (::syscall(SYS_setgroups, 0, nullptr) != 0 ||
        ::syscall(SYS_setresgid, nobody->pw_gid, nobody->pw_gid, nobody->pw_gid) != 0 ||
        ::syscall(SYS_setresuid, nobody->pw_uid, nobody->pw_uid, nobody->pw_uid) != 0) {
      text = "cannot become nobody";
    } else {
      text = body();
    }
    [[maybe_unused]] ssize_t n = ::write(fds[1], text.data(), text.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0) text.append(buffer, n);
  ::close(fds[0]);
  ::waitpid(pid, nullptr, 0);
  return text;
}

TEST_F(FaxSandboxConfinement, AGatewayThatIsNotRootIsConfinedToo) {
  // nobody's own 0600 file: readable by the uid the child keeps, so only
  // Landlock stands in the way.
  ASSERT_EQ(::chown(secret_.c_str(), identity_.uid, identity_.gid), 0);
  const std::string confined = as_nobody([&] {
    auto identity = sandbox_identity(SandboxConfinement{});
    if (!identity) return "error: " + identity.error().message;
    if (identity->switch_user || identity->uid != ::geteuid()) return std::string("wrong ids");
    return output(probe({"read", secret_.string()})) +
           output(probe({"read", other_fax_.string()})) + output(probe({"socket", "unix"}));
  });
  EXPECT_EQ(confined, "read=" + kDenied + "read=" + kDenied + "socket=" + kDenied);
  const std::string unconfined = as_nobody([&] {
    SandboxSpec spec = probe({"read", secret_.string()});
    spec.confinement.unconfined = true;
    return output(spec);
  });
  EXPECT_EQ(unconfined, "read=ok 11\n");  // the counter-check
}

TEST_F(FaxSandboxConfinement, HasNoCapabilities) {
  SandboxSpec spec = probe({"read", "/proc/self/status"});
  spec.confinement.unconfined = true;  // /proc is outside the Landlock paths
  spec.program = "/bin/grep";
  spec.args = {"-E", "^Cap(Inh|Prm|Eff|Bnd|Amb):", "/proc/self/status"};
  auto result = run_sandboxed(spec);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->stdout_text,
            "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n"
            "CapBnd:\t0000000000000000\nCapAmb:\t0000000000000000\n")
      << result->stderr_tail;
}

bool gone(pid_t pid) {
  // Reaped, or a zombie waiting for init.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string line;
  std::getline(stat, line);
  const auto close = line.rfind(')');
  return close != std::string::npos && line.size() > close + 2 && line[close + 2] == 'Z';
}

TEST_F(FaxSandboxConfinement, DiesWithItsParentAfterTheUserSwitch) {
  // The parent (the gateway's worker) is killed while the child sleeps;
  // PR_SET_PDEATHSIG, set after the uid switch, takes the child along.
  const pid_t parent = ::fork();
  if (parent == 0) {
    auto result = run_sandboxed(probe({"pidsleep", "120"}));
    ::_exit(result.ok() ? 0 : 1);
  }
  ASSERT_GT(parent, 0);
  const fs::path pid_file = work_ / "probe.pid";
  for (int i = 0; i < 3000 && !fs::exists(pid_file); ++i) ::usleep(10'000);
  ASSERT_TRUE(fs::exists(pid_file));
  const pid_t child = static_cast<pid_t>(std::stol(slurp(pid_file)));
  ASSERT_GT(child, 0);
  EXPECT_FALSE(gone(child));
  ::kill(parent, SIGKILL);
  ::waitpid(parent, nullptr, 0);
  bool ended = false;
  for (int i = 0; i < 3000 && !ended; ++i) {
    ended = gone(child);
    if (!ended) ::usleep(10'000);
  }
  EXPECT_TRUE(ended) << "the sandboxed child outlived its parent";
  if (!ended) ::kill(child, SIGKILL);
}

}  // namespace
}  // namespace bh

namespace bh {
namespace {

// The fallback for kernels without Landlock (as root): each run gets a uid
// of its own from render_uid_base. Forced here by giving the sandbox that
// identity, so the path runs even on machines that have Landlock.
TEST(FaxSandboxOwnUid, ARunWithItsOwnUidReachesNeitherTheCallersNorAnotherRunsFiles) {
  ASSERT_EQ(::geteuid(), 0u) << "a uid of its own needs a root caller (the tests run as root)";
  std::string pattern = (fs::temp_directory_path() / "bh-own-uid-test-XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const fs::path base = pattern;
  ::chmod(base.c_str(), 0755);
  constexpr unsigned kUid = 61000, kOtherUid = 61001;
  SandboxIdentity mine;
  mine.switch_user = true;
  mine.uid = mine.gid = kUid;
  mine.confinement = FilesystemConfinement::own_uid;
  SandboxIdentity other = mine;
  other.uid = other.gid = kOtherUid;
  const fs::path work = base / "work", other_work = base / "other-work";
  ASSERT_TRUE(prepare_work_dir(work, mine).ok());
  ASSERT_TRUE(prepare_work_dir(other_work, other).ok());
  const fs::path other_fax = other_work / "fax.tif", secret = base / "secret.key";
  std::ofstream(other_fax) << "tenant B's fax";
  ASSERT_EQ(::chown(other_fax.c_str(), kOtherUid, kOtherUid), 0);
  ::chmod(other_fax.c_str(), 0600);
  std::ofstream(secret) << "private key";
  ::chmod(secret.c_str(), 0600);

  auto run = [&](std::vector<std::string> args) {
    SandboxSpec spec;
    spec.program = BH_SANDBOX_PROBE;
    spec.args = std::move(args);
    spec.work_dir = work;
    spec.identity = mine;
    spec.limits.wall = std::chrono::seconds(30);
    auto result = run_sandboxed(spec);
    return result.ok() ? result->stdout_text : "error: " + result.error().message;
  };
  EXPECT_EQ(run({"ids"}), "uid=61000 gid=61000 groups=0\n");
  EXPECT_EQ(run({"read", secret.string()}), "read=" + kDenied);
  EXPECT_EQ(run({"read", other_fax.string()}), "read=" + kDenied);
  EXPECT_EQ(run({"replace", other_fax.string()}), "replace=" + kDenied);
  EXPECT_EQ(slurp(other_fax), "tenant B's fax");
  // Its own work directory is its to write.
  EXPECT_EQ(run({"write", "4096"}), "written\n");
  EXPECT_EQ(fs::file_size(work / "probe.out"), 4096u);
  std::error_code ignored;
  fs::remove_all(base, ignored);
}

}  // namespace
}  // namespace bh
