// Who an SMS is from and to (as E.164 numbers), and the mailbox it goes
// to: the number's owner in the directory, or the catch-all.
#include <fmt/format.h>

#include "connectors/sms/sms_addressing.hpp"  // kTonInternational
#include "connectors/sms/sms_inbound_internal.hpp"
#include "directory/phone_number.hpp"

namespace bh::connectors::sms {

Result<std::string> e164_of(const smpp::SmeAddress& address, std::string_view region) {
  if (address.ton == kTonInternational && !address.address.starts_with('+'))
    return directory::to_e164("+" + address.address, region);
  return directory::to_e164(address.address, region);
}

std::variant<Destination, InboundAnswer> find_destination(const directory::DirectoryView& directory,
                                                          const std::string& number,
                                                          const InboundSettings& settings) {
  auto owner = directory.find_number(number);
  if (owner.is_unavailable()) return unavailable("the directory is unavailable: " + owner.reason);
  if (owner.is_found()) {
    if (owner->service == "fax")
      return refused(fmt::format("{} is a number for fax only", number),
                     smpp::status::invalid_dest_address);
    return Destination{owner->mailbox, owner->tenant, false};
  }
  if (settings.catch_all.empty())
    return refused(fmt::format("no mailbox owns {} and there is no catch-all", number),
                   smpp::status::invalid_dest_address);
  Destination destination{settings.catch_all, "", true};
  auto user = directory.find_user(settings.catch_all);
  if (user.is_unavailable()) return unavailable("the directory is unavailable: " + user.reason);
  if (user.is_found()) destination.tenant = user->tenant;
  return destination;
}

Parties parties_of(const InboundMessage& message, std::string_view region) {
  Parties parties;
  parties.sender_raw = message.source;
  if (message.sender_is_number)
    if (auto number = directory::to_e164(message.source, region); number) parties.sender = *number;
  parties.recipient = message.destination;
  return parties;
}

}  // namespace bh::connectors::sms
