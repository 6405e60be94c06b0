#include "connectors/delivery_tag.hpp"

#include <fmt/format.h>

#include "util/hmac.hpp"

namespace bh::connectors {

std::string delivery_tag(const std::string& queue_id, std::string_view recipient) {
  // A hash of the address keeps the tag a safe file name and JOBINFO value
  // whatever the local part holds; 64 bits tell a message's recipients
  // apart. The key is the one the fax connector first used, so tags of
  // faxes pending across an upgrade stay the same.
  std::string lower(recipient);
  for (char& c : lower)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  std::string digest = hmac_sha256("bridgehead fax submission tag", lower);
  std::string hex;
  for (std::size_t i = 0; i < 8 && i < digest.size(); ++i)
    hex += fmt::format("{:02x}", static_cast<unsigned char>(digest[i]));
  return queue_id + "." + hex;
}

}  // namespace bh::connectors
