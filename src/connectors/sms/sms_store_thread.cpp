// The SMS connector's store thread (sms_connector_impl.hpp): rounds of
// jobs, receipts, resolving references, the sweep.
#include <fmt/format.h>

#include "connectors/sms/delivery_receipt.hpp"
#include "connectors/sms/sms_connector_impl.hpp"
#include "connectors/sms/sms_outbound.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"

namespace bh::connectors::sms {
namespace asio = boost::asio;

namespace {

// Rows of a reference live until its pending entry can no longer be waiting:
// the longest pending_timeout a config may set (30 days,
// server/config_connectors.cpp) plus a margin for a node that was down.
constexpr std::int64_t kPurgeAfterSeconds = 35 * 24 * 3600;
// A round writes at most this many parts, receipts and forgets in one
// transaction: the shared store's connection is not held longer, and
// what is left waits for the next round (in order).
constexpr std::size_t kMaxWritesPerRound = 500;
constexpr std::size_t kSweepBatch = 100;

// The handset a receipt reports on (its source_addr), E.164 when it is one.
std::string receipt_number(const smpp::ShortMessage& message) {
  if (message.source.ton == 1 && !message.source.address.empty())
    return "+" + message.source.address;
  return message.source.address;
}

bool is_write(const StoreJob& job) {
  return job.kind == StoreJob::Kind::part || job.kind == StoreJob::Kind::forget ||
         job.kind == StoreJob::Kind::deliver;  // only receipts come here (delivered())
}

}  // namespace

void SmsConnector::Impl::post_inbound(std::function<void(bool run)> job) {
  {
    std::lock_guard lock(inbound_mutex);
    if (!inbound_gone) {
      inbound_jobs.push_back(std::move(job));
      inbound_wake.notify_one();
      return;
    }
  }
  job(false);
}

void SmsConnector::Impl::run_inbound() {
  for (;;) {
    std::function<void(bool)> job;
    {
      std::unique_lock lock(inbound_mutex);
      inbound_wake.wait(lock, [this] { return inbound_end || !inbound_jobs.empty(); });
      if (inbound_jobs.empty()) {
        inbound_gone = true;
        return;
      }
      job = std::move(inbound_jobs.front());
      inbound_jobs.pop_front();
    }
    try {
      job(true);
    } catch (const std::exception& error) {
      log_problem("inbound thread", error.what());
      try {
        job(false);  // a deliver_sm: ESME_RX_T_APPN, the SMSC sends it again
      } catch (const std::exception& again) {
        log_problem("inbound thread", again.what());
      }
    }
  }
}

void SmsConnector::Impl::receive_sms(SmppBind* bind, std::uint64_t session,
                                     const smpp::Delivered& delivered) {
  std::uint32_t status = smpp::status::temporary_app_error;
  if (!store)
    log_problem("deliver_sm", store_problem);
  else if (inbound)
    status = inbound->receive(delivered.message, unix_now()).smpp_status;
  StoreJob job;  // only for its answer
  job.bind = bind;
  job.session = session;
  job.delivered = delivered;
  answer_deliver(job, status);
}

void SmsConnector::Impl::run_store() {
  for (;;) {
    std::deque<StoreJob> round;
    bool sweep_now = false;
    bool end = false;
    {
      std::unique_lock lock(mutex);
      // to_resolve is this thread's own: no wait while some are left.
      wake.wait_until(lock, next_sweep,
                      [this] { return store_thread_end || !jobs.empty() || !to_resolve.empty(); });
      // A prefix of the queue with at most kMaxWritesPerRound writes.
      std::size_t take = 0;
      for (std::size_t writes = 0; take < jobs.size(); ++take)
        if (is_write(jobs[take]) && ++writes > kMaxWritesPerRound) break;
      round.assign(std::make_move_iterator(jobs.begin()),
                   std::make_move_iterator(jobs.begin() + static_cast<std::ptrdiff_t>(take)));
      jobs.erase(jobs.begin(), jobs.begin() + static_cast<std::ptrdiff_t>(take));
      end = store_thread_end && round.empty() && to_resolve.empty();
      if (end) store_thread_gone = true;  // post_store fails what comes now
      // Due even while jobs keep coming.
      if (!store_thread_end && std::chrono::steady_clock::now() >= next_sweep) {
        sweep_now = true;
        next_sweep = std::chrono::steady_clock::now() + settings.timing.sweep_interval;
      }
    }
    if (end) return;
    // Each job has its own try (run_round); this one catches what is left
    // (the sweep, a resolve).
    try {
      run_round(round);
      if (sweep_now && !stopping) sweep();
    } catch (const std::exception& error) {
      log_problem("store thread", error.what());
    }
  }
}

void SmsConnector::Impl::answer_deliver(const StoreJob& job, std::uint32_t status) {
  SmppBind* bind = job.bind;
  std::uint32_t sequence = job.delivered.sequence;
  std::uint64_t session = job.session;
  asio::post(
      io, [bind, sequence, status, session] { bind->answer_deliver(sequence, status, session); });
}

// One job threw: it alone is answered as failed, the round goes on.
void SmsConnector::Impl::failed(StoreJob& job, const std::exception& error) {
  log_problem("store thread", error.what());
  try {
    fail_job(job, std::string("the SMS connector failed: ") + error.what());
  } catch (const std::exception& again) {
    log_problem("store thread", again.what());
  }
}

void SmsConnector::Impl::run_round(std::deque<StoreJob>& round) {
  // What the round's writes gave, per job (parallel to round).
  struct Written {
    Status status = ok_status();
    std::uint32_t smpp_status = smpp::status::ok;  // deliver
    std::optional<std::string> reference;          // a receipt's part was recorded
    bool write = false;
  };
  std::vector<Written> written(round.size());
  for (std::size_t i = 0; i < round.size(); ++i) {
    StoreJob& job = round[i];
    written[i].write = is_write(job);
  }
  // 1. Every write of the round in one transaction.
  auto write_all = [&] {
    for (std::size_t i = 0; i < round.size(); ++i) {
      if (!written[i].write) continue;
      StoreJob& job = round[i];
      try {
        if (job.kind == StoreJob::Kind::part) {
          written[i].status = store->add_part(settings.name, job.tag, job.part, unix_now());
        } else if (job.kind == StoreJob::Kind::forget) {
          written[i].status = store->forget(settings.name, job.tag);
        } else {
          written[i].smpp_status = record_receipt(job.delivered.message, written[i].reference);
        }
      } catch (const std::exception& error) {
        // This job fails alone; the others of the round still commit.
        log_problem("store round", error.what());
        written[i].status = Error{std::string("the SMS connector failed: ") + error.what()};
        written[i].smpp_status = smpp::status::temporary_app_error;
        written[i].reference.reset();
      }
    }
  };
  bool any_write = false;
  for (const Written& w : written) any_write = any_write || w.write;
  Status committed = ok_status();
  if (any_write && store) {
    try {
      committed = grouped->group(write_all);
    } catch (const std::exception& error) {
      committed = Error{std::string("the SMS connector failed: ") + error.what()};
    }
  }
  if (!committed) log_problem("store round", committed.error().message);
  // 2. Their answers, now that they are durable (or failed).
  for (std::size_t i = 0; i < round.size(); ++i) {
    if (!written[i].write) continue;
    StoreJob& job = round[i];
    Written& w = written[i];
    if (!store) {
      w.status = Error{store_problem};
      w.smpp_status = smpp::status::temporary_app_error;
    } else if (!committed) {
      // Nothing of the round is durable: the SMSC sends its receipts again.
      w.status = committed.error();
      w.reference.reset();
      w.smpp_status = smpp::status::temporary_app_error;
    }
    try {
      if (job.kind == StoreJob::Kind::part) {
        std::string error = w.status ? std::string() : w.status.error().message;
        asio::post(
            io, [answer = std::move(job.answer), ok = w.status.ok(), error] { answer(ok, error); });
      } else if (job.kind == StoreJob::Kind::forget) {
        if (!w.status) log_problem("forget", w.status.error().message);
      } else {
        if (!store) log_problem("deliver_sm", store_problem);
        answer_deliver(job, w.smpp_status);
      }
    } catch (const std::exception& error) {
      failed(job, error);
    }
  }
  // 3. Everything else in its order: deliveries to prepare (incoming SMS
  // go to the inbound thread).
  for (StoreJob& job : round) {
    try {
      if (job.kind == StoreJob::Kind::task && job.task) job.task();
    } catch (const std::exception& error) {
      failed(job, error);
    }
  }
  // 4. The references the receipts may have settled, each once; the
  // settled marks of those resolved share one more commit.
  for (std::size_t i = 0; i < round.size(); ++i) {
    const std::optional<std::string>& reference = written[i].reference;
    if (reference && resolve_queued.insert(*reference).second)
      to_resolve.emplace_back(*reference, receipt_number(round[i].delivered.message));
  }
  std::vector<std::string> settled;
  for (std::size_t n = 0; n < kResolvesPerRound && !to_resolve.empty(); ++n) {
    auto [reference, number] = std::move(to_resolve.front());
    to_resolve.pop_front();
    resolve_queued.erase(reference);
    try {
      if (resolve(reference, number)) settled.push_back(reference);
    } catch (const std::exception& error) {
      log_problem("resolve", error.what());  // the sweep tries it again
    }
  }
  mark_all_settled(settled);
}

std::uint32_t SmsConnector::Impl::record_receipt(const smpp::ShortMessage& message,
                                                 std::optional<std::string>& reference) {
  auto receipt = parse_receipt(message);
  if (!receipt) {
    // Nothing can come of it when it is sent again: taken and logged.
    log::Line("sms_receipt_unreadable")
        .kv("connector", settings.name)
        .kv("reason", receipt.error().message)
        .write(log::Level::warn);
    return smpp::status::ok;
  }
  std::string id = normalise_receipt_id(receipt->message_id, settings.receipt_ids);
  if (!is_final(receipt->state)) {
    log::Line("sms_receipt")
        .kv("connector", settings.name)
        .kv("message_id", id)
        .kv("state", state_text(receipt->state))
        .write(log::Level::debug);
    return smpp::status::ok;
  }
  ReceiptRecord record{id, receipt->state, receipt->error, receipt->text};
  auto found = store->add_receipt(settings.name, record, unix_now());
  if (!found) {
    log_problem("receipt", found.error().message);
    return smpp::status::temporary_app_error;  // the SMSC sends it again
  }
  log::Line("sms_receipt")
      .kv("connector", settings.name)
      .kv("message_id", id)
      .kv("state", state_text(receipt->state))
      .kv("reference", found->value_or(""))
      .write();
  reference = *found;
  return smpp::status::ok;
}

bool SmsConnector::Impl::resolve(const std::string& reference, const std::string& number) {
  auto settlement = store->settle(settings.name, reference);
  if (!settlement) {
    log_problem("settle", settlement.error().message);
    return false;
  }
  if (!settlement->has_value()) return false;
  PendingSink* target = sink.load();
  if (target == nullptr) return false;  // the sweep repeats it once a sink is attached
  RecipientResult result = receipt_result(**settlement, settings, number);
  // Durable now: a failure to record it is the sweep's to repeat.
  if (!target->resolve(settings.name, reference, result)) return false;
  log::Line("sms_resolved")
      .kv("connector", settings.name)
      .kv("reference", reference)
      .kv("outcome", outcome_name(result.outcome))
      .kv("status", result.status)
      .write();
  return true;
}

// Not forget(): a recipient deferred meanwhile (a lost answer, stop())
// is retried, and its retry must find every recorded part (sms_store.hpp).
void SmsConnector::Impl::mark_all_settled(const std::vector<std::string>& references) {
  if (references.empty()) return;
  std::vector<Status> marked;
  Status committed = grouped->group([&] {
    for (const std::string& reference : references)
      marked.push_back(store->mark_settled(settings.name, reference));
  });
  if (!committed) return log_problem("mark settled", committed.error().message);
  for (const Status& status : marked)
    if (!status) log_problem("mark settled", status.error().message);
}

// The number a reference was sent to, for the sweep (a receipt names it
// itself): the recipient of its pending entry. "" when unknown.
std::string SmsConnector::Impl::number_of_reference(const std::string& reference) {
  if (!pending) return {};
  auto entry = pending->find(settings.name, reference);
  if (!entry || !entry->has_value()) return {};
  auto number = number_of_address((*entry)->recipient, settings.domains, settings.default_region);
  return number ? *number : std::string();
}

void SmsConnector::Impl::sweep() {
  if (!store) return;
  auto references = store->settled_references(settings.name, kSweepBatch);
  if (!references) {
    log_problem("sweep", references.error().message);
  } else {
    std::vector<std::string> settled;
    for (const std::string& reference : *references)
      if (resolve(reference, number_of_reference(reference))) settled.push_back(reference);
    mark_all_settled(settled);
  }
  // On the inbound thread: it queues mails (and waits for the intake).
  post_inbound([this](bool run) {
    if (run && inbound) inbound->flush_expired(unix_now());
  });
  if (auto purged = store->purge(unix_now() - kPurgeAfterSeconds); !purged)
    log_problem("purge", purged.error().message);
}

}  // namespace bh::connectors::sms
