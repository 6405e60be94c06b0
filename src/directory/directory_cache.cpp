#include "directory/directory_cache.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "mail/address.hpp"
#include "util/log.hpp"

namespace bh::directory {

DirectoryCache::DirectoryCache(std::shared_ptr<DirectoryStore> store, DirectorySettings settings,
                               Clock clock)
    : store_(std::move(store)), settings_(std::move(settings)), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return std::chrono::steady_clock::now(); };
}

DirectoryCache::~DirectoryCache() {
  stop();
}

std::shared_ptr<const DirectoryCache::Snapshot> DirectoryCache::build(DirectoryData data) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->version = data.version;
  for (Tenant& tenant : data.tenants) {
    std::string id = tenant.id;
    snapshot->tenant_by_id.emplace(std::move(id), std::move(tenant));
  }
  snapshot->users = std::move(data.users);
  for (std::size_t i = 0; i < snapshot->users.size(); ++i) {
    const User& user = snapshot->users[i];
    snapshot->user_by_address.emplace(user.address, i);
    for (const std::string& alias : user.aliases) snapshot->user_by_address.emplace(alias, i);
    // A user's own numbers: fax numbers for fax, mobile numbers for SMS,
    // one in both lists for both.
    auto own = [&](const std::string& number, std::string_view service) {
      auto [it, fresh] = snapshot->number_owner.try_emplace(
          number, NumberOwner{number, user.tenant, user.address, std::string(service), false});
      if (!fresh && it->second.mailbox == user.address) it->second.service.clear();
    };
    for (const std::string& number : user.fax_numbers) own(number, "fax");
    for (const std::string& number : user.mobile_numbers) own(number, "sms");
  }
  for (const ServiceNumber& number : data.numbers) {
    // The mailbox may be written as an alias: what arrives goes to its user.
    std::string mailbox = number.mailbox;
    if (auto it = snapshot->user_by_address.find(mailbox); it != snapshot->user_by_address.end())
      mailbox = snapshot->users[it->second].address;
    // The store refuses a service number that is another tenant's number;
    // should one get in anyway, it never takes that number over.
    NumberOwner owner{number.number, number.tenant, mailbox, number.service, true};
    auto [it, fresh] = snapshot->number_owner.try_emplace(number.number, owner);
    if (!fresh && it->second.tenant == number.tenant) it->second = std::move(owner);
  }
  for (const auto& [number, owner] : snapshot->number_owner)
    if (owner.service_number) snapshot->service_numbers_by_mailbox[owner.mailbox].push_back(owner);
  for (auto& [mailbox, numbers] : snapshot->service_numbers_by_mailbox)
    std::sort(numbers.begin(), numbers.end(),
              [](const NumberOwner& a, const NumberOwner& b) { return a.number < b.number; });
  return snapshot;
}

Status DirectoryCache::refresh() {
  std::lock_guard refreshing(refresh_mutex_);
  auto fail = [this](const Error& error) -> Status {
    std::lock_guard lock(mutex_);
    last_error_ = error.message;
    return error;
  };
  auto version = store_->version();
  if (!version) return fail(version.error());
  std::shared_ptr<const Snapshot> current;
  {
    std::lock_guard lock(mutex_);
    current = snapshot_;
  }
  if (!current || current->version != *version) {
    auto data = store_->load();
    if (!data) return fail(data.error());
    current = build(std::move(*data));
    // Only when the directory changed: a line per push or import, not per poll.
    log::Line("directory_loaded")
        .kv("version", static_cast<long long>(current->version))
        .kv("tenants", current->tenant_by_id.size())
        .kv("users", current->users.size())
        .kv("numbers", current->number_owner.size())
        .write();
  }
  std::lock_guard lock(mutex_);
  snapshot_ = std::move(current);
  refreshed_ = clock_();
  last_error_.clear();
  return ok_status();
}

