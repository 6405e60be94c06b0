// The envelope part of the session: MAIL FROM and RCPT TO, with the checks
// that decide which recipients a transaction takes.
#include <variant>

#include <fmt/format.h>

#include "smtp/proto/command.hpp"
#include "smtp/server/session_machine.hpp"

namespace bh::smtp {

void SessionMachine::on_mail(std::string_view argument) {
  if (!greeted_) return error_reply(503, "5.5.1", "Error: send HELO/EHLO first");
  if (transaction_ != Transaction::none)
    return error_reply(503, "5.5.1", "Error: nested MAIL command");
  if (settings_.require_tls && !tls_active())
    return error_reply(530, "5.7.0", "Must issue a STARTTLS command first");
  auto parsed = parse_mail_from(argument, extended_, settings_.limits.local_part);
  if (auto* failure = std::get_if<ParseFailure>(&parsed))
    return error_reply(failure->code, failure->enhanced, failure->text);
  MailFrom& mail = std::get<MailFrom>(parsed);
  if (mail.size && *mail.size > settings_.limits.message_size)
    return error_reply(552, "5.3.4", "Message size exceeds fixed limit");
  identify();
  if (settings_.intake && refuse_if("mail", settings_.intake->mail(origin()))) return;
  draft_ = MessageDraft{};
  Envelope& envelope = draft_.envelope;
  envelope.queue_id = settings_.make_queue_id();
  envelope.sender = std::move(mail.sender);
  envelope.body = mail.body;
  envelope.smtputf8 = mail.smtputf8;
  envelope.ret = mail.ret;
  envelope.envid = std::move(mail.envid);
  trace_transaction_started();
  transaction_ = Transaction::mail;
  reply(250, "2.1.0", "Ok");
}

void SessionMachine::on_rcpt(std::string_view argument) {
  if (transaction_ == Transaction::none)
    return error_reply(503, "5.5.1", "Error: need MAIL command");
  auto parsed =
      parse_rcpt_to(argument, extended_, draft_.envelope.smtputf8, settings_.limits.local_part);
  if (auto* failure = std::get_if<ParseFailure>(&parsed)) {
    ++stats_.recipients_rejected;
    return error_reply(failure->code, failure->enhanced, failure->text);
  }
  Recipient& recipient = std::get<RcptTo>(parsed).recipient;
  if (std::get<RcptTo>(parsed).postmaster) recipient.address = settings_.postmaster;
  current_recipient_ = recipient.address.text();
  if (draft_.envelope.recipients.size() >= settings_.limits.recipients) {
    ++stats_.recipients_rejected;
    if (settings_.on_refusal)
      settings_.on_refusal(client_, draft_.envelope.queue_id, 452, "4.5.3",
                           "Error: too many recipients");
    trace_refusal(452, "4.5.3", "Error: too many recipients");
    return reply(452, "4.5.3", "Error: too many recipients");
  }
  if (settings_.intake == nullptr) {
    ++stats_.recipients_rejected;
    return error_reply(550, "5.7.1",
                       fmt::format("{}: Relay access denied", recipient.address.path()));
  }
  std::string stage;
  Verdict verdict =
      settings_.intake->recipient(origin(), draft_.envelope.sender, recipient, &stage);
  if (refuse_if(stage, verdict)) {
    ++stats_.recipients_rejected;
    return;
  }
  add_recipient(std::move(recipient));
  transaction_ = Transaction::recipients;
  reply(250, "2.1.5", "Ok");
}

// A recipient given twice is delivered once (Postfix's duplicate filter):
// same local part as written, domain compared without case; the stronger
// NOTIFY wins (any flags over NEVER, the default over NEVER).
void SessionMachine::add_recipient(Recipient recipient) {
  std::string domain = recipient.address.domain_key();
  for (Recipient& existing : draft_.envelope.recipients) {
    if (existing.address.local != recipient.address.local ||
        existing.address.domain_key() != domain)
      continue;
    // Unspecified means FAILURE,DELAY; NEVER means none; the union is kept.
    auto effective = [](unsigned flags) -> unsigned {
      if (flags == 0) return notify_failure | notify_delay;
      return flags == notify_never ? 0u : flags;
    };
    unsigned both = effective(existing.notify) | effective(recipient.notify);
    if (existing.notify != 0 || recipient.notify != 0)
      existing.notify = both == 0 ? unsigned{notify_never} : both;
    return;
  }
  draft_.envelope.recipients.push_back(std::move(recipient));
}

}  // namespace bh::smtp
