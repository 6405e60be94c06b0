#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tls/client_policy.hpp"
#include "tls/name_match.hpp"

using bh::tls::certificate_matches;
using bh::tls::name_matches;
using bh::tls::name_mismatch;
using bh::tls::sni_name;
using bh::tls::valid_wildcard;

namespace {

// ---------------------------------------------------------------- inbound (pure)

struct InboundCase {
  const char* expected;  // the connector's certificate_names entry
  std::vector<std::string> dns_names;
  const char* common_name;
  bool match;
};

const InboundCase kInbound[] = {
    {"mail.protection.outlook.com", {"mail.protection.outlook.com"}, "", true},
    {"MAIL.protection.outlook.com.", {"mail.protection.outlook.com"}, "", true},
    {"mail.protection.outlook.com", {"other.example", "mail.protection.outlook.com"}, "", true},
    {"*.mail.protection.outlook.com", {"contoso.mail.protection.outlook.com"}, "", true},
    {"*.mail.protection.outlook.com", {"a.b.mail.protection.outlook.com"}, "", false},
    {"*.mail.protection.outlook.com", {"mail.protection.outlook.com"}, "", false},
    // a certificate wildcard against the configured exact name
    {"mail.protection.outlook.com", {"*.protection.outlook.com"}, "", true},
    {"mail.protection.outlook.com", {"*.outlook.com"}, "", false},
    // "*.com" is no wildcard, in either direction
    {"example.com", {"*.com"}, "", false},
    {"*.com", {"example.com"}, "", false},
    {"*.example.com", {"*.example.com"}, "", true},  // the same set of names
    {"*.example.com", {"*.a.example.com"}, "", false},
    {"a.example.com", {"*.*.example.com"}, "", false},
    {"foo.example.com", {"f*.example.com"}, "", false},  // partial wildcards never match
    {"foo.example.com", {"*oo.example.com"}, "", false},
    {"mx.example.com", {"mx.example.com.evil.test"}, "", false},
    {"mx.example.com", {"a.example.com"}, "mx.example.com", false},  // CN only without DNS SANs
    {"mx.example.com", {}, "mx.example.com", true},
    {"*.example.com", {}, "mx.example.com", true},
    {"mx.example.com", {}, "", false},
    {"", {"mx.example.com"}, "", false},
    {"*.0.0.1", {"127.0.0.1"}, "", false},  // a wildcard never matches an IP literal
    {"a..example.com", {"a..example.com"}, "", false},
    {"*", {"example.com"}, "", false},
};

TEST(NameMatch, InboundTable) {
  for (const auto& c : kInbound) {
    std::string names;
    for (const auto& n : c.dns_names) names += n + " ";
    EXPECT_EQ(certificate_matches(c.expected, c.dns_names, c.common_name), c.match)
        << "expected " << c.expected << " against DNS [" << names << "] CN " << c.common_name;
  }
}

TEST(NameMatch, PatternAgainstHost) {
  EXPECT_TRUE(name_matches("*.protection.outlook.com", "mail.protection.outlook.com"));
  EXPECT_FALSE(name_matches("*.outlook.com", "mail.protection.outlook.com"));  // one label only
  EXPECT_FALSE(name_matches("*.outlook.com", "outlook.com"));
  EXPECT_FALSE(name_matches("*.outlook.com", ".outlook.com"));
  EXPECT_FALSE(name_matches("mail.example.com", "mail.example.org"));
  EXPECT_FALSE(name_matches("", "x"));
  EXPECT_FALSE(name_matches("mail.example.com", "*.example.com"));  // a host is no pattern
}

TEST(NameMatch, ValidWildcard) {
  EXPECT_TRUE(valid_wildcard("*.example.com"));
  EXPECT_TRUE(valid_wildcard("*.Example.COM."));
  EXPECT_FALSE(valid_wildcard("*.com"));
  EXPECT_FALSE(valid_wildcard("*"));
  EXPECT_FALSE(valid_wildcard("*."));
  EXPECT_FALSE(valid_wildcard("f*.example.com"));
  EXPECT_FALSE(valid_wildcard("*.*.example.com"));
  EXPECT_FALSE(valid_wildcard("example.com"));
}

TEST(NameMatch, SniNeverWildcardOrAddress) {
  EXPECT_EQ(sni_name("", "mx.example.com"), "mx.example.com");
  EXPECT_EQ(sni_name("tls.example.com", "mx.example.com"), "tls.example.com");
  EXPECT_EQ(sni_name("Mail.Example.COM.", "mx.example.com"), "mail.example.com");
  EXPECT_EQ(sni_name("*.example.com", "mx.example.com"), "mx.example.com");
  EXPECT_EQ(sni_name("*.example.com", "192.0.2.1"), "");
  EXPECT_EQ(sni_name("", "192.0.2.1"), "");
  EXPECT_EQ(sni_name("", "2001:db8::1"), "");
  EXPECT_EQ(sni_name("", "[2001:db8::1]"), "");
  EXPECT_EQ(sni_name("192.0.2.1", "mx.example.com"), "");
}

// ---------------------------------------------------------------- outbound (OpenSSL)

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using Cert = std::unique_ptr<X509, X509Free>;

// An (unsigned) certificate with this CN and subjectAltName ("DNS:a,IP:1.2.3.4"):
// the name checks read only the subject and the extension.
Cert make_cert(const std::string& cn, const std::string& san) {
  Cert cert(X509_new());
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (!cn.empty())
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  if (!san.empty()) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
    EXPECT_NE(ext, nullptr) << san;
    if (ext != nullptr) {
      X509_add_ext(cert.get(), ext, -1);
      X509_EXTENSION_free(ext);
    }
  }
  return cert;
}

