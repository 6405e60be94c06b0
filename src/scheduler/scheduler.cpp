#include "scheduler/scheduler.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>
#include <boost/asio/post.hpp>

#include "util/log.hpp"

namespace bh {
namespace {

using Clock = std::chrono::system_clock;

// Postfix-style backoff: wait as long as the message is old, within bounds.
std::chrono::seconds backoff(const SchedulerSettings& s, std::int64_t arrival) {
  auto age = std::chrono::seconds(
      std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count() -
      arrival);
  return std::clamp(age, s.retry_delay, s.max_retry_delay);
}

void set_mtime(const std::filesystem::path& path, Clock::time_point when) {
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch());
  timeval times[2] = {{static_cast<time_t>(seconds.count()), 0},
                      {static_cast<time_t>(seconds.count()), 0}};
  ::utimes(path.c_str(), times);
}

}  // namespace

Scheduler::Scheduler(const queue::Spool& spool, const RoutingTable& routes,
                     const connectors::Registry& registry, SchedulerSettings settings)
    : spool_(spool),
      routes_(routes),
      registry_(registry),
      settings_(settings),
      scan_timer_(io_),
      deferred_timer_(io_),
      delivery_pool_(settings.delivery_threads) {}

Scheduler::~Scheduler() {
  stop();
}

void Scheduler::start() {
  boost::asio::post(io_, [this] {
    scan_incoming();
    load_deferred();
    schedule_scan();
  });
  thread_ = std::thread([this] { io_.run(); });
}

void Scheduler::stop() {
  if (!thread_.joinable()) return;
  delivery_pool_.join();  // let running deliveries finish their bookkeeping
  io_.stop();
  thread_.join();
}

void Scheduler::message_arrived(const std::string& id) {
  boost::asio::post(io_, [this, id] {
    enqueue(id);
    pump();
  });
}

void Scheduler::enqueue(const std::string& id) {
  if (known_.insert(id).second) ready_.push_back(id);
}

void Scheduler::scan_incoming() {
  for (const std::string& id : spool_.list(queue::State::incoming)) enqueue(id);
  pump();
}

void Scheduler::schedule_scan() {
  scan_timer_.expires_after(settings_.incoming_scan);
  scan_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    scan_incoming();
    schedule_scan();
  });
}

void Scheduler::load_deferred() {
  for (const std::string& id : spool_.list(queue::State::deferred)) {
    struct stat info;
    if (::stat(spool_.file(queue::State::deferred, id).c_str(), &info) != 0) continue;
    deferred_.emplace(Clock::from_time_t(info.st_mtime), id);
  }
  arm_deferred_timer();
}

void Scheduler::arm_deferred_timer() {
  if (deferred_.empty()) return;
  auto wait = deferred_.begin()->first - Clock::now();
  deferred_timer_.expires_after(
      std::max(std::chrono::duration_cast<std::chrono::steady_clock::duration>(wait),
               std::chrono::steady_clock::duration::zero()));
  deferred_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) deferred_due();
  });
}

void Scheduler::deferred_due() {
  auto now = Clock::now();
  while (!deferred_.empty() && deferred_.begin()->first <= now) {
    std::string id = deferred_.begin()->second;
    deferred_.erase(deferred_.begin());
    // Gone means an administrator moved or deleted it meanwhile.
    if (spool_.move(id, queue::State::deferred, queue::State::incoming) == queue::MoveResult::moved)
      enqueue(id);
  }
  arm_deferred_timer();
  pump();
}

void Scheduler::pump() {
  while (active_ < settings_.active_limit && !ready_.empty()) {
    std::string id = std::move(ready_.front());
    ready_.pop_front();
    if (spool_.move(id, queue::State::incoming, queue::State::active) != queue::MoveResult::moved) {
      known_.erase(id);  // held, deleted or already taken
      continue;
    }
    ++active_;
    boost::asio::post(delivery_pool_, [this, id] {
      Disposition disposition = Disposition::deferred;
      try {
        disposition = deliver(id);
      } catch (const std::exception& e) {
        log::Line("delivery_error").kv("id", id).kv("reason", e.what()).write(log::Level::error);
        spool_.move(id, queue::State::active, queue::State::deferred);
      }
      boost::asio::post(io_, [this, id, disposition] { finished(id, disposition); });
    });
  }
}

void Scheduler::finished(const std::string& id, Disposition disposition) {
  --active_;
  known_.erase(id);
  if (disposition == Disposition::deferred) {
    struct stat info;
    if (::stat(spool_.file(queue::State::deferred, id).c_str(), &info) == 0)
      deferred_.emplace(Clock::from_time_t(info.st_mtime), id);
    deferred_timer_.cancel();
    arm_deferred_timer();
  }
  pump();
}

