#include "connectors/sms/sms_mail.hpp"

#include <openssl/evp.h>

#include <initializer_list>

#include <fmt/format.h>

#include "directory/phone_number.hpp"
#include "mail/compose.hpp"
#include "smtp/server/received_header.hpp"
#include "util/printable.hpp"

namespace bh::connectors::sms {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
// An alphanumeric sender id is at most 11 characters (GSM 03.40); the
// source_addr field holds 20. More is cut.
constexpr std::size_t kMaxSenderChars = 20;
constexpr std::size_t kMessageIdHexDigits = 32;

// The SMS text as the body's lines: CRLF, CR and LF (and U+2028, U+2029)
// end a line; every other control character (C0, DEL, C1) becomes a space;
// invalid UTF-8 becomes U+FFFD. Ends with CRLF.
std::string body_lines(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8 + 2);
  for (std::size_t pos = 0; pos < text.size();) {
    char32_t c = 0;
    std::size_t length = utf8_sequence(text, pos, &c);
    if (length == 0) {
      out += kReplacement;
      ++pos;
      continue;
    }
    if (c == '\r' || c == '\n' || c == 0x2028 || c == 0x2029) {
      out += "\r\n";
      if (c == '\r' && pos + 1 < text.size() && text[pos + 1] == '\n') ++length;
    } else if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) {
      out += ' ';
    } else {
      out.append(text.substr(pos, length));
    }
    pos += length;
  }
  if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
  return out;
}

std::string body_of(const SmsMailFields& fields) {
  std::string body = body_lines(fields.text);
  if (body.empty() && fields.missing_parts.empty()) body = "[The SMS was empty.]\r\n";
  if (!fields.missing_parts.empty()) {
    if (!body.empty()) body += "\r\n";
    for (int part : fields.missing_parts)
      body += fmt::format("[Part {} of {} did not arrive.]\r\n", part, fields.total_parts);
  }
  return body;
}

// The first kMessageIdHexDigits hex digits of SHA-256 over the values,
// each with its length in front: no two different lists hash the same
// bytes ("a"+"bc" is not "ab"+"c"). The first value names the kind of key.
std::string framed_digest(std::initializer_list<std::string_view> values) {
  std::string input;
  for (std::string_view value : values) {
    input += std::to_string(value.size());
    input += ':';
    input.append(value);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(input.data(), input.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  constexpr char kHex[] = "0123456789abcdef";
  for (unsigned int i = 0; i < length && hex.size() < kMessageIdHexDigits; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0x0F];
  }
  return hex;
}

}  // namespace

std::string compose_sms_mail(const SmsMailFields& fields) {
  // From: the sender's number at the SMS domain, so that a reply is texted
  // back; an alphanumeric sender ("MyBank") cannot be, so no-reply@.
  bool number = !fields.sender.empty();
  std::string who;
  std::string display;
  std::string from_address;
  if (number) {
    who = directory::international_format(fields.sender);
    display = "SMS " + who;
    from_address = fields.sender + "@" + fields.reply_domain;
  } else {
    std::string id = sanitise_untrusted(fields.sender_raw, kMaxSenderChars);
    who = id.empty() ? "an unknown sender" : id;
    display = id.empty() ? "SMS (unknown sender)" : id;
    from_address = std::string(kNoReplyLocalPart) + "@" + fields.reply_domain;
  }
  std::string subject = "SMS from " + who;

  std::string out;
  out += "From: " + mailbox_header(display, from_address) + "\r\n";
  out += "To: <" + fields.mailbox + ">\r\n";
  out += "Subject: " + encode_header_text(subject, 9) + "\r\n";
  out += "Date: " + smtp::rfc5322_date(fields.received_at) + "\r\n";
  out += "Message-ID: <" + fields.unique + ".sms@" + fields.hostname + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += "Content-Transfer-Encoding: quoted-printable\r\n";
  out += "\r\n";
  out += quoted_printable(body_of(fields));
  return out;
}

std::string sms_key(std::string_view sender, std::string_view recipient, std::uint8_t data_coding,
                    std::string_view user_data, std::string_view concatenation) {
  std::string coding = std::to_string(data_coding);
  return framed_digest({"sms", sender, recipient, coding, user_data, concatenation});
}

std::string sms_message_id_left(std::string_view key, std::int64_t received_at) {
  return framed_digest({"message-id", key, std::to_string(received_at)});
}

std::string reassembled_key(std::string_view sender, std::string_view recipient, int reference,
                            int total, std::string_view text) {
  std::string parts = std::to_string(reference) + "/" + std::to_string(total);
  return framed_digest({"reassembled", sender, recipient, parts, text});
}

}  // namespace bh::connectors::sms
