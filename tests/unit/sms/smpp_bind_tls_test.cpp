// The bind over TLS: through a TLS front (tls_front.hpp) to the fake SMSC,
// the SMSC's certificate verified against tls_ca_file and its name against
// tls_server_name before the bind (and its password) goes out.
#include <gtest/gtest.h>

#include "connectors/sms/smpp_bind.hpp"
#include "tests/unit/sms/smpp_bind_fixture.hpp"
#include "tests/unit/sms/tls_front.hpp"
#include "tests/unit/temp_dir.hpp"
#include "tls/context.hpp"
#include "tls/self_signed.hpp"

namespace bh::connectors::sms {
namespace {

using namespace test;

// An SMSC behind TLS with a certificate for "localhost".
struct SmppBindTlsTest : SmppBindTest {
  bh::test::TempDir dir{"bh-smpp-tls"};
  std::unique_ptr<bh::test::TlsFront> front;
  std::string certificate = (dir / "smsc.pem").string();

  SmppBindTlsTest() {
    std::string key = (dir / "smsc.key").string();
    auto made = tls::ensure_self_signed(certificate, key, "localhost");
    EXPECT_TRUE(made) << (made ? "" : made.error().message);
    tls::ServerTlsSettings server;
    server.certificate = certificate;
    server.private_key = key;
    auto context = tls::make_server_context(server);
    EXPECT_TRUE(context) << (context ? "" : context.error().message);
    if (context) front = std::make_unique<bh::test::TlsFront>(smsc.port(), *context);
    bind_settings.tls = true;
    bind_settings.port = front ? front->port() : 0;
    bind_settings.tls_server_name = "localhost";
  }
};

TEST_F(SmppBindTlsTest, BindsOverTlsWithTheCertificateVerified) {
  ASSERT_TRUE(front);
  bind_settings.tls_ca_file = certificate;
  start();
  ASSERT_TRUE(eventually([&] { return recorder.get(&Recorder::bound_count) == 1; }));
  EXPECT_EQ(front->handshakes(), 1);
  submit(3);
  ASSERT_TRUE(eventually([&] { return recorder.get(&Recorder::answers).size() == 1; }));
  EXPECT_EQ(recorder.get(&Recorder::answers).front().message_id, "m1");
}

TEST_F(SmppBindTlsTest, AnotherNameIsRefusedBeforeTheBind) {
  ASSERT_TRUE(front);
  bind_settings.tls_ca_file = certificate;
  bind_settings.tls_server_name = "smsc.example.com";
  start();
  ASSERT_TRUE(eventually([&] { return front->handshakes() >= 2; }));  // and retried
  EXPECT_EQ(smsc.binds(), 0);                                         // the password never went out
  EXPECT_EQ(recorder.get(&Recorder::bound_count), 0);
}

TEST_F(SmppBindTlsTest, AnUntrustedCertificateIsRefusedBeforeTheBind) {
  ASSERT_TRUE(front);  // no tls_ca_file: the system store does not know it
  start();
  ASSERT_TRUE(eventually([&] { return front->handshakes() >= 2; }));
  EXPECT_EQ(smsc.binds(), 0);
  EXPECT_EQ(recorder.get(&Recorder::bound_count), 0);
}

}  // namespace
}  // namespace bh::connectors::sms
