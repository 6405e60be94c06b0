#include "connectors/sms/sms_connector.hpp"

#include <boost/asio.hpp>

#include <fmt/format.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "connectors/sms/delivery_receipt.hpp"
#include "connectors/sms/smpp_bind.hpp"
#include "connectors/sms/sms_dispatch.hpp"
#include "connectors/sms/sms_inbound.hpp"
#include "connectors/sms/sms_outbound.hpp"
#include "connectors/sms/sms_prepare.hpp"
#include "connectors/sms/sms_store.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"

namespace bh::connectors::sms {
namespace asio = boost::asio;

namespace {

constexpr auto kSweepInterval = std::chrono::seconds(10);
constexpr std::int64_t kPurgeAfterSeconds = 14 * 24 * 3600;
constexpr std::size_t kSweepBatch = 100;
// stop(): how long the binds may take for their unbind beyond response_timeout.
constexpr auto kStopSlack = std::chrono::seconds(2);

RecipientResult defer(std::string status, std::string diagnostic) {
  return {Outcome::deferred, std::move(status), std::move(diagnostic)};
}

// The handset a receipt reports on (its source_addr), E.164 when it is one.
std::string receipt_number(const smpp::ShortMessage& message) {
  if (message.source.ton == 1 && !message.source.address.empty())
    return "+" + message.source.address;
  return message.source.address;
}

}  // namespace

struct SmsConnector::Impl final : BindHandler {
  explicit Impl(const SmsSettings& s) : settings(s) {}

  SmsSettings settings;
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread io_thread;

  // The store thread's jobs, in order.
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::function<void()>> jobs;
  bool store_thread_end = false;
  std::thread store_thread;
  std::chrono::steady_clock::time_point next_sweep;

  std::atomic<bool> stopping{false};
  std::atomic<PendingSink*> sink{nullptr};
  // Set by attach_intake before the binds start; read on the store thread.
  intake::Ingest* ingest = nullptr;
  const directory::DirectoryView* directory = nullptr;
  std::unique_ptr<SmsStore> store;
  std::string store_problem = "the SMS connector has no store yet";
  std::unique_ptr<SmsInbound> inbound;

  // io thread only.
  std::vector<std::unique_ptr<SmppBind>> binds;
  std::unique_ptr<SmsDispatch> dispatch;

  void start() {
    dispatch = std::make_unique<SmsDispatch>(
        io, settings,
        [this](const std::string& tag, int part, int parts, const std::string& id,
               std::function<void(bool, std::string)> answer) {
          post_store([this, tag, part, parts, id, answer = std::move(answer)] {
            if (!store) return asio::post(io, [answer] { answer(false, "no store"); });
            Status added =
                store->add_part(settings.name, tag, PartRecord{id, part, parts}, unix_now());
            std::string error = added ? std::string() : added.error().message;
            asio::post(io, [answer, ok = added.ok(), error] { answer(ok, error); });
          });
        },
        [this](const std::string& tag) {
          post_store([this, tag] {
            if (!store) return;
            if (Status forgotten = store->forget(settings.name, tag); !forgotten)
              log_problem("forget", forgotten.error().message);
          });
        });
    work.emplace(asio::make_work_guard(io));
    io_thread = std::thread([this] { run_io(); });
    next_sweep = std::chrono::steady_clock::now() + kSweepInterval;
    store_thread = std::thread([this] { run_store(); });
  }

  void log_problem(const char* where, const std::string& what) const {
    log::Line("sms_connector_problem")
        .kv("connector", settings.name)
        .kv("where", where)
        .kv("reason", what)
        .write(log::Level::warn);
  }

  void run_io() {
    for (;;) {
      try {
        io.run();
        return;
      } catch (const std::exception& error) {
        log::Line("connector_error")
            .kv("connector", settings.name)
            .kv("where", "sms io thread")
            .kv("reason", error.what())
            .write(log::Level::error);
      }
    }
  }

  void post_store(std::function<void()> job) {
    {
      std::lock_guard lock(mutex);
      jobs.push_back(std::move(job));
    }
    wake.notify_one();
  }

  void run_store() {
    for (;;) {
      std::function<void()> job;
      bool sweep_now = false;
      {
        std::unique_lock lock(mutex);
        wake.wait_until(lock, next_sweep, [this] { return store_thread_end || !jobs.empty(); });
        if (!jobs.empty()) {
          job = std::move(jobs.front());
          jobs.pop_front();
        } else if (store_thread_end) {
          return;
        }
        // Due even while jobs keep coming.
        if (!store_thread_end && std::chrono::steady_clock::now() >= next_sweep) {
          sweep_now = true;
          next_sweep = std::chrono::steady_clock::now() + kSweepInterval;
        }
      }
      try {
        if (job) job();
        if (sweep_now && !stopping) sweep();
      } catch (const std::exception& error) {
        log_problem("store thread", error.what());
      }
    }
  }

