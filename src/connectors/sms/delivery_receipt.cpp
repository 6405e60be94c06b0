#include "connectors/sms/delivery_receipt.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include <fmt/format.h>

#include "util/printable.hpp"

namespace bh::connectors::sms {

namespace {

// esm_class message type (bits 2-5, spec 5.2.12) of a deliver_sm.
constexpr std::uint8_t kMessageTypeMask = 0x3C;
constexpr std::uint8_t kSmscDeliveryReceipt = 0x04;
constexpr std::uint8_t kSmeDeliveryAcknowledgement = 0x08;
constexpr std::uint8_t kIntermediateNotification = 0x20;

struct StateName {
  std::string_view name;
  ReceiptState state;
};
// Appendix B's stat: values, and the spec's long names (5.2.28) that some
// SMSCs write instead.
constexpr std::array<StateName, 12> kStateNames = {{
    {"ENROUTE", ReceiptState::enroute},
    {"DELIVRD", ReceiptState::delivered},
    {"EXPIRED", ReceiptState::expired},
    {"DELETED", ReceiptState::deleted},
    {"UNDELIV", ReceiptState::undeliverable},
    {"ACCEPTD", ReceiptState::accepted},
    {"UNKNOWN", ReceiptState::unknown},
    {"REJECTD", ReceiptState::rejected},
    {"DELIVERED", ReceiptState::delivered},
    {"UNDELIVERABLE", ReceiptState::undeliverable},
    {"ACCEPTED", ReceiptState::accepted},
    {"REJECTED", ReceiptState::rejected},
}};

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::string_view first_word(std::string_view text) {
  text = trim(text);
  auto end = std::find_if(text.begin(), text.end(), is_space);
  return text.substr(0, static_cast<std::size_t>(end - text.begin()));
}

// The fields of Appendix B. Each has its spellings (a space, an
// underscore or nothing between "submit" and "date").
enum class Field { id, sub, dlvrd, submit_date, done_date, stat, err, text, count };
struct FieldName {
  std::string_view name;
  Field field;
};
constexpr std::array<FieldName, 12> kFieldNames = {{
    {"id", Field::id},
    {"sub", Field::sub},
    {"dlvrd", Field::dlvrd},
    {"submit date", Field::submit_date},
    {"submit_date", Field::submit_date},
    {"submitdate", Field::submit_date},
    {"done date", Field::done_date},
    {"done_date", Field::done_date},
    {"donedate", Field::done_date},
    {"stat", Field::stat},
    {"err", Field::err},
    {"text", Field::text},
}};

struct Found {
  std::size_t name_at = 0;   // where the name starts
  std::size_t value_at = 0;  // after its colon
  Field field = Field::id;
};

// The field whose name starts at `at` (at the start or after white
// space) and is followed by a colon.
std::optional<Found> field_at(std::string_view text, std::size_t at) {
  if (at > 0 && !is_space(text[at - 1])) return std::nullopt;
  for (const FieldName& name : kFieldNames) {
    if (text.size() - at <= name.name.size()) continue;
    if (!equal_ignoring_case(text.substr(at, name.name.size()), name.name)) continue;
    if (text[at + name.name.size()] != ':') continue;
    return Found{at, at + name.name.size() + 1, name.field};
  }
  return std::nullopt;
}

// The values of the receipt text's fields by name, in any order. A value
// runs to the next field whose name has not come yet: a name seen before
// is part of the value, which lets text: (the message's first characters,
// which may hold anything) contain "stat:" or "id:".
std::array<std::optional<std::string_view>, static_cast<std::size_t>(Field::count)> fields_of(
    std::string_view text) {
  std::array<std::optional<std::string_view>, static_cast<std::size_t>(Field::count)> values;
  std::optional<Found> open;
  auto close = [&](std::size_t end) {
    if (open)
      values[static_cast<std::size_t>(open->field)] =
          text.substr(open->value_at, end - open->value_at);
  };
  for (std::size_t at = 0; at < text.size(); ++at) {
    std::optional<Found> found = field_at(text, at);
    if (!found) continue;
    bool seen = values[static_cast<std::size_t>(found->field)].has_value() ||
                (open && open->field == found->field);
    if (seen) continue;
    close(found->name_at);
    open = found;
    at = found->value_at - 1;
  }
  close(text.size());
  return values;
}

std::optional<ReceiptState> state_named(std::string_view name) {
  for (const StateName& entry : kStateNames)
    if (equal_ignoring_case(entry.name, name)) return entry.state;
  return std::nullopt;
}

// A message_state TLV (one octet, 1-8).
std::optional<ReceiptState> state_of_tlv(const smpp::Tlv* tlv) {
  if (!tlv || tlv->value.size() != 1) return std::nullopt;
  auto value = static_cast<std::uint8_t>(tlv->value[0]);
  if (value < 1 || value > 8) return std::nullopt;
  return static_cast<ReceiptState>(value);
}

// receipted_message_id: a C-octet string; some SMSCs leave the NUL out.
std::string_view id_of_tlv(const smpp::Tlv* tlv) {
  if (!tlv) return {};
  std::string_view value = tlv->value;
  return value.substr(0, value.find('\0'));
}

// network_error_code: network type (1 octet) and error code (2 octets).
std::optional<std::string> error_of_tlv(const smpp::Tlv* tlv) {
  if (!tlv || tlv->value.size() != 3) return std::nullopt;
  auto octet = [&](std::size_t i) { return static_cast<std::uint8_t>(tlv->value[i]); };
  return fmt::format("{}:{}", octet(0), (octet(1) << 8) | octet(2));
}

// The longest id converted: a message_id is at most 64 characters (65
// with receipted_message_id's NUL). A longer one (from a receipt's text,
// bounded only by the PDU, or a submit_sm_resp read leniently) is left as
// it is: the conversion below is quadratic in the length.
constexpr std::size_t kMaxConvertedId = 65;

// Arbitrary-length base conversion of a digit string (ids can be longer
// than 64 bits). nullopt: not a number in `from`, or too long to convert.
std::optional<std::string> convert(std::string_view id, unsigned from, unsigned to) {
  if (id.empty() || id.size() > kMaxConvertedId) return std::nullopt;
  std::vector<unsigned> digits;
  digits.reserve(id.size());
  for (char c : id) {
    unsigned digit = 0;
    char l = lower(c);
    if (l >= '0' && l <= '9') {
      digit = static_cast<unsigned>(l - '0');
    } else if (l >= 'a' && l <= 'f') {
      digit = static_cast<unsigned>(l - 'a' + 10);
    } else {
      return std::nullopt;
    }
    if (digit >= from) return std::nullopt;
    digits.push_back(digit);
  }
  // Repeated division of the number (most significant digit first) by `to`.
  std::string out;
  std::size_t start = 0;
  while (start < digits.size() && digits[start] == 0) ++start;
  while (start < digits.size()) {
    unsigned remainder = 0;
    for (std::size_t i = start; i < digits.size(); ++i) {
      unsigned value = remainder * from + digits[i];
      digits[i] = value / to;
      remainder = value % to;
    }
    out.push_back("0123456789abcdef"[remainder]);
    while (start < digits.size() && digits[start] == 0) ++start;
  }
  if (out.empty()) out = "0";
  std::reverse(out.begin(), out.end());
  return out;
}

std::string normalised(std::string_view id, unsigned from, unsigned to) {
  std::optional<std::string> converted = convert(id, from, to);
  return converted ? std::move(*converted) : std::string(id);
}

}  // namespace

bool is_final(ReceiptState state) {
  return state != ReceiptState::enroute && state != ReceiptState::accepted;
}

std::string_view state_text(ReceiptState state) {
  switch (state) {
    case ReceiptState::enroute:
      return "ENROUTE";
    case ReceiptState::delivered:
      return "DELIVRD";
    case ReceiptState::expired:
      return "EXPIRED";
    case ReceiptState::deleted:
      return "DELETED";
    case ReceiptState::undeliverable:
      return "UNDELIV";
    case ReceiptState::accepted:
      return "ACCEPTD";
    case ReceiptState::unknown:
      return "UNKNOWN";
    case ReceiptState::rejected:
      return "REJECTD";
  }
  return "UNKNOWN";
}

bool is_receipt(const smpp::ShortMessage& message) {
  // SMSC delivery receipts, and the intermediate notifications and SME
  // acknowledgements that report on a message too: none is an SMS to a user.
  std::uint8_t type = message.esm_class & kMessageTypeMask;
  return type == kSmscDeliveryReceipt || type == kSmeDeliveryAcknowledgement ||
         type == kIntermediateNotification;
}

Result<Receipt> parse_receipt(const smpp::ShortMessage& message) {
  std::string_view text = message.short_message;
  const smpp::Tlv* payload = smpp::find_tlv(message.tlvs, smpp::tlv::message_payload);
  if (text.empty() && payload) text = payload->value;
  auto values = fields_of(text);
  auto value = [&](Field field) {
    return values[static_cast<std::size_t>(field)].value_or(std::string_view());
  };

  Receipt receipt;
  receipt.text = printable(trim(text));
  std::string_view id = id_of_tlv(smpp::find_tlv(message.tlvs, smpp::tlv::receipted_message_id));
  if (id.empty()) id = first_word(value(Field::id));
  if (id.empty())
    return Error{
        fmt::format("receipt without a message id: \"{}\"", printable(utf8_prefix(text, 80)))};
  receipt.message_id.assign(id);

  std::optional<ReceiptState> state =
      state_of_tlv(smpp::find_tlv(message.tlvs, smpp::tlv::message_state));
  std::string_view stat = first_word(value(Field::stat));
  if (!state) state = state_named(stat);
  if (!state)
    return Error{fmt::format("receipt for {} without a known state (stat:{})", printable(id),
                             printable(stat))};
  receipt.state = *state;

  std::optional<std::string> network_error =
      error_of_tlv(smpp::find_tlv(message.tlvs, smpp::tlv::network_error_code));
  receipt.error =
      network_error ? std::move(*network_error) : std::string(first_word(value(Field::err)));
  receipt.done_date.assign(first_word(value(Field::done_date)));
  return receipt;
}

std::string normalise_submit_id(std::string_view id, ReceiptIds mode) {
  // Both sides end up in the receipt's base.
  switch (mode) {
    case ReceiptIds::same:
      break;
    case ReceiptIds::hex_to_decimal:
      return normalised(id, 16, 10);
    case ReceiptIds::decimal_to_hex:
      return normalised(id, 10, 16);
  }
  return std::string(id);
}

std::string normalise_receipt_id(std::string_view id, ReceiptIds mode) {
  switch (mode) {
    case ReceiptIds::same:
      break;
    case ReceiptIds::hex_to_decimal:
      return normalised(id, 10, 10);
    case ReceiptIds::decimal_to_hex:
      return normalised(id, 16, 16);
  }
  return std::string(id);
}

}  // namespace bh::connectors::sms
