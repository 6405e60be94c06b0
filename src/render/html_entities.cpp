#include "render/html_entities.hpp"

#include <array>
#include <cstdint>

namespace bh::render {
namespace {

bool is_ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

struct NamedEntity {
  std::string_view name;
  std::uint32_t code_point;
};
// The entities mail clients actually produce; anything else stays literal.
constexpr std::array kNamedEntities{
    NamedEntity{"amp", '&'},      NamedEntity{"lt", '<'},        NamedEntity{"gt", '>'},
    NamedEntity{"quot", '"'},     NamedEntity{"apos", '\''},     NamedEntity{"nbsp", 0xA0},
    NamedEntity{"copy", 0xA9},    NamedEntity{"reg", 0xAE},      NamedEntity{"trade", 0x2122},
    NamedEntity{"euro", 0x20AC},  NamedEntity{"pound", 0xA3},    NamedEntity{"yen", 0xA5},
    NamedEntity{"cent", 0xA2},    NamedEntity{"sect", 0xA7},     NamedEntity{"deg", 0xB0},
    NamedEntity{"plusmn", 0xB1},  NamedEntity{"times", 0xD7},    NamedEntity{"divide", 0xF7},
    NamedEntity{"middot", 0xB7},  NamedEntity{"para", 0xB6},     NamedEntity{"laquo", 0xAB},
    NamedEntity{"raquo", 0xBB},   NamedEntity{"ndash", 0x2013},  NamedEntity{"mdash", 0x2014},
    NamedEntity{"lsquo", 0x2018}, NamedEntity{"rsquo", 0x2019},  NamedEntity{"sbquo", 0x201A},
    NamedEntity{"ldquo", 0x201C}, NamedEntity{"rdquo", 0x201D},  NamedEntity{"bdquo", 0x201E},
    NamedEntity{"bull", 0x2022},  NamedEntity{"hellip", 0x2026}, NamedEntity{"shy", 0xAD},
    NamedEntity{"auml", 0xE4},    NamedEntity{"ouml", 0xF6},     NamedEntity{"uuml", 0xFC},
    NamedEntity{"Auml", 0xC4},    NamedEntity{"Ouml", 0xD6},     NamedEntity{"Uuml", 0xDC},
    NamedEntity{"szlig", 0xDF},   NamedEntity{"eacute", 0xE9},   NamedEntity{"egrave", 0xE8},
    NamedEntity{"ecirc", 0xEA},   NamedEntity{"aacute", 0xE1},   NamedEntity{"agrave", 0xE0},
    NamedEntity{"acirc", 0xE2},   NamedEntity{"ccedil", 0xE7},   NamedEntity{"ntilde", 0xF1},
    NamedEntity{"oacute", 0xF3},  NamedEntity{"uacute", 0xFA},   NamedEntity{"iacute", 0xED},
    NamedEntity{"Eacute", 0xC9},  NamedEntity{"zwnj", 0x200C},   NamedEntity{"zwj", 0x200D},
    NamedEntity{"lrm", 0x200E},   NamedEntity{"rlm", 0x200F},    NamedEntity{"ensp", 0x2002},
    NamedEntity{"emsp", 0x2003},  NamedEntity{"thinsp", 0x2009},
};

// HTML5 maps &#128; .. &#159; to the Windows-1252 characters, as browsers do.
constexpr std::array<std::uint16_t, 32> kWindows1252High{
    0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};

}  // namespace

std::optional<std::size_t> decode_html_entity(std::string_view html, std::size_t pos,
                                              std::string& out) {
  std::size_t i = pos + 1;
  if (i < html.size() && html[i] == '#') {
    ++i;
    bool hex = i < html.size() && (html[i] == 'x' || html[i] == 'X');
    if (hex) ++i;
    std::uint32_t cp = 0;
    std::size_t digits = 0;
    for (; i < html.size() && digits < 8; ++i, ++digits) {
      char c = html[i];
      int value = -1;
      if (c >= '0' && c <= '9') value = c - '0';
      if (hex && c >= 'a' && c <= 'f') value = c - 'a' + 10;
      if (hex && c >= 'A' && c <= 'F') value = c - 'A' + 10;
      if (value < 0) break;
      cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(value);
    }
    if (digits == 0) return std::nullopt;
    while (i < html.size() && is_ascii_alnum(html[i])) ++i;  // absurdly long numbers: U+FFFD
    if (digits == 8) cp = 0xFFFD;
    if (i < html.size() && html[i] == ';') ++i;
    if (cp >= 0x80 && cp <= 0x9F) cp = kWindows1252High[cp - 0x80];
    append_utf8(out, cp);
    return i;
  }
  std::size_t end = i;
  while (end < html.size() && end - i < 10 && is_ascii_alnum(html[end])) ++end;
  std::string_view name = html.substr(i, end - i);
  bool terminated = end < html.size() && html[end] == ';';
  for (const auto& entity : kNamedEntities) {
    if (name != entity.name) continue;
    // Without ';' only the legacy five are recognised, as browsers do.
    if (!terminated && entity.code_point > '>' && entity.code_point != 0xA0) return std::nullopt;
    append_utf8(out, entity.code_point);
    return terminated ? end + 1 : end;
  }
  return std::nullopt;
}

}  // namespace bh::render
