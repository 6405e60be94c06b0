// What the files of TraceStore (trace_store.cpp, trace_store_write.cpp,
// trace_store_read.cpp) share. Internal to src/trace.
#pragma once

#include <string>
#include <string_view>

namespace bh::trace {

// ASCII lower case: the keys of senders and recipients.
inline std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace bh::trace