void DirectoryCache::start() {
  std::lock_guard lock(poll_mutex_);
  if (poller_.joinable()) return;
  stopping_ = false;
  poller_ = std::thread([this] { poll(); });
}

void DirectoryCache::stop() {
  {
    std::lock_guard lock(poll_mutex_);
    stopping_ = true;
  }
  poll_wakeup_.notify_all();
  if (poller_.joinable()) poller_.join();
}

void DirectoryCache::poll() {
  bool failing = false;
  std::unique_lock lock(poll_mutex_);
  while (!stopping_) {
    poll_wakeup_.wait_for(lock, std::chrono::milliseconds(settings_.refresh_ms),
                          [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    Status refreshed = refresh();
    // One line when refreshing starts failing and one when it works again,
    // not one every refresh_ms.
    if (!refreshed && !failing)
      log::Line("directory_refresh_failed")
          .kv("reason", refreshed.error().message)
          .kv("unavailable_after_seconds", static_cast<long long>(settings_.max_stale_seconds))
          .write(log::Level::warn);
    if (refreshed && failing)
      log::Line("directory_refresh_recovered").kv("version", version()).write();
    failing = !refreshed;
    lock.lock();
  }
}

std::shared_ptr<const DirectoryCache::Snapshot> DirectoryCache::usable(std::string& why) const {
  std::lock_guard lock(mutex_);
  if (!snapshot_) {
    why = "the directory was never loaded from the store" +
          (last_error_.empty() ? std::string() : ": " + last_error_);
    return nullptr;
  }
  auto age = clock_() - refreshed_;
  if (age > std::chrono::seconds(settings_.max_stale_seconds)) {
    why = fmt::format(
        "the directory could not be refreshed for {} s (directory.max_stale is {} s){}",
        std::chrono::duration_cast<std::chrono::seconds>(age).count(), settings_.max_stale_seconds,
        last_error_.empty() ? std::string() : ": " + last_error_);
    return nullptr;
  }
  return snapshot_;
}

Lookup<User> DirectoryCache::find_user(std::string_view address) const {
  std::string why;
  auto snapshot = usable(why);
  if (!snapshot) return Lookup<User>::unavailable(why);
  auto it = snapshot->user_by_address.find(to_lower_ascii(address));
  if (it == snapshot->user_by_address.end()) return Lookup<User>::absent();
  return Lookup<User>::found(snapshot->users[it->second]);
}

Lookup<NumberOwner> DirectoryCache::find_number(std::string_view e164) const {
  std::string why;
  auto snapshot = usable(why);
  if (!snapshot) return Lookup<NumberOwner>::unavailable(why);
  auto it = snapshot->number_owner.find(std::string(e164));
  if (it == snapshot->number_owner.end()) return Lookup<NumberOwner>::absent();
  return Lookup<NumberOwner>::found(it->second);
}

Lookup<Tenant> DirectoryCache::tenant(std::string_view id) const {
  std::string why;
  auto snapshot = usable(why);
  if (!snapshot) return Lookup<Tenant>::unavailable(why);
  auto it = snapshot->tenant_by_id.find(to_lower_ascii(id));
  if (it == snapshot->tenant_by_id.end()) return Lookup<Tenant>::absent();
  return Lookup<Tenant>::found(it->second);
}

Lookup<std::vector<NumberOwner>> DirectoryCache::service_numbers_of(
    std::string_view mailbox) const {
  std::string why;
  auto snapshot = usable(why);
  if (!snapshot) return Lookup<std::vector<NumberOwner>>::unavailable(why);
  auto it = snapshot->service_numbers_by_mailbox.find(to_lower_ascii(mailbox));
  if (it == snapshot->service_numbers_by_mailbox.end())
    return Lookup<std::vector<NumberOwner>>::absent();
  return Lookup<std::vector<NumberOwner>>::found(it->second);
}

std::int64_t DirectoryCache::version() const {
  std::lock_guard lock(mutex_);
  return snapshot_ ? snapshot_->version : -1;
}

}  // namespace bh::directory
