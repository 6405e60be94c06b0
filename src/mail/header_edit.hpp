// Adding, replacing and removing header fields of a message held in memory
// (the header section and possibly the start of the body). Transport rules
// (policy/transport_rules.hpp) produce the edits; the intake applies them.
// Pure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace bh {

struct HeaderEdit {
  enum class Kind {
    add,     // a new field at the end of the header section
    set,     // one field with this value where the first of that name was; others removed
    remove,  // every field of that name (value unused)
  };
  Kind kind = Kind::add;
  std::string name;   // compared without case
  std::string value;  // one line: no CR, LF or NUL; written after "Name: "
};

// The longest header line written (RFC 5322 2.1.1: 998 characters before CRLF).
inline constexpr std::size_t kMaxHeaderLine = 998;

// RFC 5322 3.6.8: one or more printable US-ASCII characters except ':'.
bool is_field_name(std::string_view name);

// Why `name: value` cannot be written as one header line (a name that is no
// field name, CR, LF or NUL in the value, a line over kMaxHeaderLine); empty
// when it can.
std::string header_edit_problem(std::string_view name, std::string_view value);

// Applies the edits in order to content, whose first header_size bytes are
// the header section (the empty line that ends it included, when there is
// one: smtp/server/session_content.cpp). header_size is kept exact. The
// edits are checked first: an error changes nothing. fields_removed, when
// given, gets per edit how many fields it removed (set: the ones it
// replaced; add: 0).
Status apply_header_edits(std::string& content, std::size_t& header_size,
                          const std::vector<HeaderEdit>& edits,
                          std::vector<std::size_t>* fields_removed = nullptr);

}  // namespace bh
