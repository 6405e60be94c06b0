// The quickstart's first admin token: made at the first start and written
// to a file only its owner may read (as the stamp key is), so that a fresh
// installation can call its own API without a token being printed or logged.
#pragma once

#include <string>

#include "admin/token_store.hpp"
#include "util/result.hpp"

namespace bh::admin {

// Unless path exists: creates it (mode 0600, its folder if needed), makes
// an admin token for every tenant and writes the token text and a newline
// into it. *created tells whether this call made it.
Status ensure_token_file(TokenStore& tokens, const std::string& path, bool* created);

}  // namespace bh::admin
