// The submission's side of page one's thumbnail (report_thumbnail), with
// the real render helper: the request's thumbnails go to the shared store
// in one transaction once every recipient is submitted; a store that is
// down, or a thumbnail that cannot be drawn, never keeps the fax from
// going (the recipients are pending all the same).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>

#include "connectors/fax/fax_delivery.hpp"
#include "connectors/fax/thumbnail_store.hpp"
#include "tests/unit/fax/flaky_database.hpp"
#include "tests/unit/store/store_fixture.hpp"

namespace fax = bh::connectors::fax;
using bh::connectors::Outcome;
using bh::connectors::RecipientResult;

namespace {

class AcceptingBackend final : public fax::FaxBackend {
 public:
  std::variant<fax::Submitted, fax::SubmitFailure> submit(const fax::FaxSubmission& s) override {
    return fax::Submitted{"job-" + s.number};
  }
  bh::Result<std::vector<fax::FaxJobReport>> finished() override {
    return std::vector<fax::FaxJobReport>{};
  }
  bh::Status forget(const std::string&) override { return bh::ok_status(); }
};

class FaxDeliveryThumbnail : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db.ok()) << db.message();
    real = db.open();
    ASSERT_TRUE(real);
    flaky = std::make_shared<bh::test::FlakyDatabase>(real);
    auto store = fax::ThumbnailStore::open(flaky);
    ASSERT_TRUE(store) << store.error().message;
    thumbnails = std::move(*store);
    s.name = "fax";
    s.backend = fax::Backend::spool;
    s.domains = {"fax.example.com"};
    s.work_directory = std::filesystem::temp_directory_path() /
                       ("bh-fax-delivery-thumbnail-" + std::to_string(::getpid()));
    std::filesystem::create_directories(s.work_directory);
    s.render.program = BH_RENDER_HELPER;
    s.success_notice = fax::SuccessNotice::report;
    s.thumbnail.enabled = true;
  }
  void TearDown() override { std::filesystem::remove_all(s.work_directory); }

  std::vector<RecipientResult> deliver() {
    auto destinations = bh::connectors::DestinationCheck::compile(s.destinations);
    EXPECT_TRUE(destinations);
    std::mutex backend_mutex;
    std::string server = "spool", remote_mta, place = "the fax spool folder", cover;
    std::atomic<bool> stopping = false;
    fax::DeliveryContext context{s,        *destinations,   backend, backend_mutex,
                                 server,   remote_mta,      place,   cover,
                                 stopping, thumbnails.get()};
    auto message = std::make_shared<bh::queue::QueuedMessage>();
    message->envelope.queue_id = "AAAA0003";
    message->envelope.sender = bh::Address{"ann", "example.com"};
    message->envelope.recipients = {{bh::Address{"+4930123456", "fax.example.com"}},
                                    {bh::Address{"+4930123457", "fax.example.com"}}};
    message->content = "Subject: x\r\n\r\nSeite eins\r\n";
    return fax::deliver_fax(context, {message, {0, 1}});
  }

  static void expect_pending(const std::vector<RecipientResult>& results) {
    ASSERT_EQ(results.size(), 2u);
    for (const RecipientResult& r : results)
      EXPECT_EQ(r.outcome, Outcome::pending) << r.status << " " << r.diagnostic;
  }

  bh::test::TestStore db{bh::store::Backend::sqlite};
  std::shared_ptr<bh::store::Database> real;
  std::shared_ptr<bh::test::FlakyDatabase> flaky;
  std::unique_ptr<fax::ThumbnailStore> thumbnails;
  fax::FaxSettings s;
  AcceptingBackend backend;
};

}  // namespace

TEST_F(FaxDeliveryThumbnail, OneTransactionForTheRequestNamingEachNumber) {
  const std::size_t before = flaky->count("(transaction)");
  expect_pending(deliver());
  EXPECT_EQ(flaky->count("(transaction)"), before + 1);
  auto one = thumbnails->get("fax", "job-+4930123456");
  auto two = thumbnails->get("fax", "job-+4930123457");
  ASSERT_TRUE(one && *one && two && *two);
  EXPECT_EQ((*one)->number, "+4930123456");
  EXPECT_EQ((*two)->number, "+4930123457");
  EXPECT_TRUE(fax::looks_like_png((*one)->png));
}

TEST_F(FaxDeliveryThumbnail, AStoreThatIsDownKeepsNoFaxBack) {
  const std::size_t before = flaky->count("(transaction)");
  flaky->down = true;
  expect_pending(deliver());
  expect_pending(deliver());  // paused now: not asked at all
  EXPECT_EQ(flaky->count("(transaction)"), before + 1);
  flaky->down = false;
  auto fresh = fax::ThumbnailStore::open(real);  // not paused
  ASSERT_TRUE(fresh);
  EXPECT_FALSE(*(*fresh)->any("fax")) << "none kept, and the faxes went";
}

TEST_F(FaxDeliveryThumbnail, AThumbnailThatCannotBeDrawnKeepsNoFaxBack) {
  s.thumbnail.width_px = 50;  // outside 100..800: the helper cannot draw it
  const std::size_t before = flaky->count("(transaction)");
  expect_pending(deliver());
  EXPECT_EQ(flaky->count("(transaction)"), before) << "nothing to keep";
  EXPECT_FALSE(*thumbnails->any("fax"));
}
