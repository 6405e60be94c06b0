// Self-signed certificate creation is atomic (issue 12 item 9): gateways
// started at once on the same missing files end with one matching pair.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls/self_signed.hpp"

namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "bh-selfsigned-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path); }
};

// "" when the key file holds the private key of the certificate file.
std::string pair_problem(const fs::path& certificate, const fs::path& key) {
  std::FILE* cf = std::fopen(certificate.c_str(), "r");
  if (!cf) return "no certificate";
  X509* x509 = PEM_read_X509(cf, nullptr, nullptr, nullptr);
  std::fclose(cf);
  std::FILE* kf = std::fopen(key.c_str(), "r");
  if (!kf) {
    X509_free(x509);
    return "no key";
  }
  EVP_PKEY* pkey = PEM_read_PrivateKey(kf, nullptr, nullptr, nullptr);
  std::fclose(kf);
  std::string problem;
  if (!x509)
    problem = "certificate does not parse";
  else if (!pkey)
    problem = "key does not parse";
  else if (X509_check_private_key(x509, pkey) != 1)
    problem = "key does not match the certificate";
  X509_free(x509);
  EVP_PKEY_free(pkey);
  return problem;
}

std::vector<std::string> leftovers(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename() != "cert.pem" && entry.path().filename() != "key.pem")
      names.push_back(entry.path().filename().string());
  return names;
}

}  // namespace

TEST(SelfSigned, ConcurrentCreatorsEndWithOneMatchingPair) {
  for (int round = 0; round < 8; ++round) {
    TempDir dir;
    fs::path certificate = dir.path / "tls" / "cert.pem", key = dir.path / "tls" / "key.pem";
    constexpr int kCreators = 4;
    std::atomic<int> ready{0}, created{0}, failed{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kCreators; ++i)
      threads.emplace_back([&] {
        ++ready;
        while (ready < kCreators) std::this_thread::yield();  // start together
        auto made = bh::tls::ensure_self_signed(certificate, key, "gw.example");
        if (!made)
          ++failed;
        else if (*made)
          ++created;
      });
    for (auto& t : threads) t.join();
    EXPECT_EQ(failed, 0);
    EXPECT_EQ(created, 1) << "exactly one creator writes the pair; the others find it";
    EXPECT_EQ(pair_problem(certificate, key), "") << "round " << round;
    EXPECT_EQ(leftovers(certificate.parent_path()), std::vector<std::string>{});
    struct stat st {};
    ASSERT_EQ(::stat(key.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }
}

TEST(SelfSigned, ExistingPairIsKeptAndAMissingHalfIsReplacedByANewPair) {
  TempDir dir;
  fs::path certificate = dir.path / "cert.pem", key = dir.path / "key.pem";
  auto first = bh::tls::ensure_self_signed(certificate, key, "gw.example");
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(*first);
  auto before = fs::last_write_time(certificate);
  auto again = bh::tls::ensure_self_signed(certificate, key, "gw.example");
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  EXPECT_EQ(fs::last_write_time(certificate), before);

  for (const fs::path& gone : {key, certificate}) {
    fs::remove(gone);
    auto remade = bh::tls::ensure_self_signed(certificate, key, "gw.example");
    ASSERT_TRUE(remade) << remade.error().message;
    EXPECT_TRUE(*remade);
    EXPECT_EQ(pair_problem(certificate, key), "");
    EXPECT_EQ(leftovers(dir.path), std::vector<std::string>{});
  }
}

TEST(SelfSigned, AddressLiteralHostnameGetsAnIpSan) {
  TempDir dir;
  fs::path certificate = dir.path / "cert.pem", key = dir.path / "key.pem";
  for (const char* hostname : {"[192.0.2.1]", "[IPv6:2001:db8::1]"}) {
    fs::remove(certificate);
    auto made = bh::tls::ensure_self_signed(certificate, key, hostname);
    ASSERT_TRUE(made) << made.error().message;
    std::FILE* f = std::fopen(certificate.c_str(), "r");
    ASSERT_TRUE(f);
    X509* x509 = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    ASSERT_TRUE(x509);
    std::string ip = hostname[1] == 'I' ? "2001:db8::1" : "192.0.2.1";
    EXPECT_EQ(X509_check_ip_asc(x509, ip.c_str(), 0), 1) << hostname;
    X509_free(x509);
    EXPECT_EQ(pair_problem(certificate, key), "");
  }
}
