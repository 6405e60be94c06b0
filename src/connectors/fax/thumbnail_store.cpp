#include "connectors/fax/thumbnail_store.hpp"

#include "connectors/webhook/mime_decode.hpp"
#include "render/thumbnail.hpp"

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
  };
  return steps;
}

Error failed(const Error& error, const std::string& what) {
  return Error{"fax thumbnail store: " + what + ": " + error.message, error.code};
}

}  // namespace

bool looks_like_png(std::string_view bytes) {
  // 8 bytes of signature, then the first chunk: 4 bytes of length and "IHDR".
  constexpr std::string_view kSignature("\x89PNG\r\n\x1a\n", 8);
  return bytes.size() > 24 && bytes.substr(0, 8) == kSignature && bytes.substr(12, 4) == "IHDR";
}

Result<std::unique_ptr<ThumbnailStore>> ThumbnailStore::open(
    std::shared_ptr<store::Database> database) {
  if (Status migrated = database->migrate("fax", migrations()); !migrated)
    return failed(migrated.error(), "open");
  return std::unique_ptr<ThumbnailStore>(new ThumbnailStore(std::move(database)));
}

Status ThumbnailStore::put(const std::string& connector, const std::string& reference,
                           std::string_view png, std::int64_t now) {
  if (!looks_like_png(png) || png.size() > render::kMaxThumbnailBytes)
    return Error{"fax thumbnail store: not a PNG of at most " +
                 std::to_string(render::kMaxThumbnailBytes) + " bytes"};
  std::string encoded;
  webhook::append_base64(encoded, png);
  auto done = database_->execute(
      "INSERT INTO fax_thumbnails (connector, reference, png, created) VALUES ($1, $2, $3, $4) "
      "ON CONFLICT (connector, reference) DO UPDATE SET png = $3, created = $4",
      {connector, reference, std::move(encoded), now});
  if (!done) return failed(done.error(), "put");
  return ok_status();
}

Result<std::optional<std::string>> ThumbnailStore::get(const std::string& connector,
                                                       const std::string& reference) const {
  auto rows =
      database_->query("SELECT png FROM fax_thumbnails WHERE connector = $1 AND reference = $2",
                       {connector, reference});
  if (!rows) return failed(rows.error(), "get");
  if (rows->empty()) return std::optional<std::string>();
  std::string png = webhook::decode_base64(rows->front().text(0));
  if (!looks_like_png(png) || png.size() > render::kMaxThumbnailBytes)
    return Error{"fax thumbnail store: the thumbnail of " + reference + " is not a PNG"};
  return std::optional<std::string>(std::move(png));
}

Status ThumbnailStore::remove(const std::string& connector, const std::string& reference) {
  auto done = database_->execute(
      "DELETE FROM fax_thumbnails WHERE connector = $1 AND reference = $2", {connector, reference});
  if (!done) return failed(done.error(), "remove");
  return ok_status();
}

Result<std::int64_t> ThumbnailStore::purge(std::int64_t before) {
  auto done = database_->execute("DELETE FROM fax_thumbnails WHERE created < $1", {before});
  if (!done) return failed(done.error(), "purge");
  return *done;
}

}  // namespace bh::connectors::fax
