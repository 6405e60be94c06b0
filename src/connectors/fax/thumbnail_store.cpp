#include "connectors/fax/thumbnail_store.hpp"

#include <algorithm>

#include "connectors/webhook/mime_decode.hpp"
#include "render/thumbnail.hpp"
#include "store/store_error.hpp"

namespace bh::connectors::fax {
namespace {

const std::vector<store::Migration>& migrations() {
  static const std::vector<store::Migration> steps = {
      {1,
       "CREATE TABLE fax_thumbnails ("
       "  connector TEXT NOT NULL, reference TEXT NOT NULL, png TEXT NOT NULL,"
       "  created BIGINT NOT NULL, PRIMARY KEY (connector, reference));"
       "CREATE INDEX fax_thumbnails_created ON fax_thumbnails (created);",
       {}},
      // The number the fax went to, for the picture's name in the report.
      {2, "ALTER TABLE fax_thumbnails ADD COLUMN number TEXT NOT NULL DEFAULT '';", {}},
  };
  return steps;
}

std::int64_t steady_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool acceptable(std::string_view png) {
  return looks_like_png(png) && png.size() <= render::kMaxThumbnailBytes;
}

// "$2, $3, ..." for count parameters after the first.
std::string placeholders(std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) out += (i ? ", $" : "$") + std::to_string(i + 2);
  return out;
}

}  // namespace

bool looks_like_png(std::string_view bytes) {
  // 8 bytes of signature, then the first chunk: 4 bytes of length and "IHDR".
  constexpr std::string_view kSignature("\x89PNG\r\n\x1a\n", 8);
  return bytes.size() > 24 && bytes.substr(0, 8) == kSignature && bytes.substr(12, 4) == "IHDR";
}

Result<std::unique_ptr<ThumbnailStore>> ThumbnailStore::open(
    std::shared_ptr<store::Database> database, Clock clock) {
  if (Status migrated = database->migrate("fax", migrations()); !migrated)
    return Error{"fax thumbnail store: open: " + migrated.error().message, migrated.error().code};
  if (!clock) clock = steady_seconds;
  return std::unique_ptr<ThumbnailStore>(new ThumbnailStore(std::move(database), clock));
}

Status ThumbnailStore::admit(const std::string& what) {
  std::lock_guard lock(mutex_);
  const std::int64_t now = clock_();
  if (now >= paused_until_) return ok_status();
  return store::store_error(store::StoreErrc::unavailable,
                            "fax thumbnail store: " + what + ": not asked for another " +
                                std::to_string(paused_until_ - now) + " s after it failed (" +
                                pause_reason_ + ")");
}

Error ThumbnailStore::failed(const Error& error, const std::string& what) {
  std::lock_guard lock(mutex_);
  paused_until_ = clock_() + kStorePause.count();
  pause_reason_ = error.message;
  return Error{"fax thumbnail store: " + what + ": " + error.message, error.code};
}

Status ThumbnailStore::put(const std::string& connector,
                           const std::vector<KeptThumbnail>& thumbnails, std::int64_t now) {
  for (const KeptThumbnail& t : thumbnails)
    if (!acceptable(t.png))
      return Error{"fax thumbnail store: the thumbnail of " + t.reference +
                   " is not a PNG of at most " + std::to_string(render::kMaxThumbnailBytes) +
                   " bytes"};
  if (thumbnails.empty()) return ok_status();
  if (Status admitted = admit("put"); !admitted) return admitted;
  Status done = database_->transaction([&](store::Connection& c) -> Status {
    for (const KeptThumbnail& t : thumbnails) {
      std::string encoded;
      webhook::append_base64(encoded, t.png);
      auto stored = c.execute(
          "INSERT INTO fax_thumbnails (connector, reference, png, created, number) "
          "VALUES ($1, $2, $3, $4, $5) "
          "ON CONFLICT (connector, reference) DO UPDATE SET png = $3, created = $4, number = $5",
          {connector, t.reference, std::move(encoded), now, t.number});
      if (!stored) return stored.error();
    }
    return ok_status();
  });
  if (!done) return failed(done.error(), "put");
  return ok_status();
}

Result<std::optional<KeptThumbnail>> ThumbnailStore::get(const std::string& connector,
                                                         const std::string& reference) {
  if (Status admitted = admit("get"); !admitted) return admitted.error();
  auto rows = database_->query(
      "SELECT png, number FROM fax_thumbnails WHERE connector = $1 AND reference = $2",
      {connector, reference});
  if (!rows) return failed(rows.error(), "get");
  if (rows->empty()) return std::optional<KeptThumbnail>();
  KeptThumbnail kept{reference, rows->front().text(1),
                     webhook::decode_base64(rows->front().text(0))};
  if (!acceptable(kept.png))
    return Error{"fax thumbnail store: the thumbnail of " + reference + " is not a PNG"};
  return std::optional<KeptThumbnail>(std::move(kept));
}

Status ThumbnailStore::remove(const std::string& connector,
                              const std::vector<std::string>& references) {
  for (std::size_t at = 0; at < references.size(); at += kMaxReferencesPerStatement) {
    if (Status admitted = admit("remove"); !admitted) return admitted;
    const std::size_t n = std::min(kMaxReferencesPerStatement, references.size() - at);
    store::Params params{connector};
    params.insert(params.end(), references.begin() + at, references.begin() + at + n);
    auto done = database_->execute(
        "DELETE FROM fax_thumbnails WHERE connector = $1 AND "
        "reference IN (" +
            placeholders(n) + ")",
        params);
    if (!done) return failed(done.error(), "remove");
  }
  return ok_status();
}

Result<bool> ThumbnailStore::any(const std::string& connector) {
  if (Status admitted = admit("look up"); !admitted) return admitted.error();
  auto rows = database_->query("SELECT reference FROM fax_thumbnails WHERE connector = $1 LIMIT 1",
                               {connector});
  if (!rows) return failed(rows.error(), "look up");
  return !rows->empty();
}

Result<std::int64_t> ThumbnailStore::purge(const std::string& connector, std::int64_t before,
                                           std::int64_t now) {
  if (Status admitted = admit("purge"); !admitted) return admitted.error();
  auto mine = database_->execute("DELETE FROM fax_thumbnails WHERE connector = $1 AND created < $2",
                                 {connector, before});
  if (!mine) return failed(mine.error(), "purge");
  auto anyones = database_->execute("DELETE FROM fax_thumbnails WHERE created < $1",
                                    {now - kLongestThumbnailAge.count()});
  if (!anyones) return failed(anyones.error(), "purge");
  return *mine + *anyones;
}

}  // namespace bh::connectors::fax
