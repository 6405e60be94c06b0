// run_gateway: every part of the gateway started in order, run until a
// signal, and stopped in reverse order.
#include "server/gateway.hpp"

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <thread>

#include "admin/admin_service.hpp"
#include "directory/directory_cache.hpp"
#include "directory/directory_store.hpp"
#include "intake/ingest.hpp"
#include "mail/queue_id.hpp"
#include "policy/policy_set.hpp"
#include "queue/done_log.hpp"
#include "queue/group_commit.hpp"
#include "queue/recovery.hpp"
#include "scheduler/pending_reports.hpp"
#include "scheduler/scheduler.hpp"
#include "server/config_store.hpp"
#include "server/fax_ingest_route.hpp"
#include "server/gateway_internal.hpp"
#include "server/graceful_stop.hpp"
#include "smtp/server/listener.hpp"
#include "store/database.hpp"
#include "store/pending_store.hpp"
#include "tls/chain_verifier.hpp"
#include "tls/client_policy.hpp"
#include "tls/context.hpp"
#include "trace/recorder.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"

namespace bh {
namespace asio = boost::asio;

namespace {

log::Level level_from(const std::string& name) {
  if (name == "debug") return log::Level::debug;
  if (name == "warn") return log::Level::warn;
  if (name == "error") return log::Level::error;
  return log::Level::info;
}

int fail(const std::string& reason) {
  log::Line("startup_failed").kv("reason", reason).write(log::Level::error);
  return 1;
}

void log_decision(const ClientInfo& client, std::string_view queue_id, std::string_view stage,
                  const Verdict& verdict, std::string_view tenant) {
  log::Line("policy")
      .kv("id", queue_id.empty() ? "-" : queue_id)
      .kv("stage", stage)
      .kv("peer", client.ip)
      .kv("connector", client.inbound_connector.empty() ? "none" : client.inbound_connector)
      .kv("tenant", tenant.empty() ? "-" : tenant)
      .kv("result", verdict.accepted ? "accepted" : "refused")
      .kv("code", verdict.accepted ? 0 : verdict.code)
      .kv("reason", verdict.reason)
      .write();
}

void log_refusal(const ClientInfo& client, std::string_view queue_id, int code,
                 std::string_view enhanced, std::string_view text) {
  log::Line("refused")
      .kv("id", queue_id.empty() ? "-" : queue_id)
      .kv("peer", client.ip)
      .kv("code", code)
      .kv("status", enhanced)
      .kv("reply", text)
      .write();
}

SchedulerSettings scheduler_settings_from(const Config& config) {
  SchedulerSettings s;
  s.active_limit = static_cast<std::size_t>(config.queue.active_limit);
  s.active_bytes_limit = static_cast<std::size_t>(config.queue.active_bytes_limit);
  s.outcome.hostname = config.hostname;
  s.outcome.retry_delay = std::chrono::seconds(config.queue.retry_delay);
  s.outcome.max_retry_delay = std::chrono::seconds(config.queue.max_retry_delay);
  s.outcome.max_lifetime = std::chrono::seconds(config.queue.max_lifetime);
  s.outcome.delay_warning = std::chrono::seconds(config.queue.delay_warning);
  s.make_queue_id = make_queue_id;
  return s;
}

}  // namespace

using gateway_detail::connector_verifier;
using gateway_detail::GatewayGauges;
using gateway_detail::make_policy;
using gateway_detail::make_tls;
using gateway_detail::ReloadOnHangup;
using gateway_detail::warn_missing_exchange_root;

int run_gateway(const Config& config) {
  log::init(config.log_format == "json" ? log::Format::json : log::Format::text,
            level_from(config.log_level));
  // Queue ids carry the node's tag: nodes sharing a store never make the
  // same one (the trace keys messages by it).
  set_queue_id_node(config.hostname);

  // The store the nodes share (directory, trace, pending references,
  // tokens): opened once, each component applies its migrations.
  if (std::string warning = store_pool_warning(config); !warning.empty())
    log::Line("store_warning").kv("reason", warning).write(log::Level::warn);
  auto opened_database = store::open_database(config.store);
  if (!opened_database) return fail(opened_database.error().message);
  std::shared_ptr<store::Database> database = *opened_database;

  queue::Spool spool(config.queue.directory);
  if (auto created = spool.create_layout(); !created) return fail(created.error().message);
  queue::FlushTracker flushes;  // the intake's syncfs, shared by the done log
  queue::DoneLog done_log(spool.root() / "done", &flushes);
  if (auto opened = done_log.open(spool); !opened) return fail(opened.error().message);
  queue::recover(spool, done_log.committed_dsns());
  done_log.start();

  std::shared_ptr<asio::ssl::context> tls_context;
  auto verifier = connector_verifier(config);
  if (!verifier) return fail(verifier.error().message);
  if (config.tls) {
    auto made = make_tls(config);
    if (!made) return fail(made.error().message);
    tls_context = *made;
  }

  warn_missing_exchange_root(config);

  // The directory: tables in the shared store, read by the policy from an
  // in-memory cache that follows the store's version (writes through the
  // admin API refresh it at once; the poll thread picks up other nodes').
  auto opened_directory = directory::DirectoryStore::open(database);
  if (!opened_directory) return fail(opened_directory.error().message);
  std::shared_ptr<directory::DirectoryStore> directory_store = std::move(*opened_directory);
  auto directory = std::make_unique<directory::DirectoryCache>(directory_store, config.directory);
  if (Status loaded = directory->refresh(); !loaded)
    log::Line("directory_unavailable")
        .kv("reason", loaded.error().message)
        .kv("effect", "decisions that need the directory answer 451 4.3.0 until it loads")
        .write(log::Level::warn);
  auto initial_policy = make_policy(config, directory.get());
  if (!initial_policy) return fail(initial_policy.error().message);
  if (!initial_policy.value()->stamp)
    log::Line("stamp_disabled")
        .kv("reason", "no [stamp] table: mail is not stamped, and stamps that arrive are removed")
        .write(log::Level::warn);
  PolicyHolder policy(*initial_policy);
  auto registry = connectors::Registry::build(config.connectors);
  if (!registry) return fail(registry.error().message);
  // A delivery a crash left unpublished is finished when its result was
  // recorded (or its message is gone, which only happens after that).
  registry->recover_all(
      [&spool, &done_log](const std::string& id, std::uint32_t generation, std::size_t index) {
        std::optional<queue::State> state = spool.locate(id);
        if (!state) return true;  // finished, which happens only after its results
        std::size_t size = 0;
        auto envelope = spool.load_envelope(*state, id, &size);
        if (!envelope) return false;
        if (envelope->generation != generation) return true;  // rewritten after its outcome
        auto marks = done_log.marks(id, generation);
        auto found = marks.results.find(index);
        return found != marks.results.end() && found->second.delivered;
      });

  // Pending recipients by reference, in the store the nodes share.
  auto pending_store = store::PendingStore::open(database);
  if (!pending_store) return fail(pending_store.error().message);
  // The message trace: recorded without blocking, written in batches by
  // the recorder's own thread ([trace] enabled = false: not recorded).
  std::unique_ptr<trace::TraceStore> trace_store;
  std::unique_ptr<trace::Recorder> recorder;
  if (config.trace.enabled) {
    auto opened_trace = trace::TraceStore::open(database);
    if (!opened_trace) return fail(opened_trace.error().message);
    trace_store = std::move(*opened_trace);
    recorder = std::make_unique<trace::Recorder>(
        *trace_store, trace::recorder_settings(config.trace, config.hostname));
  }
  SchedulerSettings scheduler_settings = scheduler_settings_from(config);
  scheduler_settings.pending = pending_store->get();
  scheduler_settings.trace = recorder.get();
  scheduler_settings.node = config.hostname;
  Scheduler scheduler(spool, done_log, policy, *registry, scheduler_settings);
  PendingReports reports(**pending_store, spool, scheduler, config.hostname);
  registry->attach_all(&reports);
  queue::GroupCommit commit(
      spool, [&scheduler](const std::string& id) { scheduler.message_arrived(id); }, &flushes);

  smtp::ConnectionLimiter limiter(config.limits.connections, config.limits.connections_per_ip);
  smtp::SessionTracker sessions;
  unsigned threads = config.threads > 0 ? static_cast<unsigned>(config.threads)
                                        : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::unique_ptr<asio::io_context>> ios;
  for (unsigned i = 0; i < threads; ++i) ios.push_back(std::make_unique<asio::io_context>(1));
  GracefulStop graceful(ios, sessions, scheduler, std::chrono::seconds(config.shutdown_grace));
  // Messages that do not come over SMTP (an incoming fax): the same
  // pipeline and group commit; answers on the first I/O thread.
  intake::Ingest ingest(policy, commit, make_queue_id, unix_now, ios.front()->get_executor(),
                        recorder.get());
  std::vector<std::unique_ptr<smtp::SessionContext>> contexts;
  for (const ListenerConfig& listener : config.listeners) {
    smtp::SessionSettings settings;
    settings.hostname = config.hostname;
    settings.limits = config.limits;
    settings.strip_nul = config.strip_nul;
    if (auto pm = parse_path("<" + config.postmaster + ">", false, true);
        !config.postmaster.empty() && pm.address)
      settings.postmaster = *pm.address;
    else
      settings.postmaster = Address{"postmaster", config.hostname};
    settings.starttls_offered = listener.starttls && tls_context != nullptr;
    settings.require_tls = listener.require_tls;
    settings.make_queue_id = make_queue_id;
    settings.now = unix_now;
    settings.on_decision = log_decision;
    settings.on_refusal = log_refusal;
    settings.drain_at_ms = graceful.drain_at();
    settings.trace = recorder.get();
    contexts.push_back(std::make_unique<smtp::SessionContext>(
        smtp::SessionContext{std::move(settings), policy, listener.starttls ? tls_context : nullptr,
                             *verifier, commit, limiter, sessions}));
  }

  // The admin API: bound now (a taken port fails the start), serving from
  // its own thread once SMTP listens.
  std::unique_ptr<admin::AdminService> admin_api;
  if (config.admin.enabled) {
    admin::AdminPlane plane;
    plane.directory = directory_store.get();
    plane.refresh_directory = [&directory] { return directory->refresh(); };
    plane.normalise.default_region = config.directory.default_region;
    // The [[tenant]] tables of the configuration in force (a reload swaps it).
    plane.configured_domain_owner = [&policy](std::string_view domain) -> std::string {
      auto current = policy.current();
      for (const Tenant& tenant : current->trust.config().tenants)
        for (const std::string& listed : tenant.domains)
          if (listed == domain) return tenant.id;
      return "";
    };
    plane.spool = &spool;
    plane.trace = trace_store.get();
    plane.metrics = &metrics::process_registry();
    plane.ingest_fax = fax_ingest_function(*registry, config.connectors, *directory);
    auto opened_admin = admin::AdminService::open(config.admin, database, std::move(plane));
    if (!opened_admin) return fail(opened_admin.error().message);
    admin_api = std::move(*opened_admin);
  }

  for (std::size_t l = 0; l < config.listeners.size(); ++l) {
    const ListenerConfig& listener = config.listeners[l];
    boost::system::error_code ec;
    auto address = asio::ip::make_address(listener.host, ec);
    if (ec) return fail("listener " + listener.address + ": not an IP address");
    for (auto& io : ios) {
      auto acceptor = smtp::open_acceptor(*io, {address, listener.port});
      if (!acceptor) return fail(acceptor.error().message);
      auto shared = std::make_shared<asio::ip::tcp::acceptor>(std::move(*acceptor));
      graceful.add_acceptor(shared);
      asio::co_spawn(*io, smtp::accept_loop(shared, *contexts[l]), log::LogEscaped{"listener"});
    }
    log::Line("listening")
        .kv("address", listener.address)
        .kv("starttls", contexts[l]->settings.starttls_offered)
        .kv("threads", threads)
        .write();
  }

  // From here on nothing returns early, so the connectors' ingest threads
  // (the fax ingest folder) are stopped by stop_all() before `ingest` ends.
  registry->attach_intake_all({&ingest, directory.get(), database});
  if (recorder) recorder->start();
  directory->start();  // polls the store every directory.refresh_interval
  scheduler.start();
  commit.start();
  reports.start();
  GatewayGauges gauges(scheduler, spool, recorder.get());
  if (admin_api) admin_api->start();

  asio::signal_set signals(*ios.front(), SIGINT, SIGTERM);
  std::function<void()> wait_for_signal = [&] {
    signals.async_wait([&](boost::system::error_code ec, int signal) {
      if (ec) return;
      graceful.begin(signal);
      wait_for_signal();  // a second signal stops at once
    });
  };
  wait_for_signal();
  ReloadOnHangup reload{asio::signal_set(*ios.front(), SIGHUP),
                        config,
                        policy,
                        *registry,
                        directory.get(),
                        **verifier,
                        tls_context.get()};
  reload.wait();

  std::vector<std::thread> workers;
  for (std::size_t i = 1; i < ios.size(); ++i) workers.emplace_back([&io = *ios[i]] { io.run(); });
  ios.front()->run();
  for (auto& worker : workers) worker.join();

  // The I/O threads no longer answer the fax ingest's wait for the queue:
  // it ends now, and the fax stays in the ingest folder for the next start.
  stop_fax_ingest(*registry, config.connectors);
  if (admin_api) admin_api->stop();  // first: no API change while the rest stops
  reports.stop();
  commit.stop();                   // finishes the batch being written
  scheduler.stop();                // lets running deliveries record their outcome
  if (recorder) recorder->stop();  // writes what the stop traced
  directory->stop();
  // Deliveries still in flight stay in active/ and are retried at the next start.
  registry->stop_all();
  log::Line("stopped").write();
  return 0;
}

}  // namespace bh
