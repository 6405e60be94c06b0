// The fax connector's side of page one's thumbnail in the success report
// (report_thumbnail, README.md in this folder): the shared store
// (thumbnail_store.hpp), opened when the connector gets the store and
// again later while it cannot be; what the report asks for by the job's
// reference (Connector::report_attachment), dropped once it is written;
// and the purge of the ones no report took. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "connectors/connector.hpp"
#include "connectors/fax/fax_settings.hpp"
#include "connectors/fax/thumbnail_store.hpp"
#include "store/database.hpp"

namespace bh::connectors::fax {

class ReportThumbnails {
 public:
  ReportThumbnails(std::string connector, ThumbnailSettings settings)
      : connector_(std::move(connector)), settings_(settings) {}

  // The shared store (Connector::IntakeServices::store); null: none.
  void attach(std::shared_ptr<store::Database> database);
  // Where submissions keep new thumbnails; null when report_thumbnail is
  // off or the store is not open.
  std::shared_ptr<ThumbnailStore> for_submissions();
  // Page one of the fax with this reference, as the report's inline PNG.
  std::optional<Connector::ReportAttachment> attachment(const std::string& reference);
  void written(const std::string& reference);
  // From the poll thread (blocking): opens a store that could not be opened
  // (every kRetryOpen), and purges thumbnails older than max_age (hourly).
  void maintain(std::int64_t now);

 private:
  std::shared_ptr<ThumbnailStore> current();
  void open(std::int64_t now);

  const std::string connector_;
  const ThumbnailSettings settings_;
  std::mutex mutex_;
  std::shared_ptr<store::Database> database_;
  std::shared_ptr<ThumbnailStore> store_;
  std::int64_t last_open_ = 0;
  std::int64_t last_purge_ = 0;
};

}  // namespace bh::connectors::fax
