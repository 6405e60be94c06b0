// Writing text as a JSON string, escaped at the point of writing: quotes,
// backslashes and controls (C0, DEL, C1, U+2028/U+2029, bidi controls) as
// their short forms or \uXXXX, so the result is valid UTF-8 JSON whatever
// the bytes were. For the JSON log lines and the webhook's documents.
#pragma once

#include <string>
#include <string_view>

namespace bh {

// What a byte that is not valid UTF-8 becomes: U+FFFD (documents for other
// programs), or the six characters \\xHH, which read back as "\xHH" as
// `bridgehead queue` shows such bytes (logs, where the byte matters).
enum class NotUtf8 { replacement, hex_text };

void append_json_string(std::string& out, std::string_view text, NotUtf8 bytes);

}  // namespace bh
