#include "smtp/server/session_machine.hpp"

#include <algorithm>
#include <cstring>
#include <variant>

#include <fmt/format.h>

#include "smtp/proto/command.hpp"
#include "smtp/proto/reply.hpp"
#include "util/gateway_metrics.hpp"
#include "util/printable.hpp"

namespace bh::smtp {
namespace {

constexpr std::size_t kReadChunk = 16 * 1024;

bool valid_helo_name(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) { return c > 32 && c < 127; });
}

// The stage a refused command is counted and traced under.
std::string_view stage_of(Verb verb) {
  switch (verb) {
    case Verb::ehlo:
    case Verb::helo:
      return "helo";
    case Verb::mail:
      return "mail";
    case Verb::rcpt:
      return "rcpt";
    case Verb::data:
    case Verb::bdat:
      return "data";
    case Verb::starttls:
      return "starttls";
    default:
      return "command";
  }
}

}  // namespace

SessionMachine::SessionMachine(const SessionSettings& settings, ClientInfo client)
    : settings_(settings), client_(std::move(client)) {
  session_started_ms_ = line_started_ms_ = clock_ms();
}

SessionMachine::~SessionMachine() = default;

void SessionMachine::greet() {
  if (settings_.intake) {
    Verdict verdict = settings_.intake->connect(peer_facts());
    if (!verdict.accepted) {
      metrics::gateway_metrics().connection("refused_access");
      decided("connect", verdict);
      return refuse(verdict.code, verdict.enhanced, verdict.reply);
    }
  }
  metrics::gateway_metrics().connection("accepted");
  reply(220, "", fmt::format("{} ESMTP Bridgehead", settings_.hostname));
  line_started_ms_ = clock_ms();  // ready for the first command
}

PeerFacts SessionMachine::peer_facts() const {
  return PeerFacts{IpAddress::parse(client_.ip), tls_active(),
                   client_.cert_verified,        client_.cert_verified_by,
                   client_.cert_common_name,     client_.cert_dns_names};
}

intake::Origin SessionMachine::origin() const {
  return intake::Origin{intake::Source::smtp, peer_facts(), connector_};
}

void SessionMachine::decided(std::string_view stage, const Verdict& verdict,
                             std::string_view tenant) {
  // A refusal outside a transaction is logged with the id it is traced under.
  std::string_view id = draft_.envelope.queue_id;
  if (id.empty() && !verdict.accepted && settings_.trace) id = trace_id();
  if (settings_.on_decision) settings_.on_decision(client_, id, stage, verdict, tenant);
  trace_decision(stage, verdict, tenant);
}

// Replies with a refusing verdict (and counts it); false when accepted.
bool SessionMachine::refuse_if(std::string_view stage, const Verdict& verdict) {
  if (verdict.accepted) return false;
  decided(stage, verdict);
  error_reply(verdict.code, verdict.enhanced, verdict.reply);
  return true;
}

// The connection's identity: decided once, at the first MAIL FROM after
// STARTTLS (or without TLS), and recorded.
void SessionMachine::identify() {
  if (identified_ || !settings_.intake) return;
  identified_ = true;
  connector_ = settings_.intake->identify(peer_facts());
  client_.inbound_connector = connector_ ? connector_->name : "";
  std::string reason = connector_ ? fmt::format("connection is inbound connector {} ({})",
                                                connector_->name, kind_name(connector_->kind))
                                  : "connection matches no inbound connector";
  decided("identity", Verdict::accept(reason));
}

void SessionMachine::refuse(int code, std::string_view enhanced, std::string_view text) {
  std::string line = fmt::format("{} {}", settings_.hostname, text);
  reply(code, enhanced, line);
  trace_refusal(code, enhanced, line);
  close_with(std::string(text));
}

void SessionMachine::reply(int code, std::string_view enhanced, std::string_view text) {
  append_reply(output_, code, enhanced, text);
}

// A refused command counts towards the error limit (Postfix smtpd_hard_error_limit).
void SessionMachine::error_reply(int code, std::string_view enhanced, std::string_view text) {
  reply(code, enhanced, text);
  std::string_view id = draft_.envelope.queue_id;
  if (id.empty() && settings_.trace) id = trace_id();
  if (settings_.on_refusal) settings_.on_refusal(client_, id, code, enhanced, text);
  trace_refusal(code, enhanced, text);
  if (++stats_.errors >= settings_.limits.errors) {
    reply(421, "4.7.0", fmt::format("{} Error: too many errors", settings_.hostname));
    close_with("too many errors");
  }
}

