// The processed stamp's keys (policy/processed_stamp.hpp) from the [stamp]
// table (docs/configuration.md): secret files, refused when others could
// read them, as ssh refuses an unprotected private key.
#pragma once

#include <cstdint>
#include <string>

#include "policy/processed_stamp.hpp"
#include "util/result.hpp"

namespace bh {

struct StampConfig {
  std::string key_file = "var/stamp.key";
  std::string previous_key_file;  // empty: none (accepted during a key rotation)
  std::string node;               // empty: [server] hostname
  std::int64_t max_age = 604800;  // seconds a stamp stays valid
  bool configured = false;        // the file has a [stamp] table
};

inline constexpr std::size_t kMinStampKeyBytes = 32;
inline constexpr std::size_t kMaxStampKeyBytes = 4096;
inline constexpr std::size_t kGeneratedStampKeyBytes = 32;

// Reads a key file: it must be a regular file, readable, with no
// permission bits for group or others, and hold 32 to 4096 bytes (the
// bytes as they are, a final newline included, are the key). Errors name
// the path.
Result<std::string> read_stamp_key(const std::string& path);

// Both keys; node defaults to hostname.
Result<StampKeys> load_stamp_keys(const StampConfig& config, const std::string& hostname);

// As load_stamp_keys, but when key_file does not exist first creates it:
// 32 random bytes, mode 0600, written to a temporary file in the same
// directory (created if needed), flushed, and linked into place, so a
// reader never sees a partial key and of several gateways started at once
// the first one's key is the one all use. *created tells whether this
// call made it.
Result<StampKeys> load_or_create_stamp_keys(const StampConfig& config, const std::string& hostname,
                                            bool* created = nullptr);

}  // namespace bh