Scheduler::Disposition Scheduler::deliver(const std::string& id) {
  auto loaded = spool_.load(queue::State::active, id);
  if (!loaded) {
    spool_.move(id, queue::State::active, queue::State::corrupt);
    log::Line("delivery")
        .kv("id", id)
        .kv("result", "corrupt")
        .kv("reason", loaded.error().message)
        .write(log::Level::error);
    return Disposition::gone;
  }
  queue::QueuedMessage& message = *loaded;
  Envelope& envelope = message.envelope;

  // Group recipients by the connector their route names.
  std::map<std::string, std::vector<std::size_t>> by_connector;
  std::vector<connectors::RecipientResult> results(envelope.recipients.size());
  for (std::size_t i = 0; i < envelope.recipients.size(); ++i) {
    const Route* route = routes_.find(envelope.recipients[i].address.domain_key());
    if (route == nullptr) {
      results[i] = {connectors::Outcome::bounced, "5.4.4", "no route for this domain any more"};
      continue;
    }
    by_connector[route->connector].push_back(i);
  }
  for (auto& [name, indexes] : by_connector) {
    connectors::Connector* connector = registry_.find(name);
    std::vector<connectors::RecipientResult> outcome;
    connectors::DeliveryRequest request{envelope, message.content, indexes};
    if (connector == nullptr) {
      outcome = connectors::same_for_all(
          request, {connectors::Outcome::deferred, "4.3.5", "connector " + name + " missing"});
    } else {
      outcome = connector->deliver(request);
    }
    for (std::size_t k = 0; k < indexes.size(); ++k) {
      results[indexes[k]] = k < outcome.size()
                                ? outcome[k]
                                : connectors::RecipientResult{connectors::Outcome::deferred,
                                                              "4.3.0", "connector gave no result"};
      const auto& r = results[indexes[k]];
      log::Line("delivery")
          .kv("id", id)
          .kv("to", envelope.recipients[indexes[k]].address.text())
          .kv("connector", name)
          .kv("result", r.outcome == connectors::Outcome::delivered ? "delivered"
                        : r.outcome == connectors::Outcome::bounced ? "bounced"
                                                                    : "deferred")
          .kv("status", r.status)
          .kv("detail", r.diagnostic)
          .write();
    }
  }

  // Keep only the recipients not yet delivered.
  std::vector<Recipient> remaining;
  bool any_bounced = false;
  for (std::size_t i = 0; i < envelope.recipients.size(); ++i) {
    if (results[i].outcome == connectors::Outcome::delivered) continue;
    any_bounced |= results[i].outcome == connectors::Outcome::bounced;
    remaining.push_back(envelope.recipients[i]);
  }
  auto active_path = spool_.file(queue::State::active, id);
  if (remaining.empty()) {
    ::unlink(active_path.c_str());
    return Disposition::delivered;
  }

  std::int64_t now_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
  bool expired = now_seconds - envelope.arrival > settings_.max_lifetime.count();
  // Refused recipients wait in hold/ for an administrator until delivery
  // status notifications exist; nothing is dropped silently.
  queue::State target = (any_bounced || expired) ? queue::State::hold : queue::State::deferred;
  if (remaining.size() != envelope.recipients.size()) {
    // Rewrite with the remaining recipients, durably, before dropping the old file.
    envelope.recipients = std::move(remaining);
    auto tmp = spool_.tmp_folder() / (id + ".rewrite");
    ::unlink(tmp.c_str());
    auto written = queue::Spool::write_file(tmp, envelope, message.content);
    int fd = written ? ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC) : -1;
    bool synced = fd >= 0 && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (!synced || ::rename(tmp.c_str(), spool_.file(target, id).c_str()) != 0) {
      ::unlink(tmp.c_str());
      log::Line("queue_error")
          .kv("id", id)
          .kv("reason", "cannot rewrite after partial delivery")
          .write(log::Level::error);
      spool_.move(id, queue::State::active, queue::State::deferred);
      return Disposition::deferred;
    }
    (void)queue::sync_directory(spool_.folder(target));
    ::unlink(active_path.c_str());
  } else if (spool_.move(id, queue::State::active, target) != queue::MoveResult::moved) {
    return Disposition::gone;
  }
  if (target == queue::State::hold) {
    log::Line("message_held")
        .kv("id", id)
        .kv("reason", expired ? "queue lifetime exceeded" : "recipient refused")
        .write(log::Level::warn);
    return Disposition::held;
  }
  auto next = Clock::now() + backoff(settings_, envelope.arrival);
  set_mtime(spool_.file(queue::State::deferred, id), next);
  return Disposition::deferred;
}

}  // namespace bh
