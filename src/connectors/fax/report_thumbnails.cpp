#include "connectors/fax/report_thumbnails.hpp"

#include "directory/phone_number.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"

namespace bh::connectors::fax {
namespace {

constexpr std::int64_t kRetryOpen = 300;       // seconds between tries to open the store
constexpr std::int64_t kPurgeInterval = 3600;  // seconds between purges

// "page1-4930123456.png" and "page one of the fax to +49 30 123456"; a row
// kept before the number was (schema version 1) names none.
Connector::ReportAttachment as_attachment(KeptThumbnail kept) {
  std::string digits;
  for (char c : kept.number)
    if (c >= '0' && c <= '9') digits += c;
  Connector::ReportAttachment a{"image/png", "page1.png", "page one of the fax",
                                std::move(kept.png)};
  if (!digits.empty()) {
    a.filename = "page1-" + digits + ".png";
    a.description += " to " + directory::international_format(kept.number);
  }
  return a;
}

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
  auto opened = ThumbnailStore::open(database, clock_);
  if (!opened) {
    log::Line("fax_thumbnail_store_unavailable")
        .kv("connector", connector_)
        .kv("reason", opened.error().message)
        .kv("retry_in", kRetryOpen)
        .write(settings_.enabled ? log::Level::error : log::Level::warn);
    return;
  }
  std::shared_ptr<ThumbnailStore> store = std::move(*opened);
  // Off, and nothing kept from before: no report needs to ask.
  bool in_use = settings_.enabled;
  if (!in_use) {
    auto any = store->any(connector_);
    in_use = !any || *any;
  }
  std::lock_guard lock(mutex_);
  store_ = std::move(store);
  in_use_ = in_use;
}

std::shared_ptr<ThumbnailStore> ReportThumbnails::current() {
  std::lock_guard lock(mutex_);
  return in_use_ ? store_ : nullptr;
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
  auto kept = store->get(connector_, reference);
  if (!kept || !*kept) {
    // None kept (report_thumbnail off when it was sent, or its write
    // failed, which was logged then) is no news unless thumbnails are on.
    if (!kept || settings_.enabled)
      log::Line("fax_thumbnail_missing")
          .kv("connector", connector_)
          .kv("reference", reference)
          .kv("reason", kept ? "none kept for this job" : kept.error().message)
          .write(kept ? log::Level::info : log::Level::warn);
    return std::nullopt;
  }
  return as_attachment(std::move(**kept));
}

void ReportThumbnails::written(const std::string& reference) {
  std::lock_guard lock(mutex_);
  // One left behind is purged after max_age.
  if (in_use_ && store_ && written_.size() < kMaxPendingRemovals) written_.push_back(reference);
}

void ReportThumbnails::remove_written() {
  std::shared_ptr<ThumbnailStore> store;
  std::vector<std::string> references;
  {
    std::lock_guard lock(mutex_);
    store = store_;
    references.swap(written_);
  }
  if (!store || references.empty()) return;
  if (Status removed = store->remove(connector_, references); !removed)
    log::Line("fax_thumbnail_remove_failed")
        .kv("connector", connector_)
        .kv("count", references.size())
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
  remove_written();
  std::shared_ptr<ThumbnailStore> store;
  {
    std::lock_guard lock(mutex_);
    // Purged even when this connector does not use it: the rows of other
    // connectors past kLongestThumbnailAge go too.
    store = store_;
    if (!store || now - last_purge_ < kPurgeInterval) return;
    last_purge_ = now;
  }
  auto purged = store->purge(connector_, now - settings_.max_age.count(), now);
  if (!purged)
    log::Line("fax_thumbnail_purge_failed")
        .kv("connector", connector_)
        .kv("reason", purged.error().message)
        .write(log::Level::warn);
  else if (*purged > 0)
    log::Line("fax_thumbnails_purged").kv("connector", connector_).kv("count", *purged).write();
}

}  // namespace bh::connectors::fax
