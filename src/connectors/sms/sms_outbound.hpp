// Mail -> SMS, the pure part of a delivery: which number a recipient
// names, what text the mail gives, and the submit_sm bodies that carry it.
// The connector (sms_connector.hpp) adds the sender number, submits the
// parts and records them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "connectors/connector.hpp"
#include "connectors/destination_rules.hpp"
#include "connectors/sms/smpp_pdu.hpp"
#include "connectors/sms/sms_segments.hpp"
#include "connectors/sms/sms_settings.hpp"
#include "connectors/sms/sms_store.hpp"
#include "directory/directory.hpp"

namespace bh::connectors::sms {

// "+491701234567@sms.example.com", "00491701234567@...", "01701234567@..."
// (national, with default_region) -> "+491701234567". The domain must be
// one of `domains` (case-insensitive). An error says why (for 5.1.3).
Result<std::string> number_of_address(std::string_view address,
                                      const std::vector<std::string>& domains,
                                      std::string_view default_region);

// The number of a recipient when an SMS may go there: number_of_address,
// else a bounce 5.1.3 with its reason; then the destination rules
// (settings.destinations, compiled once by the connector), else a bounce
// 5.7.1 "SMS to +499001234567 is not permitted: premium rate or shared
// cost number (block_premium_rate)".
std::variant<std::string, RecipientResult> recipient_number(std::string_view address,
                                                            const SmsSettings& settings,
                                                            const DestinationCheck& check);

// source_addr for a number or an alphanumeric sender id: E.164 -> TON 1 /
// NPI 1, digits without '+'; a sender id (1 to 11 printable ASCII
// characters that are single GSM 7-bit septets, at least one a letter:
// "ACME Ltd", not "Café-Shop") -> TON 5 / NPI 0; "" -> TON 0 / NPI 0 (the
// SMSC fills it in). An error says what a sender may be (without the
// sender). The one check of a sender: the kind validates source_address
// with it, so a configured sender is never refused at delivery.
Result<smpp::SmeAddress> source_address_of(std::string_view sender);
// destination_addr for an E.164 number: TON 1 / NPI 1, without '+'.
smpp::SmeAddress destination_address_of(const std::string& e164);

// The text of the message, encoded and split: once per message (every
// recipient gets the same text). A failure is the RecipientResult every
// recipient gets: 5.6.0 when the mail has no text, 5.3.4 when it is too
// long (the text says how long it may be), 5.6.0 when it cannot be parsed.
struct PreparedText {
  EncodedText encoded;
  Segments segments;
};
std::variant<PreparedText, RecipientResult> prepare_text(std::string_view message,
                                                         const SmsSettings& settings,
                                                         std::uint16_t reference);

// The submit_sm of each part to one recipient from one sender.
std::vector<smpp::ShortMessage> submit_pdus(const PreparedText& text,
                                            const smpp::SmeAddress& source,
                                            const std::string& destination_e164,
                                            const SmsSettings& settings);

// What a failed submit_sm_resp status means for the recipient:
// ESME_RINVDSTADR 5.1.1, ESME_RINVSRCADR 5.7.1 (the sender id is not
// allowed), ESME_RINVMSGLEN 5.3.4, other permanent statuses 5.0.0; the
// rest (ESME_RSYSERR, ESME_RSUBMITFAIL, unknown) 4.4.2 deferred. Throttling
// (ESME_RTHROTTLED, ESME_RMSGQFUL) is not final: the connector retries.
bool is_throttling(std::uint32_t status);
RecipientResult submit_failure(std::uint32_t status, int part, int parts, const std::string& smsc);

// What a final receipt means (sms_store Settlement): DELIVRD -> delivered
// (2.0.0, success_action "delivered", report with success_notice report);
// EXPIRED 5.4.7, REJECTD 5.7.1, UNDELIV 5.4.0, DELETED 5.3.0, UNKNOWN
// 5.4.0; diagnostic_type "x-smpp", diagnostic "stat:UNDELIV err:001 ..."
// naming the part of a concatenated SMS.
RecipientResult receipt_result(const Settlement& settlement, const SmsSettings& settings,
                               const std::string& number);

// The sender an SMS from `mailbox` (the envelope sender; an alias counts
// as its user's primary address) to `destination` (E.164) goes out with:
// the number the last SMS from destination to the mailbox came in on at
// this connector (a reply keeps the conversation) while the directory
// still gives that number to the mailbox for SMS (service "sms" or ""),
// else the mailbox's first service number for SMS, else
// settings.source_address. An error: the store or the directory is
// unavailable (the recipient defers, 4.3.0). Blocking.
Result<std::string> choose_source(SmsStore& store, const directory::DirectoryView& directory,
                                  const std::string& mailbox, const std::string& destination,
                                  const SmsSettings& settings);

}  // namespace bh::connectors::sms
