#include "connectors/sms/sms_outbound.hpp"

#include <fmt/format.h>

#include "connectors/sms/sms_addressing.hpp"
#include "connectors/sms/sms_encoding.hpp"
#include "connectors/sms/sms_text.hpp"
#include "directory/phone_number.hpp"
#include "mail/address.hpp"
#include "util/printable.hpp"

namespace bh::connectors::sms {
namespace {

// E.164: at most 15 digits after the '+'.
constexpr std::size_t kMaxE164Digits = 15;
// Text from the SMSC (a receipt's err:) at most this long goes into a DSN.
constexpr std::size_t kMaxSmscText = 100;

RecipientResult bounce(std::string status, std::string diagnostic) {
  RecipientResult result;
  result.outcome = Outcome::bounced;
  result.status = std::move(status);
  result.diagnostic = std::move(diagnostic);
  return result;  // diagnostic_type "smtp" without remote_mta: our own reason
}

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  return true;
}

bool is_e164(std::string_view text) {
  return text.size() >= 2 && text.front() == '+' && text[1] != '0' &&
         text.size() - 1 <= kMaxE164Digits && all_digits(text.substr(1));
}

// What a local part may be before libphonenumber reads it: digits, one
// leading '+' and the separators '-' and '.', so that letters are refused
// here with a reason that names the address.
bool number_characters(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool ok = (c >= '0' && c <= '9') || c == '-' || c == '.' || (c == '+' && i == 0);
    if (!ok) return false;
  }
  return true;
}

std::string domain_key(std::string_view domain) {
  std::string key = to_lower_ascii(domain);
  if (key.ends_with('.')) key.pop_back();
  return key;
}

// SMSC text for a DSN: printable, cut at a character boundary.
std::string cleaned(std::string_view text) {
  return printable(utf8_prefix(text, kMaxSmscText));
}

// "part 2 of 3" for a concatenated SMS, "the SMS" for one.
std::string which_part(int part, int parts) {
  return parts > 1 ? fmt::format("part {} of {}", part, parts) : std::string("the SMS");
}

// Statuses (SMPP 3.4 5.1.3) that say the submit_sm itself is wrong, so a
// retry of the same PDU fails the same way.
bool is_permanent(std::uint32_t status) {
  switch (status) {
    case smpp::status::invalid_message_length:      // ESME_RINVMSGLEN
    case smpp::status::invalid_command_length:      // ESME_RINVCMDLEN
    case smpp::status::invalid_command_id:          // ESME_RINVCMDID
    case 0x06:                                      // ESME_RINVPRTFLG
    case 0x07:                                      // ESME_RINVREGDLVFLG
    case smpp::status::invalid_source_address:      // ESME_RINVSRCADR
    case smpp::status::invalid_dest_address:        // ESME_RINVDSTADR
    case 0x15:                                      // ESME_RINVSERTYP
    case smpp::status::invalid_esm_class:           // ESME_RINVESMCLASS
    case 0x48:                                      // ESME_RINVSRCTON
    case 0x49:                                      // ESME_RINVSRCNPI
    case 0x50:                                      // ESME_RINVDSTTON
    case 0x51:                                      // ESME_RINVDSTNPI
    case 0x61:                                      // ESME_RINVSCHED
    case 0x62:                                      // ESME_RINVEXPIRY
    case 0x63:                                      // ESME_RINVDFTMSGID
    case smpp::status::permanent_app_error:         // ESME_RX_P_APPN
    case smpp::status::reject_message:              // ESME_RX_R_APPN
    case smpp::status::invalid_optional_parameter:  // ESME_RINVOPTPARSTREAM
    case 0xC1:                                      // ESME_ROPTPARNOTALLWD
    case smpp::status::invalid_parameter_length:    // ESME_RINVPARLEN
    case 0xC3:                                      // ESME_RMISSINGOPTPARAM
    case 0xC4:                                      // ESME_RINVOPTPARAMVAL
      return true;
    default:
      return false;
  }
}

std::string receipt_status(ReceiptState state) {
  switch (state) {
    case ReceiptState::expired:
      return "5.4.7";
    case ReceiptState::rejected:
      return "5.7.1";
    case ReceiptState::deleted:
      return "5.3.0";
    case ReceiptState::undeliverable:
    case ReceiptState::unknown:
    default:
      return "5.4.0";
  }
}

}  // namespace

