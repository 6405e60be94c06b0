// The fax connector's side of page one's thumbnail in the success report
// (report_thumbnail, README.md in this folder): the shared store
// (thumbnail_store.hpp), opened when the connector gets the store and
// again later while it cannot be; what the report asks for by the job's
// reference (Connector::report_attachment); the rows of written reports,
// removed from the poll thread (maintain) so that the scheduler's thread
// never waits for that; and the purge of the ones no report took.
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "connectors/connector.hpp"
#include "connectors/fax/fax_settings.hpp"
#include "connectors/fax/thumbnail_store.hpp"
#include "store/database.hpp"

namespace bh::connectors::fax {

// References of written reports waiting for maintain(); past this many the
// rest are left to the purge.
constexpr std::size_t kMaxPendingRemovals = 10000;

class ReportThumbnails {
 public:
  ReportThumbnails(std::string connector, ThumbnailSettings settings,
                   ThumbnailStore::Clock clock = {})
      : connector_(std::move(connector)), settings_(settings), clock_(std::move(clock)) {}

  // The shared store (Connector::IntakeServices::store); null: none.
  void attach(std::shared_ptr<store::Database> database);
  // Where submissions keep new thumbnails; null when report_thumbnail is
  // off or the store is not open.
  std::shared_ptr<ThumbnailStore> for_submissions();
  // Page one of the fax with this reference, as the report's inline PNG
  // (blocking: one statement, none while the store is paused or when
  // report_thumbnail is off and no row was kept when the store opened).
  std::optional<Connector::ReportAttachment> attachment(const std::string& reference);
  // Its report is written: the row goes at the next maintain().
  void written(const std::string& reference);
  // From the poll thread (blocking): opens a store that could not be opened
  // (every kRetryOpen), removes the rows of written reports, and purges
  // thumbnails older than max_age (hourly).
  void maintain(std::int64_t now);

 private:
  std::shared_ptr<ThumbnailStore> current();
  void open(std::int64_t now);
  void remove_written();

  const std::string connector_;
  const ThumbnailSettings settings_;
  const ThumbnailStore::Clock clock_;
  std::mutex mutex_;
  std::shared_ptr<store::Database> database_;
  std::shared_ptr<ThumbnailStore> store_;
  // report_thumbnail is on, or rows were kept when the store opened (or
  // that could not be told): reports ask the store.
  bool in_use_ = false;
  std::vector<std::string> written_;  // references whose rows can go
  std::int64_t last_open_ = 0;
  std::int64_t last_purge_ = 0;
};

}  // namespace bh::connectors::fax
