// Messages that do not come over SMTP go through the same intake: the
// recipients' routes, the message stage (rules, header edits, the stamp)
// and the group commit, with a real spool on disk.
#include "intake/ingest.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>

#include "queue/spool.hpp"

namespace {

using namespace bh;

struct IngestFixture : ::testing::Test {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("bh-ingest-" + std::to_string(::getpid()) + "-" +
                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  bool made = std::filesystem::create_directories(dir);  // before the commit opens it
  queue::Spool spool{dir};
  queue::GroupCommit commit{spool, [](const std::string&) {}};
  boost::asio::io_context io;
  int next_id = 0;

  IngestFixture() {
    EXPECT_TRUE(made);
    EXPECT_TRUE(spool.create_layout());
    commit.start();
  }
  ~IngestFixture() override {
    commit.stop();
    std::filesystem::remove_all(dir);
  }

  intake::Submitted submit(const PolicyHolder& policy, intake::Submission submission,
                           trace::Sink* trace = nullptr) {
    intake::Ingest ingest(
        policy, commit, [this] { return "ING" + std::to_string(++next_id); },
        [] { return std::int64_t{1795000000}; }, io.get_executor(), trace);
    std::optional<intake::Submitted> got;
    io.restart();                                  // the last answer's end of work stopped it
    auto work = boost::asio::make_work_guard(io);  // run_one waits for the answer
    ingest.submit(std::move(submission), [&](intake::Submitted s) { got = std::move(s); });
    while (!got) io.run_one();
    return std::move(*got);
  }
};

// Keeps what the ingest records, in order.
struct RecordingSink : trace::Sink {
  std::vector<trace::TraceEvent> events;
  void record(trace::TraceEvent event) override { events.push_back(std::move(event)); }
  std::vector<const trace::TraceEvent*> of(trace::Kind kind) const {
    std::vector<const trace::TraceEvent*> found;
    for (const auto& e : events)
      if (e.kind == kind) found.push_back(&e);
    return found;
  }
};

std::shared_ptr<const PolicySet> policy_with(std::vector<Route> routes,
                                             std::vector<TransportRule> rules = {}) {
  return std::make_shared<const PolicySet>(
      std::move(routes), TrustConfig{}, nullptr,
      std::make_shared<const TransportRules>(std::move(rules)),
      std::make_shared<const StampKeys>(StampKeys{std::string(32, 'k'), "", "gw.test"}));
}

intake::Submission fax_to(std::string local, std::string domain, std::string content) {
  intake::Submission s;
  s.origin.source = intake::Source::fax;
  s.envelope.sender = Address{"+4930123456", "fax.example.com"};
  s.envelope.recipients.push_back({Address{std::move(local), std::move(domain)}, 0, ""});
  s.content = std::move(content);
  return s;
}

TEST_F(IngestFixture, AnIncomingFaxIsRoutedStampedAndDurable) {
  PolicyHolder policy(policy_with({Route{{"contoso.com"}, "exo-contoso", ""}}));
  auto result = submit(policy, fax_to("user", "contoso.com",
                                      "From: <+4930123456@fax.example.com>\r\n"
                                      "Message-ID: <f1@fax.example.com>\r\nSubject: Fax\r\n\r\n"
                                      "2 pages\r\n"));
  ASSERT_TRUE(result.accepted) << result.verdict.reason;
  auto queued = spool.load(queue::State::incoming, result.queue_id);
  ASSERT_TRUE(queued) << queued.error().message;
  ASSERT_EQ(queued->envelope.recipients.size(), 1u);
  // The routing table is asked at each attempt (a reload applies); only a rule's choice is kept.
  EXPECT_EQ(queued->envelope.recipients[0].connector, "");
  EXPECT_EQ(queued->envelope.client.helo, "fax");
  EXPECT_TRUE(queued->content.starts_with("X-Bridgehead-Processed: v=1; n=gw.test;"))
      << queued->content;
  EXPECT_NE(queued->content.find("\r\n\r\n2 pages\r\n"), std::string::npos);
}

TEST_F(IngestFixture, RulesApplyToIngestToo) {
  TransportRule rule;
  rule.name = "tag faxes";
  rule.header_edits.push_back({HeaderEdit::Kind::add, "X-Tag", "fax-in"});
  rule.route_to = "archive";
  PolicyHolder policy(policy_with(
      {Route{{"contoso.com"}, "exo-contoso", ""}, Route{{"archive.test"}, "archive", ""}}, {rule}));
  auto result = submit(policy, fax_to("user", "contoso.com", "Subject: Fax\r\n\r\nbody\r\n"));
  ASSERT_TRUE(result.accepted) << result.verdict.reason;
  auto queued = spool.load(queue::State::incoming, result.queue_id);
  ASSERT_TRUE(queued);
  EXPECT_EQ(queued->envelope.recipients[0].connector, "archive");
  EXPECT_NE(queued->content.find("X-Tag: fax-in\r\n"), std::string::npos);
}

TEST_F(IngestFixture, UnroutableRecipientAndBadContentAreRefused) {
  PolicyHolder policy(policy_with({Route{{"contoso.com"}, "exo-contoso", ""}}));
  auto unroutable = submit(policy, fax_to("user", "elsewhere.test", "Subject: x\r\n\r\nb\r\n"));
  EXPECT_FALSE(unroutable.accepted);
  EXPECT_EQ(unroutable.verdict.code, 550);
  EXPECT_EQ(unroutable.verdict.enhanced, "5.7.1");
  auto bare_lf = submit(policy, fax_to("user", "contoso.com", "Subject: x\n\nbody\n"));
  EXPECT_FALSE(bare_lf.accepted);
  EXPECT_EQ(bare_lf.verdict.code, 554);
  EXPECT_NE(bare_lf.verdict.reply.find("bare LF"), std::string::npos);
  EXPECT_TRUE(spool.list(queue::State::incoming).empty());
}

TEST_F(IngestFixture, EachRuleHeaderEditIsTracedFieldByField) {
  TransportRule tag;
  tag.name = "tag faxes";
  tag.header_edits.push_back({HeaderEdit::Kind::add, "X-Tag", "fax-in"});
  tag.header_edits.push_back({HeaderEdit::Kind::set, "Subject", "[fax] Fax"});
  TransportRule strip;
  strip.name = "strip internal";
  strip.header_edits.push_back({HeaderEdit::Kind::remove, "X-Internal", ""});
  strip.header_edits.push_back({HeaderEdit::Kind::remove, "X-Absent", ""});  // changes nothing
  PolicyHolder policy(policy_with({Route{{"contoso.com"}, "exo-contoso", ""}}, {tag, strip}));
  RecordingSink sink;
  auto result = submit(
      policy, fax_to("user", "contoso.com", "Subject: Fax\r\nX-Internal: 1\r\n\r\nb\r\n"), &sink);
  ASSERT_TRUE(result.accepted) << result.verdict.reason;
  auto edits = sink.of(trace::Kind::header_edit);
  ASSERT_EQ(edits.size(), 3u);
  EXPECT_EQ(edits[0]->detail, "rule tag faxes: add X-Tag: fax-in");
  EXPECT_EQ(edits[1]->detail, "rule tag faxes: set Subject: [fax] Fax (replaced 1 field)");
  EXPECT_EQ(edits[2]->detail, "rule strip internal: removed 1 X-Internal field");
  for (const auto* e : edits) {
    EXPECT_EQ(e->message_id, result.queue_id);
    EXPECT_EQ(e->stage, "header_edit");
  }
  // The rules' match is a decision; the queued message a received event, last.
  ASSERT_EQ(sink.of(trace::Kind::received).size(), 1u);
  EXPECT_EQ(sink.events.back().kind, trace::Kind::received);
  EXPECT_TRUE(sink.of(trace::Kind::refused).empty());
}

TEST_F(IngestFixture, ARefusedSubmissionIsTracedWithTheAnswerItGot) {
  PolicyHolder policy(policy_with({Route{{"contoso.com"}, "exo-contoso", ""}}));
  RecordingSink sink;
  auto unroutable =
      submit(policy, fax_to("user", "elsewhere.test", "Subject: x\r\n\r\nb\r\n"), &sink);
  ASSERT_FALSE(unroutable.accepted);
  auto refused = sink.of(trace::Kind::refused);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0]->stage, "route");
  EXPECT_EQ(refused[0]->code, 550);
  EXPECT_EQ(refused[0]->enhanced, "5.7.1");
  EXPECT_EQ(refused[0]->recipients, std::vector<std::string>{"user@elsewhere.test"});
  EXPECT_EQ(refused[0]->recipient, "user@elsewhere.test");
  EXPECT_EQ(refused[0]->sender, "+4930123456@fax.example.com");
  EXPECT_FALSE(refused[0]->message_id.empty());
  // The stage's decision, with its reason, comes before the refusal.
  ASSERT_GE(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].kind, trace::Kind::decision);
  EXPECT_EQ(sink.events[0].detail, "no route for elsewhere.test");
  EXPECT_EQ(sink.events[0].recipient, "user@elsewhere.test");
  EXPECT_TRUE(sink.of(trace::Kind::received).empty());

  sink.events.clear();
  auto bare_lf = submit(policy, fax_to("user", "contoso.com", "Subject: x\n\nbody\n"), &sink);
  ASSERT_FALSE(bare_lf.accepted);
  refused = sink.of(trace::Kind::refused);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0]->stage, "content");
  EXPECT_EQ(refused[0]->code, 554);
  EXPECT_NE(refused[0]->detail.find("bare LF"), std::string::npos);
}

TEST(ContentProblem, NamesWhatIsWrong) {
  Limits limits;
  EXPECT_EQ(intake::content_problem("Subject: x\r\n\r\nbody\r\n", limits), "");
  EXPECT_EQ(intake::content_problem(std::string_view("S: x\r\n\r\na\0b\r\n", 14), limits),
            "NUL byte at offset 9");
  EXPECT_EQ(intake::content_problem("S: x\r\n\r\na\rb\r\n", limits), "bare CR at offset 9");
  EXPECT_EQ(intake::content_problem("S: x\r\n\r\nno end", limits),
            "the message does not end with CRLF");
  EXPECT_EQ(intake::content_problem("\r\nbody\r\n", limits), "the message has no header fields");
  std::string long_line = "S: x\r\n\r\n" + std::string(999, 'a') + "\r\n";
  EXPECT_EQ(intake::content_problem(long_line, limits),
            "a line longer than 998 characters at offset 8");
}

}  // namespace
