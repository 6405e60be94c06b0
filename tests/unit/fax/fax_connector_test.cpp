// The connector's own logic around the render helper: what bounces before
// anything is rendered, and the poll that resolves pending recipients
// (forgetting a job only once its report is recorded).
#include "connectors/fax/fax_connector.hpp"
#include "connectors/delivery_tag.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <mutex>

namespace fax = bh::connectors::fax;
using bh::connectors::Outcome;
using bh::connectors::RecipientResult;

namespace {

class FakeBackend final : public fax::FaxBackend {
 public:
  std::variant<fax::Submitted, fax::SubmitFailure> submit(const fax::FaxSubmission&) override {
    std::lock_guard lock(mutex);
    ++submitted;
    return fax::SubmitFailure{false, "4.4.1", "not in this test"};
  }
  bh::Result<std::vector<fax::FaxJobReport>> finished() override {
    std::lock_guard lock(mutex);
    return reports;  // until forgotten
  }
  bh::Status forget(const std::string& reference) override {
    std::lock_guard lock(mutex);
    forgotten.push_back(reference);
    std::erase_if(reports, [&](const fax::FaxJobReport& r) { return r.reference == reference; });
    return bh::ok_status();
  }
  std::mutex mutex;
  int submitted = 0;
  std::vector<fax::FaxJobReport> reports;
  std::vector<std::string> forgotten;
};

class FakeSink final : public bh::connectors::PendingSink {
 public:
  bool resolve(const std::string& connector, const std::string& reference,
               const RecipientResult& result) override {
    std::lock_guard lock(mutex);
    calls.push_back({connector, reference, result});
    return accept;
  }
  struct Call {
    std::string connector, reference;
    RecipientResult result;
  };
  std::mutex mutex;
  bool accept = false;
  std::vector<Call> calls;
};

fax::FaxSettings settings() {
  fax::FaxSettings s;
  s.name = "fax";
  s.backend = fax::Backend::spool;
  s.domains = {"fax.example.com"};
  s.work_directory =
      std::filesystem::temp_directory_path() / ("bh-fax-connector-" + std::to_string(::getpid()));
  s.spool.poll_interval = std::chrono::seconds(1);
  s.destinations.blocked_prefixes = {"+4940"};
  s.render.program = "/nonexistent/bridgehead-render";
  return s;
}

std::vector<RecipientResult> deliver(fax::FaxConnector& connector,
                                     const std::vector<std::string>& locals,
                                     std::string content = "Subject: x\r\n\r\nhello\r\n") {
  auto message = std::make_shared<bh::queue::QueuedMessage>();
  message->envelope.queue_id = "AAAA0001";
  message->envelope.sender = bh::Address{"ann", "example.com"};
  std::vector<std::size_t> indexes;
  for (const std::string& local : locals) {
    std::size_t at = local.find('@');
    message->envelope.recipients.push_back(
        {bh::Address{local.substr(0, at), local.substr(at + 1)}});
    indexes.push_back(indexes.size());
  }
  message->content = std::move(content);
  std::promise<std::vector<RecipientResult>> results;
  connector.deliver({message, indexes},
                    [&](std::vector<RecipientResult> r) { results.set_value(std::move(r)); });
  return results.get_future().get();
}

}  // namespace

TEST(FaxConnector, RefusesBeforeRendering) {
  auto backend = std::make_unique<FakeBackend>();
  FakeBackend* fake = backend.get();
  auto connector = fax::FaxConnector::create(settings(), std::move(backend), "fake");
  ASSERT_TRUE(connector) << connector.error().message;
  auto results =
      deliver(**connector, {"ann@fax.example.com", "+4930123456@other.example",
                            "+4940123456@fax.example.com", "+499001234567@fax.example.com"});
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].outcome, Outcome::bounced);
  EXPECT_EQ(results[0].status, "5.1.3");
  EXPECT_NE(results[0].diagnostic.find("'ann' is not a fax number"), std::string::npos);
  EXPECT_EQ(results[1].status, "5.1.2");
  EXPECT_EQ(results[2].status, "5.7.1");
  EXPECT_NE(results[2].diagnostic.find("blocked_prefixes entry \"+4940\""), std::string::npos);
  EXPECT_EQ(results[3].status, "5.7.1");
  EXPECT_NE(results[3].diagnostic.find("premium rate"), std::string::npos);

  fax::FaxSettings small = settings();
  small.max_message_bytes = 10;
  auto limited = fax::FaxConnector::create(small, std::make_unique<FakeBackend>(), "fake");
  ASSERT_TRUE(limited);
  results = deliver(**limited, {"+4930123456@fax.example.com", "+4930123457@fax.example.com"});
  ASSERT_EQ(results.size(), 2u);
  for (const RecipientResult& r : results) {
    EXPECT_EQ(r.outcome, Outcome::bounced);
    EXPECT_EQ(r.status, "5.3.4");
  }
  (*connector)->stop();
  EXPECT_EQ(fake->submitted, 0);
}

