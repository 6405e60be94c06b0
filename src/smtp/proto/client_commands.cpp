#include "smtp/proto/client_commands.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "smtp/proto/command.hpp"

namespace bh::smtp {
namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  return out;
}

bool non_ascii(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](unsigned char c) { return c >= 128; });
}

}  // namespace

Capabilities parse_ehlo(const std::vector<std::string>& lines) {
  Capabilities caps;
  caps.esmtp = true;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::string line = upper(lines[i]);
    std::string_view keyword = std::string_view(line).substr(0, line.find(' '));
    if (keyword == "PIPELINING")
      caps.pipelining = true;
    else if (keyword == "STARTTLS")
      caps.starttls = true;
    else if (keyword == "8BITMIME")
      caps.eight_bit_mime = true;
    else if (keyword == "SMTPUTF8")
      caps.smtputf8 = true;
    else if (keyword == "CHUNKING")
      caps.chunking = true;
    else if (keyword == "DSN")
      caps.dsn = true;
    else if (keyword == "ENHANCEDSTATUSCODES")
      caps.enhanced_status_codes = true;
    else if (keyword == "SIZE") {
      std::uint64_t limit = 0;
      if (line.size() > 5) {
        std::string_view number = std::string_view(line).substr(5);
        std::from_chars(number.data(), number.data() + number.size(), limit);
      }
      caps.size = limit;
    }
  }
  return caps;
}

bool has_eight_bit(std::string_view content) {
  return non_ascii(content);
}

bool needs_smtputf8(const Envelope& envelope, std::string_view content) {
  if (!envelope.smtputf8) return false;
  if (!envelope.sender.ascii()) return true;
  for (const auto& r : envelope.recipients)
    if (!r.address.ascii()) return true;
  std::size_t header_end = content.find("\r\n\r\n");
  return non_ascii(content.substr(0, header_end));
}

std::optional<Refusal> refuse_for_peer(const Envelope& envelope, std::string_view content,
                                       const Capabilities& peer) {
  // A next hop that drops NUL would read "<NUL>." as the end of the data.
  if (content.find('\0') != std::string_view::npos)
    return Refusal{"5.6.0", "the message contains NUL bytes, which are not passed on"};
  if (needs_smtputf8(envelope, content) && !peer.smtputf8)
    return Refusal{"5.6.7", "the message needs SMTPUTF8, which the next hop does not offer"};
  if (has_eight_bit(content) && !peer.eight_bit_mime)
    return Refusal{"5.6.3",
                   "the message has 8-bit content and the next hop does not offer 8BITMIME"};
  if (peer.size && *peer.size > 0 && content.size() > *peer.size)
    return Refusal{"5.3.4", fmt::format("the message ({} bytes) is larger than the next hop's "
                                        "limit ({} bytes)",
                                        content.size(), *peer.size)};
  return std::nullopt;
}

std::string encode_xtext(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c < 33 || c > 126 || c == '+' || c == '=') {
      out += fmt::format("+{:02X}", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

bool safe_in_command(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

std::optional<std::string> mail_from_command(const Envelope& envelope, std::size_t content_size,
                                             const Capabilities& peer, bool utf8) {
  std::string command = fmt::format("MAIL FROM:{}", envelope.sender.path());
  if (!safe_in_command(command)) return std::nullopt;
  if (!peer.esmtp) return command + "\r\n";
  if (peer.size) command += fmt::format(" SIZE={}", content_size);
  if (peer.eight_bit_mime && envelope.body == BodyType::eight_bit_mime) command += " BODY=8BITMIME";
  if (utf8) command += " SMTPUTF8";
  if (peer.dsn) {
    if (envelope.ret == DsnReturn::full) command += " RET=FULL";
    if (envelope.ret == DsnReturn::headers) command += " RET=HDRS";
    if (!envelope.envid.empty()) command += " ENVID=" + encode_xtext(envelope.envid);
  }
  return command + "\r\n";
}

std::optional<std::string> rcpt_to_command(const Recipient& recipient, const Capabilities& peer) {
  std::string command = fmt::format("RCPT TO:{}", recipient.address.path());
  if (!safe_in_command(command)) return std::nullopt;
  if (peer.esmtp && peer.dsn) {
    if (recipient.notify != 0) {
      std::string notify;
      for (auto [flag, name] : {std::pair{notify_never, "NEVER"},
                                {notify_success, "SUCCESS"},
                                {notify_failure, "FAILURE"},
                                {notify_delay, "DELAY"}})
        if (recipient.notify & flag) notify += (notify.empty() ? "" : ",") + std::string(name);
      command += " NOTIFY=" + notify;
    }
    // addr-type is written as it is only when it is an atom; the address is xtext.
    std::size_t semicolon = recipient.orcpt.find(';');
    if (semicolon != std::string::npos &&
        is_orcpt_type(std::string_view(recipient.orcpt).substr(0, semicolon)))
      command += " ORCPT=" + recipient.orcpt.substr(0, semicolon + 1) +
                 encode_xtext(std::string_view(recipient.orcpt).substr(semicolon + 1));
  }
  return command + "\r\n";
}

std::string dot_stuff(std::string_view content) {
  std::string out;
  out.reserve(content.size() + content.size() / 64 + 8);
  bool line_start = true;
  for (char c : content) {
    if (line_start && c == '.') out.push_back('.');
    out.push_back(c);
    line_start = c == '\n';
  }
  if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
  out += ".\r\n";
  return out;
}

}  // namespace bh::smtp
