// An event's facts as one text column: "key=value" lines, with '%', '=',
// line breaks and other control bytes percent-encoded, so any value (a
// client certificate subject, a peer's reply) reads back unchanged.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bh::trace {

using Facts = std::vector<std::pair<std::string, std::string>>;

std::string format_facts(const Facts& facts);
// Lines it cannot read are skipped (the column is only written by format_facts).
Facts parse_facts(std::string_view text);

}  // namespace bh::trace
