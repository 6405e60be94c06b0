// Thumbnails of page one (PNG, render/thumbnail.hpp) for the success
// reports of sent faxes (report_thumbnail), in the store the nodes share:
// written after submission by the node that rendered the fax, read when
// the report is written, by whichever node holds the message (after a
// restart too), removed then or after the connector's max age; rows of
// any connector (one removed from the configuration, another node's) go
// after the longest age any connector may have (kLongestThumbnailAge).
// The report is sent without one when it is missing; nothing waits for it.
//
// Every call blocks, on delivery and scheduler threads too, so a store
// that fails is left alone for kStorePause (a circuit breaker): the calls
// in that time fail at once without a statement, and a report goes
// without its picture rather than wait a connect or statement timeout
// per recipient.
//
// The PNG is base64 in a TEXT column (PostgreSQL text cannot hold NUL; the
// Database API binds only text and integers). Keyed by connector and the
// fax server's job id, as the pending store keys the delivery.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/connector.hpp"
#include "connectors/fax/fax_settings.hpp"
#include "store/database.hpp"
#include "util/result.hpp"

namespace bh::connectors::fax {

// How long a failed store is not asked again.
constexpr std::chrono::seconds kStorePause{60};
// Rows older than this are purged whatever connector wrote them.
constexpr std::chrono::seconds kLongestThumbnailAge =
    std::chrono::seconds(kMaxPendingTimeoutSeconds) + kThumbnailKeptPastTimeout;
// The most references one DELETE names.
constexpr std::size_t kMaxReferencesPerStatement = 200;

struct KeptThumbnail {
  std::string reference;  // the fax server's job id
  std::string number;     // E.164, "+4930123456": the report names it
  std::string png;
};

class ThumbnailStore {
 public:
  // Seconds of a monotonic clock, for the pause (tests pass their own).
  using Clock = std::function<std::int64_t()>;

  // Applies the store's "fax" migrations.
  static Result<std::unique_ptr<ThumbnailStore>> open(std::shared_ptr<store::Database> database,
                                                      Clock clock = {});

  // Keeps these in one transaction, replacing what their references had (a
  // retry that found its earlier job renders again). now: unix seconds.
  // Durable when it returns.
  Status put(const std::string& connector, const std::vector<KeptThumbnail>& thumbnails,
             std::int64_t now);
  // The thumbnail, if one is kept. An error: the store could not be read
  // (or is paused), or what it holds is not a PNG of at most
  // render::kMaxThumbnailBytes.
  Result<std::optional<KeptThumbnail>> get(const std::string& connector,
                                           const std::string& reference);
  // In statements of kMaxReferencesPerStatement references.
  Status remove(const std::string& connector, const std::vector<std::string>& references);
  // Whether any row of this connector is kept.
  Result<bool> any(const std::string& connector);
  // This connector's thumbnails written before `before` (unix seconds), and
  // those of any connector older than kLongestThumbnailAge at `now`.
  // Returns how many went.
  Result<std::int64_t> purge(const std::string& connector, std::int64_t before, std::int64_t now);

 private:
  ThumbnailStore(std::shared_ptr<store::Database> database, Clock clock)
      : database_(std::move(database)), clock_(std::move(clock)) {}
  // An error while the store is paused; ok: ask it.
  Status admit(const std::string& what);
  // A store error: pause it, and name the operation.
  Error failed(const Error& error, const std::string& what);

  std::shared_ptr<store::Database> database_;
  Clock clock_;
  std::mutex mutex_;
  std::int64_t paused_until_ = 0;  // clock_ seconds
  std::string pause_reason_;
};

// Whether bytes look like a PNG: its signature, then the IHDR chunk.
bool looks_like_png(std::string_view bytes);

}  // namespace bh::connectors::fax
