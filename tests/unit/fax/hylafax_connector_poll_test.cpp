// The connector's poll beside its submissions: a backend that
// polls_alongside_submissions() (the HylaFAX one) is polled without the
// submission lock, so a slow poll (call facts over a slow link) holds up
// no delivery; any other backend is never called twice at once.
#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>

#include "connectors/fax/fax_connector.hpp"

namespace fax = bh::connectors::fax;
using bh::connectors::RecipientResult;

namespace {

// finished() waits (at most `wait`) for a submit() to arrive while it runs.
class SlowPollBackend final : public fax::FaxBackend {
 public:
  SlowPollBackend(bool alongside, std::chrono::milliseconds wait)
      : alongside_(alongside), wait_(wait) {}
  std::variant<fax::Submitted, fax::SubmitFailure> submit(const fax::FaxSubmission&) override {
    std::lock_guard lock(mutex);
    ++submitted;
    if (polling) submitted_during_poll = true;
    changed.notify_all();
    return fax::SubmitFailure{false, "4.4.1", "not in this test"};
  }
  bh::Result<std::vector<fax::FaxJobReport>> finished() override {
    std::unique_lock lock(mutex);
    polling = true;
    ++polls;
    changed.notify_all();
    changed.wait_for(lock, wait_, [this] { return submitted > 0; });
    polling = false;
    return std::vector<fax::FaxJobReport>{};
  }
  bh::Status forget(const std::string&) override { return bh::ok_status(); }
  bool polls_alongside_submissions() const override { return alongside_; }

  std::mutex mutex;
  std::condition_variable changed;
  bool polling = false;
  int polls = 0;
  int submitted = 0;
  bool submitted_during_poll = false;

 private:
  bool alongside_;
  std::chrono::milliseconds wait_;
};

class NoSink final : public bh::connectors::PendingSink {
 public:
  bool resolve(const std::string&, const std::string&, const RecipientResult&) override {
    return false;
  }
};

fax::FaxSettings settings(const std::string& name) {
  fax::FaxSettings s;
  s.name = "fax";
  s.backend = fax::Backend::spool;  // only its poll_interval is used
  s.domains = {"fax.example.com"};
  s.work_directory = std::filesystem::temp_directory_path() /
                     ("bh-fax-poll-" + std::to_string(::getpid()) + "-" + name);
  s.spool.poll_interval = std::chrono::seconds(1);
  s.render.program = BH_RENDER_HELPER;
  return s;
}

// Delivers one fax once the backend is being polled; true when the poll
// was still running when the submission came.
bool submitted_during_poll(bool alongside, std::chrono::milliseconds poll_wait) {
  auto backend = std::make_unique<SlowPollBackend>(alongside, poll_wait);
  SlowPollBackend* fake = backend.get();
  fax::FaxSettings s = settings(alongside ? "alongside" : "serial");
  auto connector = fax::FaxConnector::create(s, std::move(backend), "fake");
  EXPECT_TRUE(connector) << connector.error().message;
  if (!connector) return false;
  NoSink sink;
  (*connector)->attach(&sink);
  {
    std::unique_lock lock(fake->mutex);
    EXPECT_TRUE(
        fake->changed.wait_for(lock, std::chrono::seconds(20), [&] { return fake->polling; }));
  }
  auto message = std::make_shared<bh::queue::QueuedMessage>();
  message->envelope.queue_id = "AAAA0002";
  message->envelope.sender = bh::Address{"ann", "example.com"};
  message->envelope.recipients.push_back({bh::Address{"+4930123456", "fax.example.com"}});
  message->content = "Subject: x\r\n\r\nhello\r\n";
  std::promise<std::vector<RecipientResult>> results;
  (*connector)->deliver({message, {0}}, [&](std::vector<RecipientResult> r) {
    results.set_value(std::move(r));
  });
  auto delivered = results.get_future().get();
  EXPECT_EQ(delivered.size(), 1u);
  (*connector)->stop();
  std::filesystem::remove_all(s.work_directory);
  std::lock_guard lock(fake->mutex);
  EXPECT_EQ(fake->submitted, 1) << (delivered.empty() ? "" : delivered[0].diagnostic);
  return fake->submitted_during_poll;
}

}  // namespace

TEST(FaxConnectorPoll, ABackendThatAllowsItIsPolledBesideSubmissions) {
  // The poll waits up to 30 s for the submission; before the fix it held
  // the submission lock, so the submission came only after it.
  EXPECT_TRUE(submitted_during_poll(true, std::chrono::seconds(30)));
}

TEST(FaxConnectorPoll, AnyOtherBackendMakesOneCallAtATime) {
  EXPECT_FALSE(submitted_during_poll(false, std::chrono::milliseconds(500)));
}
