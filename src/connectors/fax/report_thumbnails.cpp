#include "connectors/fax/report_thumbnails.hpp"

#include "util/clock.hpp"
#include "util/log.hpp"

namespace bh::connectors::fax {
namespace {

constexpr std::int64_t kRetryOpen = 300;       // seconds between tries to open the store
constexpr std::int64_t kPurgeInterval = 3600;  // seconds between purges

}  // namespace

void ReportThumbnails::attach(std::shared_ptr<store::Database> database) {
  {
    std::lock_guard lock(mutex_);
    database_ = std::move(database);
  }
  open(unix_now());
}

// The store is opened even with report_thumbnail off: thumbnails kept
// before it was turned off still go into their reports, or are purged.
void ReportThumbnails::open(std::int64_t now) {
  std::shared_ptr<store::Database> database;
  {
    std::lock_guard lock(mutex_);
    if (store_ || !database_) return;
    database = database_;
    last_open_ = now;
  }
  auto opened = ThumbnailStore::open(database);
  if (!opened) {
    log::Line("fax_thumbnail_store_unavailable")
        .kv("connector", connector_)
        .kv("reason", opened.error().message)
        .write(settings_.enabled ? log::Level::error : log::Level::warn);
    return;
  }
  std::lock_guard lock(mutex_);
  store_ = std::move(*opened);
}

std::shared_ptr<ThumbnailStore> ReportThumbnails::current() {
  std::lock_guard lock(mutex_);
  return store_;
}

std::shared_ptr<ThumbnailStore> ReportThumbnails::for_submissions() {
  return settings_.enabled ? current() : nullptr;
}

std::optional<Connector::ReportAttachment> ReportThumbnails::attachment(
    const std::string& reference) {
  std::shared_ptr<ThumbnailStore> store = current();
  if (!store) {
    if (settings_.enabled)
      log::Line("fax_thumbnail_missing")
          .kv("connector", connector_)
          .kv("reference", reference)
          .kv("reason", "the thumbnail store is not open")
          .write(log::Level::warn);
    return std::nullopt;
  }
  auto png = store->get(connector_, reference);
  if (!png || !*png) {
    // None kept (report_thumbnail off when it was sent, or its write
    // failed, which was logged then) is no news unless thumbnails are on.
    if (!png || settings_.enabled)
      log::Line("fax_thumbnail_missing")
          .kv("connector", connector_)
          .kv("reference", reference)
          .kv("reason", png ? "none kept for this job" : png.error().message)
          .write(png ? log::Level::info : log::Level::warn);
    return std::nullopt;
  }
  return Connector::ReportAttachment{"image/png", "page1.png", "page one of the fax",
                                     std::move(**png)};
}

void ReportThumbnails::written(const std::string& reference) {
  std::shared_ptr<ThumbnailStore> store = current();
  if (!store) return;
  // One left behind is purged after max_age.
  if (Status removed = store->remove(connector_, reference); !removed)
    log::Line("fax_thumbnail_remove_failed")
        .kv("connector", connector_)
        .kv("reference", reference)
        .kv("reason", removed.error().message)
        .write(log::Level::warn);
}

void ReportThumbnails::maintain(std::int64_t now) {
  bool retry;
  {
    std::lock_guard lock(mutex_);
    retry = !store_ && database_ && now - last_open_ >= kRetryOpen;
  }
  if (retry) open(now);
  std::shared_ptr<ThumbnailStore> store = current();
  {
    std::lock_guard lock(mutex_);
    if (!store || now - last_purge_ < kPurgeInterval) return;
    last_purge_ = now;
  }
  auto purged = store->purge(now - settings_.max_age.count());
  if (!purged)
    log::Line("fax_thumbnail_purge_failed")
        .kv("connector", connector_)
        .kv("reason", purged.error().message)
        .write(log::Level::warn);
  else if (*purged > 0)
    log::Line("fax_thumbnails_purged").kv("connector", connector_).kv("count", *purged).write();
}

}  // namespace bh::connectors::fax
