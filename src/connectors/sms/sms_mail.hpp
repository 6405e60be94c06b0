// The mail an incoming SMS becomes (SMS -> mail): From the sender's number
// at the SMS domain, so that replying sends an SMS back; To the mailbox
// that owns the number it was sent to; a subject "SMS from +49 170
// 1234567"; the text as a text/plain UTF-8 body (quoted-printable); a
// Message-ID derived from the SMS (the same SMS delivered twice by the
// SMSC gets the same Message-ID); Date; the processed stamp is added by
// the intake. Missing parts of a concatenated SMS are named in the text.
// The text is untrusted: control characters are replaced; the header
// values are numbers the caller checked. CRLF, no line over 998. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bh::connectors::sms {

struct SmsMailFields {
  std::string mailbox;      // To:
  std::string sender;       // E.164 of the sending handset; "" when not a number
  std::string sender_raw;   // source_addr as the SMSC gave it (an alphanumeric id)
  std::string recipient;    // E.164 of the number it was sent to
  std::string text;         // UTF-8
  std::vector<int> missing_parts;  // 1-based, of `total_parts`
  int total_parts = 1;
  std::int64_t received_at = 0;  // unix seconds
  std::string reply_domain;      // From: <+491701234567@reply_domain>
  std::string hostname;          // Message-ID's right side
  std::string unique;            // Message-ID's left side (sms_message_id_left)
};

// Where an SMS from an alphanumeric sender (a bank's "MyBank") comes
// from: never turned into a reply address, since nobody can be texted back.
inline constexpr std::string_view kNoReplyLocalPart = "no-reply";

std::string compose_sms_mail(const SmsMailFields& fields);

// 32 hex digits of SHA-256 over sender, recipient, text and the SMSC's
// time: the same SMS delivered twice has the same Message-ID.
std::string sms_message_id_left(std::string_view sender, std::string_view recipient,
                                std::string_view text, std::int64_t received_at);

}  // namespace bh::connectors::sms
