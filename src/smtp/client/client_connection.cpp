#include "smtp/client/client_connection.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <fmt/format.h>

#include "tls/identity.hpp"

// Note: g++ 12 miscompiles co_await inside conditions and call arguments
// (SIGSEGV/SIGILL on resumption); every co_await here is a statement of its own.

namespace bh::smtp {
namespace asio = boost::asio;
using asio::ip::tcp;
using connectors::Outcome;
using connectors::RecipientResult;

namespace {

std::string status_or(const ServerReply& reply, std::string_view fallback) {
  return reply.enhanced.empty() ? std::string(fallback) : reply.enhanced;
}

}  // namespace

ClientConnection::ClientConnection(std::shared_ptr<Transport> transport, std::string host_name,
                                   const ClientOptions& options)
    : transport_(std::move(transport)), host_name_(std::move(host_name)), options_(options) {}

asio::awaitable<ClientConnection::Opened> ClientConnection::open(tcp::endpoint endpoint,
                                                                 std::string host_name,
                                                                 const ClientOptions& options) {
  auto executor = co_await asio::this_coro::executor;
  tcp::socket socket(executor);
  auto transport =
      Transport::create(std::move(socket), Transport::Clock::now() + options.connect_timeout);
  auto [ec] =
      co_await transport->lowest().async_connect(endpoint, asio::as_tuple(asio::use_awaitable));
  if (ec) {
    transport->close();
    co_return SessionFailure{
        "4.4.1", fmt::format("connect to {}[{}]:{}: {}", host_name, endpoint.address().to_string(),
                             endpoint.port(), transport->timed_out() ? "timed out" : ec.message())};
  }
  transport->lowest().set_option(tcp::no_delay(true), ec);
  std::unique_ptr<ClientConnection> connection(new ClientConnection(transport, host_name, options));
  std::optional<SessionFailure> failure = co_await connection->handshake();
  if (failure) {
    transport->close();
    co_return *failure;
  }
  co_return connection;
}

SessionFailure ClientConnection::lost(std::string_view during) const {
  return SessionFailure{
      "4.4.2", fmt::format("{}: connection lost or timed out during {}", host_name_, during)};
}

asio::awaitable<std::optional<ServerReply>> ClientConnection::read_reply(
    std::chrono::seconds timeout) {
  transport_->set_deadline(Transport::Clock::now() + timeout);
  ReplyParser parser;
  while (true) {
    std::size_t newline;
    while ((newline = buffer_.find('\n')) != std::string::npos) {
      std::string_view line(buffer_.data(), newline);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      auto status = parser.add_line(line);
      buffer_.erase(0, newline + 1);
      if (status == ReplyParser::Status::complete) co_return parser.take();
      if (status == ReplyParser::Status::malformed) {
        usable_ = false;
        co_return std::nullopt;
      }
    }
    if (buffer_.size() > ReplyParser::kMaxLineLength) {
      usable_ = false;
      co_return std::nullopt;
    }
    char chunk[4096];
    auto [ec, n] = co_await transport_->read_some(asio::buffer(chunk));
    if (ec) {
      usable_ = false;
      last_error_ = ec.message();
      co_return std::nullopt;
    }
    buffer_.append(chunk, n);
  }
}

asio::awaitable<bool> ClientConnection::write(std::string_view data, std::chrono::seconds timeout) {
  transport_->set_deadline(Transport::Clock::now() + timeout);
  auto ec = co_await transport_->write(asio::buffer(data));
  if (ec) {
    usable_ = false;
    last_error_ = ec.message();
  }
  co_return !ec;
}

asio::awaitable<std::optional<ServerReply>> ClientConnection::command(const std::string& line) {
  bool written = co_await write(line, options_.command_timeout);
  if (!written) co_return std::nullopt;
  std::optional<ServerReply> reply = co_await read_reply(options_.command_timeout);
  co_return reply;
}

asio::awaitable<std::optional<SessionFailure>> ClientConnection::greet_and_hello() {
  auto greeting = co_await read_reply(options_.command_timeout);
  if (!greeting) co_return lost("the greeting");
  // A host that will not talk to us (5xx or 421 greeting) says nothing about
  // the message: try the next host, and defer (Postfix's smtp_skip_5xx_greeting).
  if (greeting->code != 220)
    co_return SessionFailure{
        "4.4.0", fmt::format("{} refused to talk to us: {}", host_name_, greeting->summary()),
        false};
  auto ehlo = co_await command(fmt::format("EHLO {}\r\n", options_.helo_name));
  if (!ehlo) co_return lost("EHLO");
  if (ehlo->code == 250) {
    capabilities_ = parse_ehlo(ehlo->lines);
    co_return std::nullopt;
  }
  auto helo = co_await command(fmt::format("HELO {}\r\n", options_.helo_name));
  if (!helo) co_return lost("HELO");
  if (helo->code != 250)
    co_return SessionFailure{status_or(*helo, helo->permanent() ? "5.5.0" : "4.5.0"),
                             fmt::format("{} refused HELO: {}", host_name_, helo->summary()),
                             helo->permanent()};
  capabilities_ = Capabilities{};  // plain SMTP: no extensions
  co_return std::nullopt;
}

asio::awaitable<std::optional<SessionFailure>> ClientConnection::handshake() {
  std::optional<SessionFailure> greeting_failure = co_await greet_and_hello();
  if (greeting_failure) co_return greeting_failure;
  tls::ClientPolicy policy = options_.policy;
  bool want_tls = policy != tls::ClientPolicy::none && !options_.skip_starttls;
  if (!want_tls) co_return std::nullopt;
  if (!capabilities_.starttls) {
    if (!tls::requires_tls(policy)) co_return std::nullopt;
    // Never fall back to plain text when the policy requires TLS.
    co_return SessionFailure{"4.7.4", fmt::format("{} does not offer STARTTLS, which TLS policy "
                                                  "{} requires",
                                                  host_name_, tls::client_policy_name(policy))};
  }
  auto reply = co_await command("STARTTLS\r\n");
  if (!reply) co_return lost("STARTTLS");
  if (reply->code != 220) {
    if (!tls::requires_tls(policy)) co_return std::nullopt;
    co_return SessionFailure{"4.7.4",
                             fmt::format("{} refused STARTTLS: {}", host_name_, reply->summary())};
  }
  if (!buffer_.empty()) {  // a server must not pipeline after 220 (CVE-2011-0411, reversed)
    usable_ = false;
    co_return SessionFailure{"4.7.0", host_name_ + " sent data after its STARTTLS reply"};
  }
  transport_->set_deadline(Transport::Clock::now() + options_.command_timeout);
  auto ec = co_await transport_->handshake(*options_.tls, asio::ssl::stream_base::client,
                                           tls::sni_name(options_.tls_name, host_name_));
  if (ec) {
    SessionFailure failure{
        "4.7.5", fmt::format("TLS handshake with {} failed: {}", host_name_, ec.message())};
    failure.tls_handshake = true;
    co_return failure;
  }
  tls::SessionTlsInfo info = tls::describe_session(transport_->ssl_handle());
  std::string expected = options_.tls_name.empty() ? host_name_ : options_.tls_name;
  if (auto violation = tls::policy_violation(policy, info.peer, expected))
    co_return SessionFailure{"4.7.5", fmt::format("{}: TLS policy {}: {}", host_name_,
                                                  tls::client_policy_name(policy), *violation)};
  // RFC 3207: everything learned before TLS is forgotten; EHLO again.
  auto ehlo = co_await command(fmt::format("EHLO {}\r\n", options_.helo_name));
  if (!ehlo) {
    // With TLS 1.3 a server's refusal (e.g. "certificate required") arrives
    // only with the first read: it is a failed handshake all the same.
    SessionFailure failure = lost("the first exchange after STARTTLS");
    failure.status = "4.7.5";
    failure.tls_handshake = true;
    co_return failure;
  }
  if (ehlo->code != 250)
    co_return SessionFailure{
        status_or(*ehlo, "4.5.0"),
        fmt::format("{} refused EHLO after STARTTLS: {}", host_name_, ehlo->summary()),
        ehlo->permanent()};
  capabilities_ = parse_ehlo(ehlo->lines);
  co_return std::nullopt;
}

asio::awaitable<std::vector<RecipientResult>> ClientConnection::send(
    const Envelope& envelope, std::string_view content, const std::vector<std::size_t>& indexes) {
  auto all = [&](Outcome outcome, std::string status, std::string text) {
    return std::vector<RecipientResult>(indexes.size(),
                                        RecipientResult{outcome, status, text, host_name_});
  };
  if (auto refusal = refuse_for_peer(envelope, content, capabilities_))
    co_return all(Outcome::bounced, refusal->status, host_name_ + ": " + refusal->text);
  bool utf8 = capabilities_.smtputf8 && needs_smtputf8(envelope, content);

  // MAIL and RCPT go out together when the peer pipelines, one by one otherwise.
  auto mail_command = mail_from_command(envelope, content.size(), capabilities_, utf8);
  if (!mail_command)
    co_return all(Outcome::bounced, "5.1.7", "the sender address cannot be written to the peer");
  std::vector<std::string> commands{std::move(*mail_command)};
  // Recipients that cannot be written safely are refused here, not sent.
  std::vector<std::size_t> sendable;
  std::vector<RecipientResult> unsendable(indexes.size());
  for (std::size_t k = 0; k < indexes.size(); ++k) {
    auto rcpt_command = rcpt_to_command(envelope.recipients[indexes[k]], capabilities_);
    if (!rcpt_command) {
      unsendable[k] = {Outcome::bounced, "5.1.3",
                       "the recipient address cannot be written to the peer", host_name_};
      continue;
    }
    sendable.push_back(k);
    commands.push_back(std::move(*rcpt_command));
  }
  std::vector<std::optional<ServerReply>> replies;
  if (capabilities_.pipelining) {
    std::string batch;
    for (const auto& c : commands) batch += c;
    bool written = co_await write(batch, options_.command_timeout);
    for (std::size_t i = 0; written && i < commands.size() && usable_; ++i) {
      std::optional<ServerReply> reply = co_await read_reply(options_.command_timeout);
      replies.push_back(std::move(reply));
    }
  } else {
    for (const auto& c : commands) {
      std::optional<ServerReply> reply = co_await command(c);
      replies.push_back(std::move(reply));
      if (!replies.back() || (replies.size() == 1 && !replies.back()->positive())) break;
    }
  }
  replies.resize(commands.size());
  const auto& mail = replies[0];
  if (!mail) {
    usable_ = false;
    co_return all(Outcome::deferred, "4.4.2", lost("MAIL FROM").reason);
  }
  if (!mail->positive()) {
    co_await command("RSET\r\n");
    co_return all(mail->permanent() ? Outcome::bounced : Outcome::deferred,
                  status_or(*mail, mail->permanent() ? "5.0.0" : "4.0.0"),
                  fmt::format("{} said to MAIL FROM: {}", host_name_, mail->summary()));
  }
  std::vector<RecipientResult> results = std::move(unsendable);
  std::vector<std::size_t> accepted;
  for (std::size_t j = 0; j < sendable.size(); ++j) {
    std::size_t k = sendable[j];
    const auto& rcpt = replies[j + 1];
    if (!rcpt) {
      results[k] = {Outcome::deferred, "4.4.2", lost("RCPT TO").reason, host_name_};
    } else if (rcpt->positive()) {
      accepted.push_back(k);
    } else {
      results[k] = {rcpt->permanent() ? Outcome::bounced : Outcome::deferred,
                    status_or(*rcpt, rcpt->permanent() ? "5.0.0" : "4.0.0"),
                    fmt::format("{} said to RCPT TO: {}", host_name_, rcpt->summary()), host_name_};
    }
  }
  if (!usable_) co_return results;
  if (accepted.empty()) {
    co_await command("RSET\r\n");
    co_return results;
  }

  std::optional<ServerReply> final_reply;
  if (capabilities_.chunking) {
    // The command, then the content in place: no copy of a possibly large message.
    std::string command = fmt::format("BDAT {} LAST\r\n", content.size());
    bool written = co_await write(command, options_.data_timeout);
    if (written) written = co_await write(content, options_.data_timeout);
    if (written) final_reply = co_await read_reply(options_.data_timeout);
  } else {
    auto go_ahead = co_await command("DATA\r\n");
    if (go_ahead && go_ahead->code == 354) {
      std::string payload = dot_stuff(content);
      bool written = co_await write(payload, options_.data_timeout);
      if (written) final_reply = co_await read_reply(options_.data_timeout);
    } else if (go_ahead) {
      final_reply = go_ahead;  // DATA itself refused
    }
  }
  RecipientResult verdict;
  if (!final_reply) {
    // The message may or may not have arrived: deliver again rather than lose it.
    verdict = {Outcome::deferred, "4.4.2", lost("the message transfer").reason, host_name_};
  } else if (final_reply->positive()) {
    verdict = {Outcome::delivered, status_or(*final_reply, "2.0.0"),
               fmt::format("{} said: {}", host_name_, final_reply->summary()), host_name_,
               capabilities_.dsn ? "" : "relayed"};
  } else {
    verdict = {final_reply->permanent() ? Outcome::bounced : Outcome::deferred,
               status_or(*final_reply, final_reply->permanent() ? "5.0.0" : "4.0.0"),
               fmt::format("{} said to the message: {}", host_name_, final_reply->summary()),
               host_name_};
  }
  for (std::size_t k : accepted) results[k] = verdict;
  co_return results;
}

asio::awaitable<void> ClientConnection::quit() {
  if (usable_) {
    std::string quit_command = "QUIT\r\n";
    bool written = co_await write(quit_command, std::chrono::seconds(10));
    if (written) co_await read_reply(std::chrono::seconds(10));
  }
  usable_ = false;
  transport_->close();
}

}  // namespace bh::smtp