struct OutboundCase {
  const char* cn;
  const char* san;
  const char* reference;  // tls_domain or the host name connected to
  bool match;
};

const OutboundCase kOutbound[] = {
    {"", "DNS:mx.example.com", "mx.example.com", true},
    {"", "DNS:mx.example.com", "MX.Example.COM.", true},
    {"", "DNS:*.example.com", "mx.example.com", true},
    {"", "DNS:*.example.com", "a.b.example.com", false},  // one label only
    {"", "DNS:*.example.com", "example.com", false},
    {"", "DNS:*.com", "example.com", false},               // needs two labels after the "*"
    {"", "DNS:f*.example.com", "foo.example.com", false},  // no partial wildcards
    {"mx.example.com", "DNS:a.example.com", "mx.example.com", false},  // CN ignored with SANs
    {"mx.example.com", "", "mx.example.com", true},                    // CN without DNS SANs
    {"mx.example.com", "IP:192.0.2.1", "mx.example.com", true},        // an IP SAN is no DNS SAN
    {"", "IP:192.0.2.1", "192.0.2.1", true},
    {"", "IP:192.0.2.1", "192.0.2.2", false},
    {"", "DNS:192.0.2.1", "192.0.2.1", false},  // an address needs an IP SAN
    {"192.0.2.1", "", "192.0.2.1", false},      // ... not a CN
    {"", "IP:2001:db8::1", "2001:db8::1", true},
    {"", "IP:2001:db8::1", "[2001:db8::1]", true},
    {"", "DNS:mx.example.com,IP:192.0.2.1", "192.0.2.1", true},
    // a wildcard tls_domain: any direct child of the domain
    {"", "DNS:mx.example.com", "*.example.com", true},
    {"", "DNS:*.example.com", "*.example.com", true},
    {"", "DNS:example.com", "*.example.com", false},
    {"", "DNS:a.b.example.com", "*.example.com", false},
    {"", "DNS:mx.example.org", "*.example.com", false},
    {"", "DNS:example.com", "*.com", false},  // "*.com" is refused as a tls_domain
    {"", "DNS:mx.example.com", "", false},
};

TEST(NameMatch, OutboundTableThroughOpenSsl) {
  for (const auto& c : kOutbound) {
    Cert cert = make_cert(c.cn, c.san);
    std::optional<std::string> why = name_mismatch(cert.get(), c.reference);
    EXPECT_EQ(!why.has_value(), c.match)
        << "certificate CN " << c.cn << " SAN " << c.san << " against " << c.reference << ": "
        << why.value_or("matched");
  }
}

TEST(NameMatch, DomainPolicyUsesThePeerCertificate) {
  Cert cert = make_cert("ignored.example.com", "DNS:mx.example.com,IP:192.0.2.1");
  bh::tls::PeerIdentity peer;
  peer.presented = true;
  peer.chain_verified = true;
  peer.common_name = "ignored.example.com";
  peer.dns_names = {"mx.example.com"};
  peer.ip_addresses = {"192.0.2.1"};
  X509_up_ref(cert.get());
  peer.certificate = std::shared_ptr<X509>(cert.get(), X509_free);
  using bh::tls::ClientPolicy;
  EXPECT_EQ(policy_violation(ClientPolicy::domain, peer, "mx.example.com"), std::nullopt);
  EXPECT_EQ(policy_violation(ClientPolicy::domain, peer, "192.0.2.1"), std::nullopt);
  auto violation = policy_violation(ClientPolicy::domain, peer, "ignored.example.com");
  ASSERT_TRUE(violation.has_value());
  EXPECT_NE(violation->find("does not match ignored.example.com"), std::string::npos) << *violation;
  EXPECT_NE(violation->find("192.0.2.1"), std::string::npos) << *violation;
  // verify checks the chain only
  EXPECT_EQ(policy_violation(ClientPolicy::verify, peer, "ignored.example.com"), std::nullopt);
  // no certificate kept: never a match
  peer.certificate.reset();
  EXPECT_TRUE(policy_violation(ClientPolicy::domain, peer, "mx.example.com").has_value());
}

}  // namespace