  // --- Mail -> SMS, the blocking half (store thread).
  void prepare(DeliveryRequest request, DeliveryDone done);
  // --- Receipts and incoming SMS (store thread).
  void handle_delivered(SmppBind* bind, std::uint64_t session, const smpp::Delivered& delivered);
  std::uint32_t handle_receipt(const smpp::ShortMessage& message);
  void resolve(const std::string& reference, const std::string& number);
  void sweep();

  // --- BindHandler (io thread).
  void bound(SmppBind&) override { dispatch->kick(); }
  void submit_answered(SmppBind& bind, const smpp::SubmitAnswered& answer) override {
    dispatch->answered(bind, answer);
  }
  void submit_lost(SmppBind& bind, const smpp::SubmitLost& lost) override {
    dispatch->lost(bind, lost);
  }
  void delivered(SmppBind& bind, const smpp::Delivered& delivered) override {
    SmppBind* where = &bind;
    std::uint64_t session = bind.session();
    post_store([this, where, session, delivered] { handle_delivered(where, session, delivered); });
  }
  void unbound(SmppBind&, const std::string&) override { dispatch->kick(); }
};

void SmsConnector::Impl::prepare(DeliveryRequest request, DeliveryDone done) {
  PrepareContext context{settings, store.get(), directory, store_problem, stopping};
  std::shared_ptr<SmsRequest> shared = prepare_request(context, request, std::move(done));
  // The io thread submits; it also answers (at once when nothing is left).
  asio::post(io, [this, shared] {
    if (stopping) {
      for (std::size_t slot = 0; slot < shared->final.size(); ++slot)
        if (!shared->final[slot]) {
          shared->results[slot] = defer("4.3.0", "the gateway is stopping");
          shared->final[slot] = true;
        }
    }
    dispatch->add(shared);
  });
}

void SmsConnector::Impl::handle_delivered(SmppBind* bind, std::uint64_t session,
                                          const smpp::Delivered& delivered) {
  std::uint32_t status = smpp::status::temporary_app_error;
  if (!store) {
    log_problem("deliver_sm", store_problem);
  } else if (is_receipt(delivered.message)) {
    status = handle_receipt(delivered.message);
  } else if (inbound) {
    status = inbound->receive(delivered.message, unix_now()).smpp_status;
  }
  std::uint32_t sequence = delivered.sequence;
  asio::post(
      io, [bind, sequence, status, session] { bind->answer_deliver(sequence, status, session); });
}

std::uint32_t SmsConnector::Impl::handle_receipt(const smpp::ShortMessage& message) {
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
  auto reference = store->add_receipt(settings.name, record, unix_now());
  if (!reference) {
    log_problem("receipt", reference.error().message);
    return smpp::status::temporary_app_error;  // the SMSC sends it again
  }
  log::Line("sms_receipt")
      .kv("connector", settings.name)
      .kv("message_id", id)
      .kv("state", state_text(receipt->state))
      .kv("reference", reference->value_or(""))
      .write();
  // Durable now: a failure to settle is the sweep's to repeat.
  if (reference->has_value()) resolve(**reference, receipt_number(message));
  return smpp::status::ok;
}

void SmsConnector::Impl::resolve(const std::string& reference, const std::string& number) {
  auto settlement = store->settle(settings.name, reference);
  if (!settlement) return log_problem("settle", settlement.error().message);
  if (!settlement->has_value()) return;
  PendingSink* target = sink.load();
  if (target == nullptr) return;  // the sweep repeats it once a sink is attached
  RecipientResult result = receipt_result(**settlement, settings, number);
  if (!target->resolve(settings.name, reference, result)) return;
  log::Line("sms_resolved")
      .kv("connector", settings.name)
      .kv("reference", reference)
      .kv("outcome", outcome_name(result.outcome))
      .kv("status", result.status)
      .write();
  if (Status forgotten = store->forget(settings.name, reference); !forgotten)
    log_problem("forget", forgotten.error().message);
}

void SmsConnector::Impl::sweep() {
  if (!store) return;
  auto settled = store->settled_references(settings.name, kSweepBatch);
  if (!settled)
    log_problem("sweep", settled.error().message);
  else
    for (const std::string& reference : *settled) resolve(reference, "");
  if (inbound) inbound->flush_expired(unix_now());
  if (auto purged = store->purge(unix_now() - kPurgeAfterSeconds); !purged)
    log_problem("purge", purged.error().message);
}

Result<std::shared_ptr<SmsConnector>> SmsConnector::create(const SmsSettings& settings) {
  if (settings.binds.empty()) return Error{"connector " + settings.name + ": no bind"};
  std::shared_ptr<SmsConnector> connector(new SmsConnector(settings));
  connector->impl_->start();
  log::Line("sms_connector")
      .kv("connector", settings.name)
      .kv("binds", settings.binds.size())
      .kv("smsc", fmt::format("{}:{}", settings.binds.front().host, settings.binds.front().port))
      .write();
  return connector;
}

SmsConnector::SmsConnector(const SmsSettings& settings) : impl_(std::make_unique<Impl>(settings)) {}

SmsConnector::~SmsConnector() {
  stop();
}

void SmsConnector::deliver(DeliveryRequest request, DeliveryDone done) {
  if (request.recipients.empty()) return done({});
  if (impl_->stopping) {
    done(same_for_all(request, defer("4.3.0", "the gateway is stopping")));
    return;
  }
  Impl* impl = impl_.get();
  impl->post_store([impl, request = std::move(request), done = std::move(done)]() mutable {
    impl->prepare(std::move(request), std::move(done));
  });
}

void SmsConnector::attach(PendingSink* sink) {
  impl_->sink = sink;
}

void SmsConnector::attach_intake(const IntakeServices& services) {
  Impl& impl = *impl_;
  if (impl.stopping) return;
  // On the store thread: everything that reads these runs there.
  std::promise<void> attached;
  impl.post_store([&impl, &services, &attached] {
    impl.ingest = services.ingest;
    impl.directory = services.directory;
    if (!services.store) {
      impl.store_problem = "the SMS connector has no store";
    } else if (auto opened = SmsStore::open(services.store); !opened) {
      impl.store_problem = "the SMS store could not be opened: " + opened.error().message;
    } else {
      impl.store = std::move(*opened);
      if (impl.ingest != nullptr && impl.directory != nullptr)
        impl.inbound =
            std::make_unique<SmsInbound>(impl.settings, *impl.ingest, *impl.directory, *impl.store);
    }
    if (!impl.store)
      log::Line("sms_store_unavailable")
          .kv("connector", impl.settings.name)
          .kv("reason", impl.store_problem)
          .write(log::Level::error);
    attached.set_value();
  });
  attached.get_future().wait();
  asio::post(impl.io, [&impl] {
    if (impl.stopping || !impl.binds.empty()) return;
    std::vector<SmppBind*> raw;
    for (std::size_t i = 0; i < impl.settings.binds.size(); ++i) {
      impl.binds.push_back(std::make_unique<SmppBind>(
          impl.io, impl.settings.binds[i], impl.settings, static_cast<int>(i + 1), impl));
      raw.push_back(impl.binds.back().get());
    }
    impl.dispatch->set_binds(raw);
    for (auto& bind : impl.binds) bind->start();
  });
}

void SmsConnector::stop() {
  Impl& impl = *impl_;
  if (impl.stopping.exchange(true)) return;
  if (impl.inbound) impl.inbound->stop();
  // Unbind every bind (bounded), then answer what is still in flight.
  auto unbound = std::make_shared<std::promise<void>>();
  asio::post(impl.io, [&impl, unbound] {
    auto left = std::make_shared<std::size_t>(impl.binds.size());
    if (*left == 0) return unbound->set_value();
    for (auto& bind : impl.binds)
      bind->stop([left, unbound] {
        if (--*left == 0) unbound->set_value();
      });
  });
  unbound->get_future().wait_for(impl.settings.timing.response_timeout + kStopSlack);
  std::promise<void> abandoned;
  asio::post(impl.io, [&impl, &abandoned] {
    impl.dispatch->abandon("the gateway is stopping");
    abandoned.set_value();
  });
  abandoned.get_future().wait();
  {
    std::lock_guard lock(impl.mutex);
    impl.store_thread_end = true;  // the jobs left still run (and defer)
  }
  impl.wake.notify_all();
  if (impl.store_thread.joinable()) impl.store_thread.join();
  // The store thread's last answers (deliveries it deferred) go out now.
  std::promise<void> drained;
  asio::post(impl.io, [&drained] { drained.set_value(); });
  drained.get_future().wait();
  impl.work.reset();
  impl.io.stop();
  if (impl.io_thread.joinable()) impl.io_thread.join();
  impl.binds.clear();
}

}  // namespace bh::connectors::sms
