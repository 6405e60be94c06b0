#include "util/hmac.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace bh {

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  // HMAC() refuses a null key pointer, which an empty string_view may have.
  static const unsigned char kEmpty = 0;
  const void* key_data = key.empty() ? static_cast<const void*>(&kEmpty) : key.data();
  if (!HMAC(EVP_sha256(), key_data, static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &length))
    return {};
  return std::string(reinterpret_cast<const char*>(mac), length);
}

}  // namespace bh
