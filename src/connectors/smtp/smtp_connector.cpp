#include "connectors/smtp/smtp_connector.hpp"

#include <boost/asio.hpp>
#include <mutex>

#include <fmt/format.h>

#include "mail/control_headers.hpp"
#include "mail/header_block.hpp"
#include "util/log.hpp"

namespace bh::connectors {
namespace asio = boost::asio;
using smtp::ClientConnection;
using smtp::SessionFailure;

// Collects the results of one request across destinations.
struct SmtpConnector::Aggregate {
  DeliveryRequest request;
  DeliveryDone done;
  std::vector<RecipientResult> results;
  std::size_t outstanding = 0;  // touched only on the connector's thread
};

Result<std::shared_ptr<SmtpConnector>> SmtpConnector::create(
    const SmtpConnectorSettings& settings) {
  std::shared_ptr<SmtpConnector> connector(new SmtpConnector(settings));
  if (settings.tls.policy != tls::ClientPolicy::none) {
    auto context = tls::make_client_context(settings.tls);
    if (!context) return Error{"connector " + settings.name + ": " + context.error().message};
    connector->profiles_[""].tls.tls = *context;
    connector->profiles_[""].plaintext.tls = *context;
    // Each tenant with a certificate of its own gets its own TLS context,
    // and its own connections (a connection never carries two tenants' mail).
    for (const TenantCertificate& t : settings.tenant_certificates) {
      tls::ClientTlsSettings tenant_tls = settings.tls;
      tenant_tls.client_certificate = t.certificate;
      tenant_tls.client_key = t.key;
      auto tenant_context = tls::make_client_context(tenant_tls);
      if (!tenant_context)
        return Error{"connector " + settings.name + ": tenant " + t.tenant + ": " +
                     tenant_context.error().message};
      Profile profile = connector->profiles_[""];
      profile.tls.tls = *tenant_context;
      profile.plaintext.tls = *tenant_context;
      connector->profiles_[t.tenant] = std::move(profile);
    }
  }
  if (!connector->resolver_->setup_error().empty())
    return Error{"connector " + settings.name + ": " + connector->resolver_->setup_error()};
  connector->work_.emplace(asio::make_work_guard(connector->io_));
  connector->thread_ = std::thread([c = connector.get()] { c->io_.run(); });
  return connector;
}

SmtpConnector::SmtpConnector(const SmtpConnectorSettings& settings)
    : settings_(settings), io_(1), resolver_(std::make_unique<dns::Resolver>(settings.dns)) {
  smtp::ClientOptions options;
  options.helo_name = settings.helo_name;
  options.policy = settings.tls.policy;
  options.tls_name = settings.tls_domain;
  options.connect_timeout = settings.connect_timeout;
  options.command_timeout = settings.command_timeout;
  options.data_timeout = settings.data_timeout;
  Profile& profile = profiles_[""];
  profile.tls = options;
  profile.plaintext = options;
  profile.plaintext.skip_starttls = true;
}

SmtpConnector::~SmtpConnector() {
  stop();
}

void SmtpConnector::stop() {
  if (!thread_.joinable()) return;
  work_.reset();
  io_.stop();
  thread_.join();
}

void SmtpConnector::complete(Job& job, std::vector<RecipientResult> results) {
  Aggregate& aggregate = *job.aggregate;
  for (std::size_t k = 0; k < job.positions.size() && k < results.size(); ++k)
    aggregate.results[job.positions[k]] = std::move(results[k]);
  if (--aggregate.outstanding == 0) aggregate.done(std::move(aggregate.results));
}

void SmtpConnector::deliver(DeliveryRequest request, DeliveryDone done) {
  asio::post(io_, [this, request = std::move(request), done = std::move(done)]() mutable {
    auto aggregate = std::make_shared<Aggregate>();
    aggregate->results.resize(request.recipients.size());
    // Smarthosts take every recipient; MX delivery goes per recipient domain.
    std::map<std::string, std::vector<std::size_t>> by_destination;
    for (std::size_t k = 0; k < request.recipients.size(); ++k) {
      const Recipient& r = request.envelope().recipients[request.recipients[k]];
      by_destination[settings_.smarthosts.empty() ? r.address.domain_key() : ""].push_back(k);
    }
    // The tenant's own certificate, when it has one.
    std::string tenant =
        profiles_.contains(request.envelope().tenant) ? request.envelope().tenant : "";
    if (by_destination.empty()) return done({});
    aggregate->outstanding = by_destination.size();
    aggregate->request = std::move(request);
    aggregate->done = std::move(done);
    for (auto& [domain, positions] : by_destination) {
      std::string key = domain.empty() ? "smarthost" : "mx:" + domain;
      if (!tenant.empty()) key += " tenant:" + tenant;
      enqueue(key, domain, tenant, Job{aggregate, std::move(positions)});
    }
  });
}

void SmtpConnector::enqueue(const std::string& key, const std::string& domain,
                            const std::string& tenant, Job job) {
  auto& slot = destinations_[key];
  if (!slot) {
    slot = std::make_unique<Destination>();
    slot->domain = domain;
    slot->profile = &profiles_.at(tenant);
  }
  slot->queue.push_back(std::move(job));
  if (!slot->lingering.empty()) {  // a lingering worker takes it on its open connection
    slot->lingering.front()->cancel();
    slot->lingering.pop_front();
  }
  maybe_spawn(key, *slot);
}

// A new worker (connection) when the destination has more waiting than
// workers, within its own limit and the connector's total.
void SmtpConnector::maybe_spawn(const std::string& key, Destination& destination) {
  while (destination.workers < settings_.max_connections &&
         destination.queue.size() > destination.workers &&
         total_workers_ < settings_.max_total_connections) {
    ++destination.workers;
    ++total_workers_;
    asio::co_spawn(io_, worker(key), log::LogEscaped{"smtp connector worker"});
  }
}

asio::awaitable<ClientConnection::Opened> SmtpConnector::try_host(const Profile& profile,
                                                                  const std::string& host,
                                                                  std::uint16_t port) {
  auto addresses = co_await resolver_->addresses(host);
  if (addresses.error) co_return SessionFailure{"4.4.3", addresses.error->reason};
  SessionFailure last{"4.4.1", host + ": no address"};
  std::string reasons;  // every address's failure, so the deferral shows the real cause
  for (const auto& address : addresses.values) {
    asio::ip::tcp::endpoint endpoint(address, port);
    auto opened = co_await ClientConnection::open(endpoint, host, profile.tls);
    if (auto* failure = std::get_if<SessionFailure>(&opened);
        failure && failure->tls_handshake &&
        profile.tls.policy == tls::ClientPolicy::opportunistic) {
      // Opportunistic TLS: a peer whose TLS is broken still gets the mail in plain text.
      log::Line("tls_fallback")
          .kv("connector", settings_.name)
          .kv("host", host)
          .kv("reason", failure->reason)
          .write(log::Level::warn);
      opened = co_await ClientConnection::open(endpoint, host, profile.plaintext);
    }
    if (std::holds_alternative<std::unique_ptr<ClientConnection>>(opened)) co_return opened;
    last = std::get<SessionFailure>(opened);
    log::Line("connect_failed")
        .kv("connector", settings_.name)
        .kv("host", host)
        .kv("reason", last.reason)
        .write(log::Level::warn);
    if (reasons.find(last.reason) == std::string::npos && reasons.size() < 2000)
      reasons += (reasons.empty() ? "" : "; ") + last.reason;
  }
  if (!reasons.empty()) last.reason = reasons;
  co_return last;
}

asio::awaitable<ClientConnection::Opened> SmtpConnector::connect(const Destination& destination) {
  std::vector<HostPort> hosts = settings_.smarthosts;
  if (hosts.empty()) {
    auto mx = co_await resolver_->mail_hosts(destination.domain);
    if (mx.error)
      co_return SessionFailure{mx.error->permanent ? "5.1.2" : "4.4.3", mx.error->reason,
                               mx.error->permanent};
    for (const auto& host : mx.values) hosts.push_back({host.name, settings_.mx_port});
  }
  SessionFailure last{"4.4.1", "no host to try"};
  bool all_permanent = true;
  for (const HostPort& host : hosts) {
    auto opened = co_await try_host(*destination.profile, host.host, host.port);
    if (std::holds_alternative<std::unique_ptr<ClientConnection>>(opened)) co_return opened;
    last = std::get<SessionFailure>(opened);
    all_permanent = all_permanent && last.permanent;
  }
  last.permanent = all_permanent && last.permanent;
  co_return last;
}

asio::awaitable<void> SmtpConnector::worker(std::string key) {
  Destination& destination = *destinations_.at(key);
  std::optional<Job> current;  // the job in hand, answered whatever happens
  try {
    co_await work(destination, current);
  } catch (const std::exception& error) {
    log::Line("connector_error")
        .kv("connector", settings_.name)
        .kv("reason", error.what())
        .write(log::Level::error);
    // Never leave a job without an answer: the message would wait in active/.
    if (current)
      complete(*current,
               std::vector<RecipientResult>(
                   current->positions.size(),
                   {Outcome::deferred, "4.3.0", std::string("internal error: ") + error.what()}));
  }
  --total_workers_;
  // The last worker of an idle destination forgets it (MX delivery meets many domains).
  if (--destination.workers == 0 && destination.queue.empty()) destinations_.erase(key);
  // A slot is free: mail that waited for the connector's total limit goes now.
  for (auto& [waiting_key, waiting] : destinations_) {
    if (total_workers_ >= settings_.max_total_connections) break;
    maybe_spawn(waiting_key, *waiting);
  }
}

asio::awaitable<void> SmtpConnector::work(Destination& destination, std::optional<Job>& current) {
  std::unique_ptr<ClientConnection> connection;
  unsigned sent = 0;
  while (true) {
    if (destination.queue.empty()) {
      if (!connection) break;
      // Linger a little: more mail for this destination reuses the connection.
      asio::steady_timer linger(io_);
      linger.expires_after(settings_.idle_time);
      destination.lingering.push_back(&linger);
      auto [ec] = co_await linger.async_wait(asio::as_tuple(asio::use_awaitable));
      destination.lingering.remove(&linger);
      if (destination.queue.empty()) {
        if (ec == asio::error::operation_aborted) continue;  // woken, but another took it
        break;
      }
    }
    current = std::move(destination.queue.front());
    destination.queue.pop_front();
    if (connection && (!connection->usable() || sent >= settings_.max_messages_per_connection)) {
      co_await connection->quit();
      connection.reset();
    }
    if (!connection) {
      auto opened = co_await connect(destination);
      if (auto* failure = std::get_if<SessionFailure>(&opened)) {
        // Site error: everything waiting for this destination shares it.
        Outcome outcome = failure->permanent ? Outcome::bounced : Outcome::deferred;
        RecipientResult result{outcome, failure->status, failure->reason};
        complete(*current, std::vector<RecipientResult>(current->positions.size(), result));
        current.reset();
        while (!destination.queue.empty()) {
          Job waiting = std::move(destination.queue.front());
          destination.queue.pop_front();
          complete(waiting, std::vector<RecipientResult>(waiting.positions.size(), result));
        }
        break;
      }
      connection = std::move(std::get<std::unique_ptr<ClientConnection>>(opened));
      sent = 0;
    }
    const DeliveryRequest& request = current->aggregate->request;
    std::vector<std::size_t> indexes;
    for (std::size_t position : current->positions) indexes.push_back(request.recipients[position]);
    // Toward partners and the internet the control headers stay behind: a
    // copy without them, only for a message that has some.
    std::string stripped;
    std::string_view content = request.content();
    if (settings_.audience != Audience::tenant) {
      bool has_control = false;
      HeaderBlock header(content);  // named: fields() refers into it
      for (const HeaderField& field : header.fields())
        has_control = has_control || is_control_header(field.name);
      if (has_control) {
        stripped = std::string(content);
        std::size_t header_size = header_size_of(stripped);
        std::vector<std::string> removed =
            strip_control_headers(stripped, header_size, settings_.audience);
        log::Line("headers_stripped")
            .kv("id", request.envelope().queue_id)
            .kv("connector", settings_.name)
            .kv("removed", removed.size())
            .write(log::Level::debug);
        content = stripped;
      }
    }
    std::vector<RecipientResult> results =
        co_await connection->send(request.envelope(), content, indexes);
    ++sent;
    for (auto& r : results)
      if (r.remote_mta.empty()) r.remote_mta = connection->host_name();
    complete(*current, std::move(results));
    current.reset();
  }
  if (connection) {
    co_await connection->quit();
  }
}

}  // namespace bh::connectors
