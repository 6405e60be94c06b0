// HMAC-SHA256 (OpenSSL), for the processed stamp and webhook signatures.
#pragma once

#include <string>
#include <string_view>

namespace bh {

// The 32 raw bytes of the MAC; empty only if OpenSSL fails.
std::string hmac_sha256(std::string_view key, std::string_view data);

}  // namespace bh
