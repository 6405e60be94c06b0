// Thumbnails of page one (PNG, render/thumbnail.hpp) for the success
// reports of sent faxes (report_thumbnail), in the store the nodes share:
// written at submission by the node that rendered the fax, read when the
// report is written, by whichever node holds the message (after a restart
// too), removed then or after the connector's max age. The report is sent
// without one when it is missing; nothing waits for it.
//
// The PNG is base64 in a TEXT column (PostgreSQL text cannot hold NUL; the
// Database API binds only text and integers). Keyed by connector and the
// fax server's job id, as the pending store keys the delivery.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "store/database.hpp"
#include "util/result.hpp"

namespace bh::connectors::fax {

class ThumbnailStore {
 public:
  // Applies the store's "fax" migrations.
  static Result<std::unique_ptr<ThumbnailStore>> open(std::shared_ptr<store::Database> database);

  // Replaces what the reference had (a retry that found its earlier job
  // renders again). now: unix seconds. Durable when it returns.
  Status put(const std::string& connector, const std::string& reference, std::string_view png,
             std::int64_t now);
  // The PNG, if one is kept. An error: the store could not be read, or what
  // it holds is not a PNG of at most render::kMaxThumbnailBytes.
  Result<std::optional<std::string>> get(const std::string& connector,
                                         const std::string& reference) const;
  Status remove(const std::string& connector, const std::string& reference);
  // Thumbnails written before `before` (unix seconds), of any connector:
  // their reports came long ago or never will. Returns how many.
  Result<std::int64_t> purge(std::int64_t before);

 private:
  explicit ThumbnailStore(std::shared_ptr<store::Database> database)
      : database_(std::move(database)) {}
  std::shared_ptr<store::Database> database_;
};

// Whether bytes look like a PNG: its signature, then the IHDR chunk.
bool looks_like_png(std::string_view bytes);

}  // namespace bh::connectors::fax
