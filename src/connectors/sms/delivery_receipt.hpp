// SMSC delivery receipts (deliver_sm with esm_class bits 2-5 = 0001, the
// 0x04 bit): which message they report on and its final state. The text
// follows spec Appendix B ("id:... sub:... dlvrd:... submit date:... done
// date:... stat:DELIVRD err:000 text:..."), vendor specific, so fields are
// found by name in any order and case; the TLVs receipted_message_id and
// message_state win over the text when present. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "connectors/sms/smpp_pdu.hpp"
#include "connectors/sms/sms_settings.hpp"

namespace bh::connectors::sms {

// message_state values (spec 5.3.2.35); stat texts as Appendix B names them.
enum class ReceiptState {
  enroute = 1,
  delivered = 2,      // DELIVRD
  expired = 3,        // EXPIRED
  deleted = 4,        // DELETED
  undeliverable = 5,  // UNDELIV
  accepted = 6,       // ACCEPTD (intermediate: the SMSC took it)
  unknown = 7,        // UNKNOWN
  rejected = 8,       // REJECTD
};

// Whether the message is done: delivered, or failed for good.
bool is_final(ReceiptState state);
// "DELIVRD", "UNDELIV", ...
std::string_view state_text(ReceiptState state);

struct Receipt {
  std::string message_id;  // as the receipt gives it (TLV, else the text's id:)
  ReceiptState state = ReceiptState::unknown;
  std::string error;      // err: (three digits), or network_error_code as "<type>:<code>"
  std::string done_date;  // as given, YYMMDDhhmm[ss]
  std::string text;       // the receipt's short_message, printable, for the diagnostic
};

// Whether the deliver_sm is a receipt (esm_class message type bits).
bool is_receipt(const smpp::ShortMessage& message);
// An error: neither a receipted_message_id TLV nor an id: field, or no
// state (neither message_state nor a known stat:).
Result<Receipt> parse_receipt(const smpp::ShortMessage& message);

// Message ids normalised so that submit_sm_resp's and the receipt's match
// (ReceiptIds): for_submit() is applied to submit_sm_resp's id, for_receipt()
// to the receipt's. Hex is lower case without leading zeros; decimal
// without leading zeros; an id that does not parse as the expected base,
// or is longer than 65 characters (no SMSC's id), is returned unchanged.
// ReceiptIds::same: both unchanged.
std::string normalise_submit_id(std::string_view id, ReceiptIds mode);
std::string normalise_receipt_id(std::string_view id, ReceiptIds mode);

}  // namespace bh::connectors::sms
