#pragma once

#include <string>

#include "util/result.hpp"

namespace bh::tls {

// Writes a self-signed certificate (EC P-256, 10 years, CN and DNS SAN =
// hostname) and its private key (mode 0600) unless both files exist.
// Returns true in the value when it created them.
Result<bool> ensure_self_signed(const std::string& certificate_path, const std::string& key_path,
                                const std::string& hostname);

}  // namespace bh::tls
