// type = "sms": the settings of README.md in this folder. The reader
// checks syntax with file and line (hosts, ports, lengths of system_id and
// password, the sender id, RE2 cut patterns, domains, the region, the
// destination rules, catch_all and inbound_sender); the
// password files are read by build() and checked by check_resources().
#pragma once

#include <string>
#include <vector>

#include "connectors/kind.hpp"
#include "connectors/sms/sms_settings.hpp"

namespace bh::connectors {

// The SMS kind's parsed settings, for tests and tools: null for other kinds.
const sms::SmsSettings* sms_settings(const ConnectorSpec* spec);

namespace sms {
// Password files (readable, only its owner may read it, at most 8
// characters), the TLS files. Empty: all fine.
std::vector<std::string> check_sms_resources(const SmsSettings& settings);
}  // namespace sms

}  // namespace bh::connectors
