// Who the sandboxed child runs as and how its filesystem is confined
// (util/sandbox.hpp), and its work directory.
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <set>

#include "util/landlock.hpp"
#include "util/sandbox.hpp"

namespace bh {
namespace {

// The uids of the own_uid range in use by runs in progress, process-wide.
class UidPool {
 public:
  static UidPool& instance() {
    static UidPool pool;
    return pool;
  }
  // The lowest free uid of [base, base + count), or 0 when all are in use.
  unsigned lease(unsigned base, unsigned count) {
    std::lock_guard lock(mutex_);
    for (unsigned uid = base; uid - base < count; ++uid) {
      if (leased_.insert(uid).second) return uid;
    }
    return 0;
  }
  void release(unsigned uid) {
    std::lock_guard lock(mutex_);
    leased_.erase(uid);
  }

 private:
  std::mutex mutex_;
  std::set<unsigned> leased_;
};

struct UidLease {
  unsigned uid;
  ~UidLease() { UidPool::instance().release(uid); }
};

Result<SandboxIdentity> user_identity(const std::string& user) {
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
  SandboxIdentity identity;
  identity.switch_user = true;
  identity.uid = found->pw_uid;
  identity.gid = found->pw_gid;
  return identity;
}

}  // namespace

FilesystemConfinement choose_filesystem_confinement(int landlock_abi, bool root,
                                                    const SandboxConfinement& confinement) {
  if (confinement.unconfined) return FilesystemConfinement::unconfined;
  if (landlock_abi > 0) return FilesystemConfinement::landlock;
  if (root && confinement.uid_base != 0 && confinement.uid_count != 0)
    return FilesystemConfinement::own_uid;
  return FilesystemConfinement::refused;
}

FilesystemConfinement filesystem_confinement(const SandboxConfinement& confinement) {
  return choose_filesystem_confinement(landlock_abi(), ::geteuid() == 0, confinement);
}

std::string_view confinement_refusal(bool root) {
  if (root)
    return "the kernel has no Landlock and no render_uid_base is configured: the render "
           "helper would share one uid with every other render, so it is not run (enable "
           "Landlock, or reserve a uid range with render_uid_base)";
  return "the kernel has no Landlock and the gateway is not root: the render helper would "
         "run as the gateway's user and could read its keys and queue, so it is not run "
         "(enable Landlock in the kernel)";
}

Result<SandboxIdentity> sandbox_identity(const SandboxConfinement& confinement) {
  const bool root = ::geteuid() == 0;
  const FilesystemConfinement how = filesystem_confinement(confinement);
  if (how == FilesystemConfinement::refused) return Error{std::string(confinement_refusal(root))};
  SandboxIdentity identity;
  if (!root) {
    identity.uid = ::geteuid();
    identity.gid = ::getegid();
  } else if (how == FilesystemConfinement::own_uid) {
    const unsigned uid = UidPool::instance().lease(confinement.uid_base, confinement.uid_count);
    if (uid == 0)
      return Error{"all " + std::to_string(confinement.uid_count) +
                   " uids from render_uid_base are in use by renders in progress"};
    identity.switch_user = true;
    identity.uid = uid;
    identity.gid = uid;
    identity.uid_lease = std::make_shared<const UidLease>(UidLease{uid});
  } else {
    auto user = user_identity(confinement.user);
    if (!user) return user.error();
    identity = user.value();
  }
  identity.confinement = how;
  return identity;
}

std::vector<std::filesystem::path> sandbox_readable_paths() {
  // Found with strace on text, HTML, PDF and image mails (Debian 12). /usr
  // holds the libraries, GLib's and Poppler's data, the locales and fonts.
  return {"/usr",           "/lib",        "/lib64",
          "/lib32",         "/libx32",     "/etc/ld.so.cache",
          "/etc/localtime", "/etc/fonts",  "/var/cache/fontconfig",
          "/dev/null",      "/dev/urandom"};
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

}  // namespace bh
