#include "tls/self_signed.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace bh::tls {
namespace {

struct Deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(std::FILE* p) const { std::fclose(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Deleter>;

bool add_extension(X509* certificate, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, certificate, certificate, nullptr, nullptr, 0);
  Owned<X509_EXTENSION> extension(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  return extension && X509_add_ext(certificate, extension.get(), -1) == 1;
}

// A temporary file next to `path`, removed again unless released.
struct TempFile {
  std::string path;
  ~TempFile() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

// Writes what `write` puts into a FILE* to a fresh temporary file next to
// `final_path` with `mode`, flushed to disk.
template <typename Write>
Status write_temp(const std::string& final_path, mode_t mode, TempFile& temp, Write write) {
  std::string pattern = final_path + ".tmp.XXXXXX";
  int fd = ::mkstemp(pattern.data());  // mode 0600
  if (fd < 0) return system_error("create a temporary file for " + final_path, errno);
  temp.path = pattern;
  if (::fchmod(fd, mode) != 0) {
    int error = errno;
    ::close(fd);
    return system_error("chmod " + temp.path, error);
  }
  Owned<std::FILE> file(::fdopen(fd, "w"));
  if (!file) {
    int error = errno;
    ::close(fd);
    return system_error("open " + temp.path, error);
  }
  if (!write(file.get()) || std::fflush(file.get()) != 0 || ::fsync(fd) != 0)
    return Error{"cannot write " + temp.path};
  if (std::fclose(file.release()) != 0) return system_error("close " + temp.path, errno);
  return ok_status();
}

void sync_directory(const std::filesystem::path& file) {
  std::string dir = file.has_parent_path() ? file.parent_path().string() : ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// Holds an exclusive flock(2) on a directory while alive: one creator at a
// time, across processes (and across threads: each has its own descriptor).
class DirectoryLock {
 public:
  explicit DirectoryLock(const std::filesystem::path& file) {
    std::string dir = file.has_parent_path() ? file.parent_path().string() : ".";
    fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0) {
      error_ = errno;
      return;
    }
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      error_ = errno;
      break;
    }
  }
  ~DirectoryLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  int error() const { return error_; }

 private:
  int fd_ = -1;
  int error_ = 0;
};

std::string subject_alt_name(const std::string& hostname) {
  // An address literal ("[192.0.2.1]", "[IPv6:2001:db8::1]") is an IP SAN.
  if (hostname.size() > 2 && hostname.front() == '[' && hostname.back() == ']') {
    std::string inner = hostname.substr(1, hostname.size() - 2);
    if (inner.size() > 5 && (inner[0] == 'I' || inner[0] == 'i') && inner[4] == ':')
      inner = inner.substr(5);
    return "IP:" + inner;
  }
  return "DNS:" + hostname;
}

}  // namespace

Result<bool> ensure_self_signed(const std::string& certificate_path, const std::string& key_path,
                                const std::string& hostname) {
  namespace fs = std::filesystem;
  if (fs::exists(certificate_path) && fs::exists(key_path)) return false;
  std::error_code ec;
  for (const auto& path : {fs::path(certificate_path), fs::path(key_path)})
    if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);

  // Gateways started at once on the same missing files: the first creates
  // them, the others wait here and then find both in place.
  DirectoryLock lock{fs::path(certificate_path)};
  if (lock.error() != 0)
    return system_error("lock the directory of " + certificate_path, lock.error());
  bool certificate_exists = fs::exists(certificate_path);
  if (certificate_exists && fs::exists(key_path)) return false;

  Owned<EVP_PKEY> key(EVP_EC_gen("P-256"));
  if (!key) return Error{"cannot generate a P-256 key"};
  Owned<X509> certificate(X509_new());
  X509_set_version(certificate.get(), 2);
  unsigned char serial_bytes[16];
  RAND_bytes(serial_bytes, sizeof serial_bytes);
  serial_bytes[0] &= 0x7F;
  BIGNUM* serial = BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr);
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(certificate.get()));
  BN_free(serial);
  X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(certificate.get()), 10L * 365 * 24 * 3600);
  X509_set_pubkey(certificate.get(), key.get());
  X509_NAME* name = X509_get_subject_name(certificate.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(hostname.c_str()), -1, -1, 0);
  X509_set_issuer_name(certificate.get(), name);
  if (!add_extension(certificate.get(), NID_subject_alt_name, subject_alt_name(hostname)) ||
      !add_extension(certificate.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(certificate.get(), NID_ext_key_usage, "serverAuth,clientAuth"))
    return Error{"cannot add certificate extensions"};
  if (X509_sign(certificate.get(), key.get(), EVP_sha256()) == 0)
    return Error{"cannot sign the self-signed certificate"};

  // Both files are complete on disk before either is renamed into place.
  TempFile key_temp, certificate_temp;
  if (auto written = write_temp(key_path, 0600, key_temp,
                                [&](std::FILE* f) {
                                  return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0,
                                                              nullptr, nullptr) == 1;
                                });
      !written)
    return written.error();
  if (auto written =
          write_temp(certificate_path, 0644, certificate_temp,
                     [&](std::FILE* f) { return PEM_write_X509(f, certificate.get()) == 1; });
      !written)
    return written.error();

  // Readers take the pair as complete when both exist, and check-config
  // loads it once the certificate exists: the file that is missing now is
  // renamed last (the certificate when both are missing), so no one sees a
  // new key with an old certificate or the other way round.
  TempFile* order[] = {&key_temp, &certificate_temp};
  const std::string* finals[] = {&key_path, &certificate_path};
  if (certificate_exists) {
    std::swap(order[0], order[1]);
    std::swap(finals[0], finals[1]);
  }
  for (int i = 0; i < 2; ++i) {
    if (::rename(order[i]->path.c_str(), finals[i]->c_str()) != 0)
      return system_error("rename " + order[i]->path + " to " + *finals[i], errno);
    order[i]->path.clear();  // it is the final file now
  }
  sync_directory(key_path);
  sync_directory(certificate_path);
  return true;
}

}  // namespace bh::tls
