// Property shared by the parsers fuzz target and the unit tests: whatever
// MAIL FROM or RCPT TO argument the server parser accepts, the outbound
// command builder writes as exactly one command line (no CR, LF or NUL
// inside it) that parses back to the same fields.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "smtp/proto/client_commands.hpp"
#include "smtp/proto/command.hpp"

namespace bh::fuzz {

// One line, ending in CRLF, with nothing else in it; returns its argument.
inline bool single_line(const std::string& written, std::string_view verb,
                        std::string_view* argument) {
  if (!written.ends_with("\r\n")) return false;
  std::string_view line(written.data(), written.size() - 2);
  if (!smtp::safe_in_command(line)) return false;
  smtp::Command command = smtp::parse_command(line);
  if (line.substr(0, verb.size()) != verb) return false;
  *argument = command.argument;
  return true;
}

// False when the property does not hold for this argument.
inline bool mail_roundtrip_holds(std::string_view argument) {
  auto parsed = smtp::parse_mail_from(argument, true);
  auto* mail = std::get_if<smtp::MailFrom>(&parsed);
  if (mail == nullptr) return true;
  Envelope envelope;
  envelope.sender = mail->sender;
  envelope.ret = mail->ret;
  envelope.envid = mail->envid;
  envelope.body = mail->body;
  smtp::Capabilities peer = smtp::parse_ehlo({"peer", "SIZE", "8BITMIME", "DSN", "SMTPUTF8"});
  auto written = smtp::mail_from_command(envelope, 10, peer, mail->smtputf8);
  if (!written) return true;  // refused to write: never a second command
  std::string_view again_argument;
  if (!single_line(*written, "MAIL FROM:", &again_argument)) return false;
  auto again = smtp::parse_mail_from(again_argument, true);
  auto* back = std::get_if<smtp::MailFrom>(&again);
  return back != nullptr && back->sender.local == mail->sender.local &&
         back->sender.domain == mail->sender.domain && back->envid == mail->envid &&
         back->ret == mail->ret && back->body == mail->body;
}

inline bool rcpt_roundtrip_holds(std::string_view argument) {
  for (bool utf8 : {false, true}) {
    auto parsed = smtp::parse_rcpt_to(argument, true, utf8);
    auto* rcpt = std::get_if<smtp::RcptTo>(&parsed);
    if (rcpt == nullptr) continue;
    smtp::Capabilities peer = smtp::parse_ehlo({"peer", "DSN", "SMTPUTF8"});
    auto written = smtp::rcpt_to_command(rcpt->recipient, peer);
    if (!written) continue;
    std::string_view again_argument;
    if (!single_line(*written, "RCPT TO:", &again_argument)) return false;
    auto again = smtp::parse_rcpt_to(again_argument, true, utf8);
    auto* back = std::get_if<smtp::RcptTo>(&again);
    const Recipient& a = rcpt->recipient;
    if (back == nullptr || back->recipient.address.local != a.address.local ||
        back->recipient.address.domain != a.address.domain || back->recipient.notify != a.notify ||
        back->recipient.orcpt != a.orcpt)
      return false;
  }
  return true;
}

}  // namespace bh::fuzz