Result<std::string> number_of_address(std::string_view address,
                                      const std::vector<std::string>& domains,
                                      std::string_view default_region) {
  if (address.size() >= 2 && address.front() == '<' && address.back() == '>')
    address = address.substr(1, address.size() - 2);
  std::size_t at = address.rfind('@');
  if (at == std::string_view::npos)
    return Error{fmt::format("'{}' is not an address", printable(address))};
  std::string_view local = address.substr(0, at);
  std::string key = domain_key(address.substr(at + 1));
  bool ours = false;
  for (const std::string& domain : domains)
    if (domain_key(domain) == key) ours = true;
  if (!ours)
    return Error{fmt::format("the domain '{}' is not one of the SMS domains",
                             printable(address.substr(at + 1)))};
  if (local.empty()) return Error{"the address names no mobile number"};
  if (local.front() == '"')
    return Error{fmt::format("'{}': a quoted local part is not a mobile number", printable(local))};
  if (!number_characters(local))
    return Error{fmt::format(
        "'{}' is not a mobile number (digits, a leading '+' and the separators - and . only)",
        printable(local))};
  auto e164 = directory::to_e164(local, default_region);
  if (!e164) return Error{e164.error().message};
  return std::move(*e164);
}

std::variant<std::string, RecipientResult> recipient_number(std::string_view address,
                                                            const SmsSettings& settings,
                                                            const DestinationCheck& check) {
  auto number = number_of_address(address, settings.domains, settings.default_region);
  if (!number) return bounce("5.1.3", number.error().message);
  if (auto blocked = check.blocked(*number))
    return bounce("5.7.1", fmt::format("SMS to {} is not permitted: {}", *number, *blocked));
  return std::move(*number);
}

Result<smpp::SmeAddress> source_address_of(std::string_view sender) {
  smpp::SmeAddress address;
  address.ton = kTonUnknown;
  address.npi = kNpiUnknown;
  if (sender.empty()) return address;  // the SMSC fills it in
  if (sender.front() == '+') {
    if (!is_e164(sender))
      return Error{fmt::format("an E.164 number is '+' and up to {} digits, the first not 0",
                               kMaxE164Digits)};
    address.ton = kTonInternational;
    address.npi = kNpiIsdn;
    address.address = std::string(sender.substr(1));
    return address;
  }
  // source_addr is a C-octet string that the SMSC reads in its default
  // alphabet, whichever that is: only printable ASCII that is also one
  // GSM 7-bit septet (not ` nor the extension table's ^ { } [ ] ~ | \)
  // reaches the handset as written, and 11 of them fill the TP-OA.
  bool usable = sender.size() <= kMaxSenderId;
  bool letter = false;
  for (char c : sender) {
    if (c < 0x20 || c > 0x7E) usable = false;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) letter = true;
  }
  if (usable) {
    EncodedText septets = encode_text(sender, DefaultAlphabet::gsm7);
    usable = septets.alphabet == Alphabet::gsm7 && septets.units == sender.size();
  }
  if (!usable || !letter)
    return Error{fmt::format(
        "a sender id is 1 to {} ASCII letters, digits, spaces or GSM 7-bit punctuation, with at "
        "least one letter; a number is E.164 (+491701234567)",
        kMaxSenderId)};
  address.ton = kTonAlphanumeric;
  address.npi = kNpiUnknown;
  address.address = std::string(sender);
  return address;
}

smpp::SmeAddress destination_address_of(const std::string& e164) {
  smpp::SmeAddress address;
  address.ton = kTonInternational;
  address.npi = kNpiIsdn;
  address.address = e164.starts_with('+') ? e164.substr(1) : e164;
  return address;
}

std::variant<PreparedText, RecipientResult> prepare_text(std::string_view message,
                                                         const SmsSettings& settings,
                                                         std::uint16_t reference) {
  if (message.size() > settings.max_message_bytes)
    return bounce("5.3.4", fmt::format("the mail is larger than {} bytes, the most the SMS "
                                       "connector reads",
                                       settings.max_message_bytes));
  TextRules rules;
  rules.source = settings.text_source;
  rules.trim_quotes = settings.trim_quotes;
  rules.trim_signature = settings.trim_signature;
  rules.cut_patterns = settings.cut_patterns;
  auto text = sms_text_of_mail(message, rules);
  if (!text) return bounce("5.6.0", "the mail cannot be read as MIME: " + text.error().message);
  if (text->empty()) return bounce("5.6.0", "the mail has no text to send as SMS");

  PreparedText prepared;
  prepared.encoded = encode_text(*text, settings.default_alphabet);
  auto split = split_text(prepared.encoded, settings.long_messages, settings.max_parts,
                          settings.max_payload_bytes, reference);
  if (auto* too_long = std::get_if<TooLong>(&split)) return bounce("5.3.4", too_long->text);
  prepared.segments = std::move(std::get<Segments>(split));
  return prepared;
}

