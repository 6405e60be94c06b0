#pragma once

#include <string>

#include "util/result.hpp"

namespace bh::tls {

// Writes a self-signed certificate (EC P-256, 10 years, CN and DNS SAN =
// hostname, IP SAN for an address literal) and its private key (mode 0600)
// unless both files exist. Atomic: both are written to temporary files in
// their directories and renamed into place, while a flock(2) on the
// certificate's directory keeps other processes (gateways started at once)
// from creating a second pair; they find the first one. Returns true in the
// value when it created them.
Result<bool> ensure_self_signed(const std::string& certificate_path, const std::string& key_path,
                                const std::string& hostname);

}  // namespace bh::tls
