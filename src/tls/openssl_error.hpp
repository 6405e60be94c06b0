#pragma once

#include <string>

namespace bh::tls {

// The oldest queued OpenSSL error as text (and the queue cleared).
std::string openssl_error();

}  // namespace bh::tls
