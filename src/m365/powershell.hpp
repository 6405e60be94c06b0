// PowerShell text for values that come from the configuration: single-quoted
// strings (nothing inside them is expanded) and lists of them. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bh::m365 {

// Why `value` cannot be given to PowerShell as a quoted string: invalid
// UTF-8, a control character (C0, DEL, C1), a line or paragraph separator, or
// a bidirectional control (the script would not show what it runs); empty
// when it can.
std::string unquotable(std::string_view value);

// 'value' with every single quote doubled. PowerShell also ends a
// single-quoted string at U+2018..U+201B (typographic quotes), so those are
// doubled as well. nullopt when unquotable(value) is not empty.
std::optional<std::string> quote(std::string_view value);

// 'a','b',...: a PowerShell array; nullopt when one value is unquotable.
std::optional<std::string> quote_list(const std::vector<std::string>& values);

// Comment lines: each paragraph wrapped at 100 columns ("# " before each
// line, "#" alone for an empty paragraph). Made printable first: a line
// break inside a comment would start a command.
std::string comment(const std::vector<std::string>& paragraphs);

// One command as a script shows it: its comment, then the cmdlet and one
// "-Name value" parameter per line, continued with a backtick. Values are
// PowerShell text already (quoted, $true, a bare word).
struct Command {
  std::vector<std::string> comment;  // paragraphs
  std::string cmdlet;
  std::vector<std::pair<std::string, std::string>> parameters;
};
std::string render(const Command& command);

}  // namespace bh::m365
