// The mail an incoming SMS becomes (SMS -> mail): From the sender's number
// at the SMS domain, so that replying sends an SMS back; To the mailbox
// that owns the number it was sent to; a subject "SMS from +49 170
// 1234567"; the text as a text/plain UTF-8 body (quoted-printable); a
// Message-ID derived from the SMS itself, never from the time it came (a
// copy the SMSC delivers again and the dedup misses gets the same
// Message-ID); Date; the processed stamp is added by the intake. Missing parts of a concatenated
// SMS are named in the text. The text is untrusted: control characters are replaced; the header
// values are numbers the caller checked. CRLF, no line over 998. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bh::connectors::sms {

struct SmsMailFields {
  std::string mailbox;             // To:
  std::string sender;              // E.164 of the sending handset; "" when not a number
  std::string sender_raw;          // source_addr as the SMSC gave it (an alphanumeric id)
  std::string recipient;           // E.164 of the number it was sent to
  std::string text;                // UTF-8
  std::vector<int> missing_parts;  // 1-based, of `total_parts`
  int total_parts = 1;
  std::int64_t received_at = 0;  // unix seconds
  std::string reply_domain;      // From: <+491701234567@reply_domain>
  std::string hostname;          // Message-ID's right side
  std::string unique;            // Message-ID's left side (sms_key, reassembled_key)
};

// Where an SMS from an alphanumeric sender (a bank's "MyBank") comes
// from: never turned into a reply address, since nobody can be texted back.
inline constexpr std::string_view kNoReplyLocalPart = "no-reply";

std::string compose_sms_mail(const SmsMailFields& fields);

// What identifies an incoming SMS, 32 hex digits of SHA-256 over its
// values (each framed by its length): the key sms_inbound marks as seen.
// No time goes in: the SMSC's second delivery of an SMS gives the same key. sender: E.164, or
// source_addr as given; recipient: E.164; user_data: as it came, before
// decoding, without the UDH; concatenation: "reference/total/sequence" of
// a part, "" for a single SMS.
std::string sms_key(std::string_view sender, std::string_view recipient, std::uint8_t data_coding,
                    std::string_view user_data, std::string_view concatenation);
// The Message-ID's left side of a single SMS: its key and when it came, so
// that the same text from the same phone later (a second "ok") is a new
// message to the mailbox, not a copy Exchange would drop.
std::string sms_message_id_left(std::string_view key, std::int64_t received_at);
// The Message-ID's left side of a reassembled message: over its sender,
// recipient, reference, total and the (decoded) text that came, so that
// the same message mailed twice (two nodes, a retry) has one Message-ID.
std::string reassembled_key(std::string_view sender, std::string_view recipient, int reference,
                            int total, std::string_view text);

}  // namespace bh::connectors::sms
