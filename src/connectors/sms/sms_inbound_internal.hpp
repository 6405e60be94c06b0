// The pieces of SmsInbound (sms_inbound.hpp) shared by its files:
// sms_inbound.cpp (receive, the sweep, the log line), sms_inbound_parties.cpp
// (who an SMS is from and to, and where it goes) and sms_inbound_mail.cpp
// (its mail through the intake). Internal to the SMS connector.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "connectors/sms/smpp_pdu.hpp"
#include "connectors/sms/sms_inbound.hpp"
#include "connectors/sms/sms_settings.hpp"
#include "connectors/sms/sms_store.hpp"
#include "directory/directory.hpp"
#include "util/result.hpp"

namespace bh::intake {
class Ingest;
}

namespace bh::connectors::sms {

inline InboundAnswer answer(InboundStatus status, std::uint32_t smpp_status, std::string reason) {
  InboundAnswer a;
  a.status = status;
  a.smpp_status = smpp_status;
  a.reason = std::move(reason);
  return a;
}
inline InboundAnswer unavailable(std::string reason) {
  return answer(InboundStatus::unavailable, smpp::status::temporary_app_error, std::move(reason));
}
inline InboundAnswer refused(std::string reason,
                             std::uint32_t smpp_status = smpp::status::permanent_app_error) {
  return answer(InboundStatus::refused, smpp_status, std::move(reason));
}

// An SMSC address as E.164: international digits get their '+', anything
// else is read as a national number of the region.
Result<std::string> e164_of(const smpp::SmeAddress& address, std::string_view region);

// Who sent an SMS and to which number.
struct Parties {
  std::string sender;      // E.164, "" when the sender is no number
  std::string sender_raw;  // as the SMSC gave it
  std::string recipient;   // E.164
  // What identifies the sender in the store and the Message-ID.
  const std::string& sender_key() const { return sender.empty() ? sender_raw : sender; }
};

// Where the SMS goes.
struct Destination {
  std::string mailbox;
  std::string tenant;
  // The catch-all: the number is nobody's, so no conversation is kept
  // (a reply takes the mailbox's own number, sms_outbound.hpp).
  bool catch_all = false;
};

// One mail to compose and queue.
struct MailInput {
  Parties parties;
  Destination destination;
  std::string text;
  std::vector<int> missing_parts;
  int total_parts = 1;
  std::int64_t received_at = 0;
  std::string unique;  // the Message-ID's left side
};

// The mailbox for an E.164 number: the owner of a number the directory
// knows (refused when it is for fax only: a number of one tenant never
// reaches the catch-all, which may be another tenant's); only a number the
// directory does not know goes to the catch-all, else it is refused.
std::variant<Destination, InboundAnswer> find_destination(const directory::DirectoryView& directory,
                                                          const std::string& number,
                                                          const InboundSettings& settings);

// The parties of a stored message: its source is E.164 when the parts say
// the sender was a number (the TON said so when they came).
Parties parties_of(const InboundMessage& message, std::string_view region);

// "1,3": the numbers, comma-separated.
std::string joined(const std::vector<int>& numbers);

// The parts that came, in order, and those that did not.
MailInput mail_of(const InboundMessage& message, Parties parties, Destination destination);

// The mail of an SMS through the intake, waited for with a bound; then the
// conversation for replies. Shared by receive() and flush_expired().
InboundAnswer queue_mail(const SmsSettings& settings, intake::Ingest& ingest, SmsStore& store,
                         const std::atomic<bool>& stopping, const MailInput& input);

}  // namespace bh::connectors::sms