void SessionMachine::close_with(std::string reason) {
  phase_ = Phase::closed;
  if (stats_.end_reason.empty()) stats_.end_reason = std::move(reason);
}

std::span<char> SessionMachine::input_space(std::size_t min_bytes) {
  min_bytes = std::max(min_bytes, kReadChunk);
  if (input_begin_ == input_end_) input_begin_ = input_end_ = 0;
  if (input_.size() - input_end_ < min_bytes && input_begin_ > 0) {
    std::memmove(input_.data(), input_.data() + input_begin_, input_end_ - input_begin_);
    input_end_ -= input_begin_;
    input_begin_ = 0;
  }
  if (input_.size() - input_end_ < min_bytes) input_.resize(input_end_ + min_bytes);
  return {input_.data() + input_end_, input_.size() - input_end_};
}

void SessionMachine::input_received(std::size_t bytes) {
  input_end_ += bytes;
}

std::optional<std::string_view> SessionMachine::next_line() {
  while (true) {
    const char* begin = input_.data() + input_begin_;
    std::size_t available = input_end_ - input_begin_;
    if (available == 0) return std::nullopt;
    const char* newline = static_cast<const char*>(std::memchr(begin, '\n', available));
    if (newline == nullptr) {
      if (available >= settings_.limits.command_line) {
        discarding_long_line_ = true;  // drop what we have, keep looking for the end
        input_begin_ = input_end_ = 0;
      }
      return std::nullopt;
    }
    std::size_t length = static_cast<std::size_t>(newline - begin);
    input_begin_ += length + 1;
    line_started_ms_ = clock_ms();  // a complete line: the next one's time starts
    if (discarding_long_line_ || length + 1 > settings_.limits.command_line) {
      discarding_long_line_ = false;
      error_reply(500, "5.5.2", "Error: line too long");
      if (phase_ == Phase::closed) return std::nullopt;
      continue;
    }
    return std::string_view(begin, length + 1);  // with the LF, checked by handle_line
  }
}

SessionMachine::Event SessionMachine::step() {
  while (true) {
    if (pending_event_) {
      Event event = *pending_event_;
      pending_event_.reset();
      return event;
    }
    switch (phase_) {
      case Phase::closed:
        return Event::close;
      case Phase::awaiting_commit:
        return Event::commit;
      case Phase::command: {
        auto line = next_line();
        if (!line) {
          if (phase_ == Phase::closed) return Event::close;
          return Event::need_input;
        }
        handle_line(*line);
        if (phase_ == Phase::data || phase_ == Phase::bdat) content_started();
        break;
      }
      case Phase::data: {
        std::string_view available(input_.data() + input_begin_, input_end_ - input_begin_);
        std::size_t taken = decoder_->feed(available);
        input_begin_ += taken;
        content_arrived(available.substr(0, taken));
        if (spill_due()) return Event::spill;
        if (!decoder_->done()) return Event::need_input;
        finish_content();
        break;
      }
      case Phase::bdat: {
        if (input_begin_ == input_end_ && bdat_remaining_ > 0) return Event::need_input;
        std::size_t before = input_begin_;
        step_bdat();
        content_arrived(std::string_view(input_.data() + before, input_begin_ - before));
        // The chunk is complete: the server is ready for the next command.
        if (phase_ != Phase::bdat) line_started_ms_ = clock_ms();
        if (spill_due()) return Event::spill;
        break;
      }
    }
  }
}

