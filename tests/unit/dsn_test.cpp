#include <gtest/gtest.h>

#include "mail/dsn.hpp"

using namespace bh;

namespace {
Envelope original() {
  Envelope e;
  e.queue_id = "0006610AAAAA0001";
  e.arrival = 1795000000;
  e.sender = Address{"alice", "origin.test"};
  e.envid = "ENV-42";
  e.recipients.push_back({Address{"bob", "example.test"}, 0, "rfc822;bob@example.test"});
  return e;
}
}  // namespace

TEST(Dsn, WhoWantsWhichReport) {
  Recipient plain{Address{"b", "x"}};
  EXPECT_TRUE(dsn_wanted(plain, DsnKind::failure));
  EXPECT_TRUE(dsn_wanted(plain, DsnKind::delay));
  EXPECT_FALSE(dsn_wanted(plain, DsnKind::success));
  Recipient never{Address{"b", "x"}, notify_never};
  EXPECT_FALSE(dsn_wanted(never, DsnKind::failure));
  Recipient success{Address{"b", "x"}, notify_success};
  EXPECT_TRUE(dsn_wanted(success, DsnKind::success));
  EXPECT_FALSE(dsn_wanted(success, DsnKind::failure));
}

TEST(Dsn, FailureReportHasEveryField) {
  Envelope e = original();
  std::string content = "Subject: hello\r\n\r\nbody\r\n";
  DsnRequest request;
  request.kind = DsnKind::failure;
  request.original = &e;
  request.original_content = content;
  request.reporting_host = "gw.example";
  request.now = 1795000100;
  request.recipients.push_back(
      {e.recipients[0], "failed", "5.1.1", "mx.example.test", "550 5.1.1 no such user"});
  std::string dsn = build_dsn(request, "0006610BBBBB0001");
  for (const char* expected :
       {"From: MAILER-DAEMON@gw.example", "To: <alice@origin.test>",
        "Content-Type: multipart/report; report-type=delivery-status;",
        "Content-Type: message/delivery-status", "Reporting-MTA: dns; gw.example",
        "Original-Envelope-Id: ENV-42", "Final-Recipient: rfc822; bob@example.test",
        "Original-Recipient: rfc822; bob@example.test", "Action: failed", "Status: 5.1.1",
        "Remote-MTA: dns; mx.example.test", "Diagnostic-Code: smtp; 550 5.1.1 no such user",
        "Content-Type: message/rfc822\r\n\r\nSubject: hello\r\n\r\nbody\r\n"}) {
    EXPECT_NE(dsn.find(expected), std::string::npos) << expected << "\n" << dsn;
  }
  Envelope envelope = dsn_envelope(request, "0006610BBBBB0001");
  EXPECT_TRUE(envelope.sender.null());
  EXPECT_EQ(envelope.recipients.at(0).address.text(), "alice@origin.test");
}

TEST(Dsn, HeadersOnlyWhenAsked) {
  Envelope e = original();
  e.ret = DsnReturn::headers;
  std::string content = "Subject: hello\r\n\r\nsecret body\r\n";
  DsnRequest request{DsnKind::failure, &e, content, {}, "gw", 1, 0, 50000};
  std::string dsn = build_dsn(request, "ID");
  EXPECT_NE(dsn.find("text/rfc822-headers"), std::string::npos);
  EXPECT_EQ(dsn.find("secret body"), std::string::npos);
}
