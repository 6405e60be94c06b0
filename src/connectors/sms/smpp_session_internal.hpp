// What the files of SessionMachine (smpp_session.cpp, smpp_session_receive.cpp,
// smpp_session_timers.cpp) share. Internal to the SMS connector.
#pragma once

#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "connectors/sms/smpp_pdu.hpp"

namespace bh::connectors::sms::smpp {

// For texts of events: the spec's name, else the id in hex.
inline std::string command_text(std::uint32_t id) {
  std::string name = command_name(id);
  return name.empty() ? fmt::format("command 0x{:08x}", id) : name;
}

}  // namespace bh::connectors::sms::smpp