void SessionMachine::handle_line(std::string_view line) {
  // line ends in LF; anything but CRLF is refused, never repaired.
  line.remove_suffix(1);
  if (line.empty() || line.back() != '\r') {
    error_reply(500, "5.5.2", "Error: bare <LF> received; commands must end with <CR><LF>");
    return;
  }
  line.remove_suffix(1);
  if (line.find('\r') != std::string_view::npos || line.find('\0') != std::string_view::npos) {
    error_reply(500, "5.5.2", "Error: bare <CR> or NUL in command");
    return;
  }
  // SMTPUTF8 is offered: 8-bit in a command must be UTF-8 (no overlongs,
  // no surrogates); where 8-bit is not allowed at all, the parsers say so.
  if (!valid_utf8(line)) {
    error_reply(500, "5.5.2", "Error: bad UTF-8 syntax");
    return;
  }
  Command command = parse_command(line);
  command_stage_ = stage_of(command.verb);
  current_recipient_.clear();
  switch (command.verb) {
    case Verb::ehlo:
      return on_helo(command.argument, true);
    case Verb::helo:
      return on_helo(command.argument, false);
    case Verb::mail:
      return on_mail(command.argument);
    case Verb::rcpt:
      return on_rcpt(command.argument);
    case Verb::data:
      return on_data(command.argument);
    case Verb::bdat:
      return on_bdat(command.argument);
    case Verb::starttls:
      return on_starttls(command.argument);
    case Verb::rset:
      if (!command.argument.empty()) return error_reply(501, "5.5.4", "Syntax: RSET");
      reset_transaction();
      return reply(250, "2.0.0", "Ok");
    case Verb::noop:
      return reply(250, "2.0.0", "Ok");
    case Verb::quit:
      reply(221, "2.0.0", "Bye");
      return close_with("quit");
    case Verb::vrfy:
      if (command.argument.empty()) return error_reply(501, "5.5.4", "Syntax: VRFY address");
      return reply(252, "2.5.2", "Cannot VRFY user, but will accept message and attempt delivery");
    case Verb::expn:
      return error_reply(502, "5.5.1", "Error: EXPN not available");
    case Verb::help:
      return reply(214, "2.0.0",
                   "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS\n"
                   "See RFC 5321");
    case Verb::unknown:
      return error_reply(500, "5.5.2", "Error: command not recognized");
  }
}

void SessionMachine::on_helo(std::string_view argument, bool extended) {
  while (!argument.empty() && argument.back() == ' ') argument.remove_suffix(1);
  if (!valid_helo_name(argument))
    return error_reply(501, "5.5.4", extended ? "Syntax: EHLO hostname" : "Syntax: HELO hostname");
  reset_transaction();
  greeted_ = true;
  extended_ = extended;
  client_.helo = std::string(argument);
  if (!extended) return reply(250, "", settings_.hostname);
  std::string text = fmt::format(
      "{}\nPIPELINING\nSIZE {}\n8BITMIME\nSMTPUTF8\nENHANCEDSTATUSCODES\nCHUNKING\nDSN\n",
      settings_.hostname, settings_.limits.message_size);
  if (settings_.starttls_offered && !tls_active()) text += "STARTTLS\n";
  text += "HELP";
  reply(250, "", text);
}

void SessionMachine::on_starttls(std::string_view argument) {
  if (!settings_.starttls_offered || tls_active())
    return error_reply(502, "5.5.1", "Error: command not implemented");
  if (!argument.empty()) return error_reply(501, "5.5.4", "Syntax: STARTTLS");
  reply(220, "2.0.0", "Ready to start TLS");
  // Anything the client pipelined behind STARTTLS arrived unprotected and
  // must not be executed after the handshake (CVE-2011-0411).
  stats_.discarded_after_starttls += input_end_ - input_begin_;
  input_begin_ = input_end_ = 0;
  pending_event_ = Event::start_tls;
}

void SessionMachine::tls_started(TlsPeer peer) {
  client_.tls_version = std::move(peer.version);
  client_.tls_cipher = std::move(peer.cipher);
  client_.cert_subject = std::move(peer.cert_subject);
  client_.cert_fingerprint = std::move(peer.cert_fingerprint);
  client_.cert_verified = peer.cert_verified;
  client_.cert_common_name = std::move(peer.cert_common_name);
  client_.cert_dns_names = std::move(peer.cert_dns_names);
  client_.cert_verified_by = std::move(peer.cert_verified_by);
  line_started_ms_ = clock_ms();  // the handshake is done: ready for EHLO
  identified_ = false;            // decided again, now with the certificate
  connector_ = nullptr;
  // RFC 3207 4.2: the session starts over; the client must send EHLO again.
  reset_transaction();
  greeted_ = false;
  extended_ = false;
  client_.helo.clear();
}

void SessionMachine::reset_transaction() {
  transaction_ = Transaction::none;
  draft_ = MessageDraft{};
  spill_failed_ = false;
  spill_disk_full_ = false;
  decoder_.reset();
  bdat_failed_ = false;
  bdat_remaining_ = 0;
}

void SessionMachine::connection_lost(std::string reason) {
  close_with(std::move(reason));
}

}  // namespace bh::smtp
