// type = "fax": the settings of README.md in this folder. The reader
// checks syntax with file and line (numbers, prefixes, RE2 patterns); the
// files the settings name (render helper, cover template, password file,
// folders) are checked by check_resources() (check-config) and build().
#pragma once

#include <string>
#include <vector>

#include "connectors/fax/fax_settings.hpp"
#include "connectors/kind.hpp"

namespace bh::connectors {

// The fax kind's parsed settings, for tests and tools: null for
// connectors of other kinds.
const fax::FaxSettings* fax_settings(const ConnectorSpec* spec);

namespace fax {

// What is wrong with the files and users the settings name: the render
// helper (exists, executable), the render user (exists), the cover
// template (readable), the spool and work folders (writable), the HylaFAX
// password file (only its owner may read it). Empty: all fine.
std::vector<std::string> check_fax_resources(const FaxSettings& settings);

}  // namespace fax
}  // namespace bh::connectors
