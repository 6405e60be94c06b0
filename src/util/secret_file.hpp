// Secrets kept in files (the processed stamp's keys, webhook secrets): read
// only from a regular file that nobody but its owner may access, as ssh
// refuses an unprotected private key.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace bh {

// The file's bytes as they are. what names the secret in errors ("stamp
// key"); more than max_bytes is an error (the caller checks the minimum,
// after any trimming of its own).
Result<std::string> read_secret_file(const std::string& path, std::string_view what,
                                     std::size_t max_bytes);

}  // namespace bh