std::vector<smpp::ShortMessage> submit_pdus(const PreparedText& text,
                                            const smpp::SmeAddress& source,
                                            const std::string& destination_e164,
                                            const SmsSettings& settings) {
  std::vector<smpp::ShortMessage> pdus;
  pdus.reserve(text.segments.parts.size());
  smpp::SmeAddress destination = destination_address_of(destination_e164);
  for (const SegmentBody& part : text.segments.parts) {
    smpp::ShortMessage pdu;
    pdu.source = source;
    pdu.destination = destination;
    pdu.esm_class = part.esm_class;
    // Bit 0: a receipt on final success or failure (spec 5.2.17); each
    // part of a concatenated SMS has its own.
    pdu.registered_delivery = settings.request_receipts ? 1 : 0;
    pdu.validity_period = settings.validity_period;
    pdu.data_coding = text.segments.data_coding;
    pdu.short_message = part.short_message;
    pdu.tlvs = part.tlvs;
    pdus.push_back(std::move(pdu));
  }
  return pdus;
}

bool is_throttling(std::uint32_t status) {
  return status == smpp::status::throttled || status == smpp::status::message_queue_full;
}

RecipientResult submit_failure(std::uint32_t status, int part, int parts, const std::string& smsc) {
  RecipientResult result;
  result.remote_mta = smsc;
  result.diagnostic_type = "x-smpp";  // the SMSC's status, not an SMTP reply
  result.diagnostic =
      fmt::format("SMSC refused {}: {}", which_part(part, parts), smpp::status_name(status));
  if (!is_permanent(status)) {
    result.outcome = Outcome::deferred;
    result.status = "4.4.2";
    return result;
  }
  result.outcome = Outcome::bounced;
  result.status = status == smpp::status::invalid_dest_address     ? "5.1.1"
                  : status == smpp::status::invalid_source_address ? "5.7.1"
                  : status == smpp::status::invalid_message_length ? "5.3.4"
                                                                   : "5.0.0";
  return result;
}

RecipientResult receipt_result(const Settlement& settlement, const SmsSettings& settings,
                               const std::string& number) {
  RecipientResult result;
  result.diagnostic_type = "x-smpp";
  // One connector talks to one SMSC: its first bind names it.
  if (!settings.binds.empty()) result.remote_mta = settings.binds.front().host;
  if (settlement.delivered) {
    result.outcome = Outcome::delivered;
    result.status = "2.0.0";
    result.success_action = "delivered";
    result.report = settings.success_notice == SuccessNotice::report;
    // The sender reads "Your " + this as a report's first line (mail/dsn.cpp).
    // The number is unknown to a sweep that found no pending entry.
    result.diagnostic = number.empty() ? std::string("SMS was delivered")
                                       : fmt::format("SMS to {} was delivered",
                                                     directory::international_format(number));
    if (settlement.parts > 1) result.diagnostic += fmt::format(" ({} parts)", settlement.parts);
    return result;
  }
  const ReceiptRecord& failure = settlement.failure;
  result.outcome = Outcome::bounced;
  result.status = receipt_status(failure.state);
  std::string part = settlement.parts > 1
                         ? fmt::format("part {} of {}: ", settlement.failed_part, settlement.parts)
                         : std::string();
  result.diagnostic = fmt::format("SMSC reports {}stat:{}", part, state_text(failure.state));
  if (!failure.error.empty()) result.diagnostic += " err:" + cleaned(failure.error);
  return result;
}

Result<std::string> choose_source(SmsStore& store, const directory::DirectoryView& directory,
                                  const std::string& mailbox, const std::string& destination,
                                  const SmsSettings& settings) {
  // An alias sends as its mailbox: conversations and numbers are the
  // primary address's.
  auto user = directory.find_user(mailbox);
  if (user.is_unavailable()) return Error{"the directory is unavailable: " + user.reason};
  std::string key = to_lower_ascii(user.is_found() ? user->address : mailbox);
  auto conversation = store.conversation_number(settings.name, key, destination);
  if (!conversation)
    return Error{"the SMS store is unavailable: " + conversation.error().message,
                 conversation.error().code};
  if (conversation->has_value()) {
    // Only while the number is still this mailbox's for SMS: a number that
    // moved to another mailbox (or tenant) is never a sender of this one.
    auto owner = directory.find_number(**conversation);
    if (owner.is_unavailable()) return Error{"the directory is unavailable: " + owner.reason};
    if (owner.is_found() && to_lower_ascii(owner->mailbox) == key &&
        (owner->service == "sms" || owner->service.empty()))
      return **conversation;
  }
  auto numbers = directory.service_numbers_of(key);
  if (numbers.is_unavailable()) return Error{"the directory is unavailable: " + numbers.reason};
  if (numbers.is_found())
    for (const directory::NumberOwner& owner : *numbers)
      if (owner.service == "sms" || owner.service.empty()) return owner.number;
  return settings.source_address;
}

}  // namespace bh::connectors::sms