TEST(FaxConnector, AHelperThatCannotRunDefers) {
  auto connector = fax::FaxConnector::create(settings(), std::make_unique<FakeBackend>(), "fake");
  ASSERT_TRUE(connector);
  auto results = deliver(**connector, {"+4930123456@fax.example.com"});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::deferred) << results[0].diagnostic;
  EXPECT_TRUE(std::filesystem::is_empty(settings().work_directory)) << "work files are removed";
}

TEST(FaxConnector, PollResolvesAndForgetsOnlyRecordedReports) {
  auto backend = std::make_unique<FakeBackend>();
  FakeBackend* fake = backend.get();
  fax::FaxJobReport report;
  report.reference = "job-1";
  report.sent = true;
  report.pages_sent = report.pages_total = 2;
  fake->reports = {report};
  fax::FaxSettings s = settings();
  s.success_notice = fax::SuccessNotice::report;
  auto connector = fax::FaxConnector::create(s, std::move(backend), "fake");
  ASSERT_TRUE(connector);
  FakeSink sink;
  (*connector)->attach(&sink);
  auto calls = [&] {
    std::lock_guard lock(sink.mutex);
    return sink.calls.size();
  };
  // Refused by the sink: reported again at the next poll, never forgotten.
  for (int i = 0; i < 100 && calls() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_GE(calls(), 2u);
  {
    std::lock_guard lock(fake->mutex);
    EXPECT_TRUE(fake->forgotten.empty());
  }
  {
    std::lock_guard lock(sink.mutex);
    sink.accept = true;
    EXPECT_EQ(sink.calls[0].connector, "fax");
    EXPECT_EQ(sink.calls[0].reference, "job-1");
    EXPECT_EQ(sink.calls[0].result.outcome, Outcome::delivered);
    EXPECT_TRUE(sink.calls[0].result.report);
    // A spool folder is no MTA, and its path is not the sender's business.
    EXPECT_EQ(sink.calls[0].result.remote_mta, "");
    EXPECT_EQ(sink.calls[0].result.diagnostic.find("/"), std::string::npos)
        << sink.calls[0].result.diagnostic;
  }
  auto forgotten = [&] {
    std::lock_guard lock(fake->mutex);
    return fake->forgotten.size();
  };
  for (int i = 0; i < 100 && forgotten() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  (*connector)->stop();
  EXPECT_EQ(fake->forgotten, std::vector<std::string>{"job-1"});
}

TEST(FaxConnector, ARecipientIsNotSubmittedOnceStopping) {
  fax::FaxSettings s = settings();
  auto destinations = bh::connectors::DestinationCheck::compile(s.destinations);
  ASSERT_TRUE(destinations) << destinations.error().message;
  FakeBackend backend;
  std::mutex backend_mutex;
  std::string server = "spool /var/spool/fax", remote_mta, place = "the fax spool folder", cover;
  std::atomic<bool> stopping = true;
  fax::DeliveryContext context{s,          *destinations, backend, backend_mutex, server,
                               remote_mta, place,         cover,   stopping};
  auto message = std::make_shared<bh::queue::QueuedMessage>();
  message->envelope.queue_id = "AAAA0002";
  message->envelope.recipients = {{bh::Address{"+4930123456", "fax.example.com"}},
                                  {bh::Address{"+4930123457", "fax.example.com"}}};
  message->content = "Subject: x\r\n\r\nhello\r\n";
  auto results = fax::deliver_fax(context, {message, {0, 1}});
  ASSERT_EQ(results.size(), 2u);
  for (const RecipientResult& r : results) {
    EXPECT_EQ(r.outcome, Outcome::deferred);
    EXPECT_EQ(r.diagnostic, "the gateway is stopping");
  }
  EXPECT_EQ(backend.submitted, 0);
}

TEST(FaxConnector, TheTagNamesQueueFileAndRecipientAddress) {
  std::string tag = bh::connectors::delivery_tag("00065A", "+4930123456@fax.example.com");
  ASSERT_EQ(tag.size(), 6 + 1 + 16);
  EXPECT_EQ(tag.substr(0, 7), "00065A.");
  EXPECT_EQ(tag.find_first_not_of("0123456789abcdef", 7), std::string::npos);
  // The same recipient, however the address is cased, keeps its tag (a
  // rewrite of the queue file must not change it); another recipient not.
  EXPECT_EQ(tag, bh::connectors::delivery_tag("00065A", "+4930123456@FAX.example.com"));
  EXPECT_NE(tag, bh::connectors::delivery_tag("00065A", "+4930123457@fax.example.com"));
  EXPECT_NE(tag, bh::connectors::delivery_tag("00065B", "+4930123456@fax.example.com"));
}
