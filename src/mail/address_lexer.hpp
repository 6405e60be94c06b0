// The tokens of an RFC 5322 address list (3.2: atoms, quoted strings,
// domain literals, specials; comments and folding white space dropped but
// remembered as "space before"), for the parser in mail/mailbox_list.cpp,
// plus the character classes both use. Pure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bh::address_syntax {

constexpr std::size_t kMaxLocal = 64;    // RFC 5321 4.5.3.1.1
constexpr std::size_t kMaxDomain = 255;  // RFC 5321 4.5.3.1.2
constexpr std::size_t kMaxLabel = 63;
constexpr std::size_t kMaxEncodedWord = 75;  // RFC 2047 2

enum class Kind { atom, quoted, literal, special, end };

struct Token {
  Kind kind = Kind::end;
  char special = 0;           // for Kind::special: one of < > : ; @ , .
  std::string text;           // atom as written, quoted-string content, literal content
  bool space_before = false;  // WSP or a comment precedes it
  bool encoded_word = false;
  std::size_t offset = 0;  // in the unfolded value
};

bool is_wsp(unsigned char c);
bool is_alnum(unsigned char c);
bool is_atext(unsigned char c);
// " at offset N", for error reasons (which never quote the input).
std::string at(std::size_t offset);

// Fills tokens; returns the error (with its offset) or empty.
std::string tokenize(std::string_view text, std::vector<Token>& tokens);

}  // namespace bh::address_syntax
