// The directory in memory, as the policy and ingest read it: an immutable
// snapshot of the store's directory, replaced as a whole when the store's
// version changes. Lookups only read the snapshot (hash maps), so they
// never block an I/O thread on a query.
//
// refresh() reloads when the version changed: the admin API calls it right
// after a write, so the policy sees a push at once; the poll thread
// (start()) calls it every refresh_ms, so changes that other nodes or the
// CLI made arrive too. A cache whose last successful refresh is older than
// max_stale_seconds, or that never loaded, answers `unavailable`.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "directory/directory.hpp"
#include "directory/directory_settings.hpp"
#include "directory/directory_store.hpp"
#include "util/result.hpp"

namespace bh::directory {

class DirectoryCache final : public DirectoryView {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // clock: for tests; the steady clock when empty.
  DirectoryCache(std::shared_ptr<DirectoryStore> store, DirectorySettings settings,
                 Clock clock = {});
  ~DirectoryCache() override;
  DirectoryCache(const DirectoryCache&) = delete;
  DirectoryCache& operator=(const DirectoryCache&) = delete;

  // Reads the store's version and, when it changed (or nothing is loaded),
  // the whole directory. Blocks: call it from the admin API's or the poll
  // thread, never from an SMTP I/O thread.
  Status refresh();
  // The poll thread; stop() ends it (also at destruction).
  void start();
  void stop();

  Lookup<User> find_user(std::string_view address) const override;
  Lookup<NumberOwner> find_number(std::string_view e164) const override;
  Lookup<Tenant> tenant(std::string_view id) const override;
  Lookup<std::vector<NumberOwner>> service_numbers_of(std::string_view mailbox) const override;

  // The version of the loaded snapshot (-1: none).
  std::int64_t version() const;

 private:
  struct Snapshot {
    std::int64_t version = 0;
    std::vector<User> users;
    std::unordered_map<std::string, std::size_t> user_by_address;  // primary or alias -> users[i]
    std::unordered_map<std::string, NumberOwner> number_owner;
    std::unordered_map<std::string, Tenant> tenant_by_id;
    // mailbox (primary address) -> its service numbers, sorted by number
    std::unordered_map<std::string, std::vector<NumberOwner>> service_numbers_by_mailbox;
  };
  static std::shared_ptr<const Snapshot> build(DirectoryData data);
  // The snapshot when it may be used, else why not.
  std::shared_ptr<const Snapshot> usable(std::string& why) const;
  void poll();

  std::shared_ptr<DirectoryStore> store_;
  DirectorySettings settings_;
  Clock clock_;

  mutable std::mutex mutex_;  // guards snapshot_, refreshed_, last_error_
  std::shared_ptr<const Snapshot> snapshot_;
  std::chrono::steady_clock::time_point refreshed_{};
  std::string last_error_;

  std::mutex refresh_mutex_;  // one refresh at a time
  std::mutex poll_mutex_;
  std::condition_variable poll_wakeup_;
  bool stopping_ = false;
  std::thread poller_;
};

}  // namespace bh::directory
