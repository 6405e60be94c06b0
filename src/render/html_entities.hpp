// HTML character references: "&amp;", "&#228;", "&#xE4;" to UTF-8, for
// html_text. The named ones are those mail clients produce; numeric
// references in 128..159 are the Windows-1252 characters, as browsers
// decode them; invalid code points become U+FFFD. Pure.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace bh::render {

// html[pos] is '&'. When a reference starts there, appends its character
// to `out` and returns the position after it; nullopt otherwise (the '&'
// is literal).
std::optional<std::size_t> decode_html_entity(std::string_view html, std::size_t pos,
                                              std::string& out);

}  // namespace bh::render
