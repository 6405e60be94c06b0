#include "smtp/proto/command.hpp"

#include <array>
#include <charconv>
#include <variant>

#include <fmt/format.h>

namespace bh::smtp {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 32);
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 32);
    if (x != y) return false;
  }
  return true;
}

bool istarts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

std::optional<std::uint64_t> parse_number(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Splits "KEY=VALUE KEY2" into (key, value) pairs, calling visit for each;
// stops at the first failure visit reports.
template <typename Visit>
std::optional<ParseFailure> for_each_parameter(std::string_view text, Visit visit) {
  text = trim(text);
  while (!text.empty()) {
    std::size_t space = text.find(' ');
    std::string_view item = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view() : trim(text.substr(space));
    std::size_t equals = item.find('=');
    std::string_view key = item.substr(0, equals);
    std::string_view value =
        equals == std::string_view::npos ? std::string_view() : item.substr(equals + 1);
    if (auto failure = visit(key, value, equals != std::string_view::npos)) return failure;
  }
  return std::nullopt;
}

// The key is the client's: echoed only as printable ASCII, bytes escaped.
ParseFailure unsupported(std::string_view key) {
  std::string shown;
  for (unsigned char c : key.substr(0, 64)) {
    if (c > 32 && c < 127 && c != '\\')
      shown.push_back(static_cast<char>(c));
    else
      shown += fmt::format("\\x{:02X}", c);
  }
  return {555, "5.5.4", "Unsupported option: " + shown};
}

ParseFailure path_failure(const PathParse& parse, bool sender) {
  if (parse.error == PathError::non_ascii)
    return {553, "5.6.7", "Non-ASCII address requires SMTPUTF8"};
  if (parse.error == PathError::too_long) return {501, "5.5.4", "Address too long"};
  return sender ? ParseFailure{501, "5.1.7", "Bad sender address syntax"}
                : ParseFailure{501, "5.1.3", "Bad recipient address syntax"};
}

// "FROM:<addr>" with an optional space after the colon (widely sent).
std::optional<std::string_view> after_keyword(std::string_view argument, std::string_view word) {
  if (!istarts_with(argument, word)) return std::nullopt;
  std::string_view rest = argument.substr(word.size());
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  return rest;
}

bool path_has_utf8(std::string_view text) {
  for (unsigned char c : text)
    if (c >= 128) return true;
  return false;
}

// RFC 3461 4.2/4.4: ENVID and ORCPT values are printable US-ASCII (graphic
// characters and space) once decoded; anything else could carry a command.
bool printable_ascii(std::string_view text) {
  for (unsigned char c : text)
    if (c < 32 || c > 126) return false;
  return true;
}

}  // namespace

Command parse_command(std::string_view line) {
  static constexpr std::array<std::pair<std::string_view, Verb>, 13> kVerbs{{
      {"HELO", Verb::helo},
      {"EHLO", Verb::ehlo},
      {"MAIL", Verb::mail},
      {"RCPT", Verb::rcpt},
      {"DATA", Verb::data},
      {"BDAT", Verb::bdat},
      {"RSET", Verb::rset},
      {"NOOP", Verb::noop},
      {"QUIT", Verb::quit},
      {"VRFY", Verb::vrfy},
      {"EXPN", Verb::expn},
      {"HELP", Verb::help},
      {"STARTTLS", Verb::starttls},
  }};
  std::size_t space = line.find(' ');
  std::string_view word = line.substr(0, space);
  Command command;
  for (const auto& [name, verb] : kVerbs) {
    if (iequals(word, name)) {
      command.verb = verb;
      break;
    }
  }
  if (space != std::string_view::npos) command.argument = line.substr(space + 1);
  return command;
}

bool is_orcpt_type(std::string_view type) {
  if (type.empty() || type.size() > 64) return false;
  for (unsigned char c : type) {
    bool atext = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 std::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) !=
                     std::string_view::npos;
    if (!atext) return false;
  }
  return true;
}

std::optional<std::string> decode_xtext(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char c = text[i];
    if (c < 33 || c > 126 || c == '=') return std::nullopt;
    if (c != '+') {
      out.push_back(static_cast<char>(c));
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    unsigned value = 0;
    auto [end, error] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
    if (error != std::errc() || end != text.data() + i + 3) return std::nullopt;
    out.push_back(static_cast<char>(value));
    i += 2;
  }
  return out;
}

std::variant<MailFrom, ParseFailure> parse_mail_from(std::string_view argument, bool extended,
                                                     std::size_t max_local) {
  auto rest = after_keyword(argument, "FROM:");
  if (!rest) return ParseFailure{501, "5.5.4", "Syntax: MAIL FROM:<address>"};
  // SMTPUTF8 must be known before the path is judged, so peek at parameters.
  std::size_t close = rest->find('>');
  bool utf8_requested = false;
  if (close != std::string_view::npos) {
    for_each_parameter(rest->substr(close + 1), [&](auto key, auto, bool) {
      if (iequals(key, "SMTPUTF8")) utf8_requested = true;
      return std::optional<ParseFailure>();
    });
  }
  PathParse path = parse_path(*rest, /*allow_null=*/true, utf8_requested && extended, max_local);
  if (!path.address || path.postmaster) return path_failure(path, true);
  if (!path.rest.empty() && path.rest.front() != ' ')
    return ParseFailure{501, "5.5.4", "Syntax: MAIL FROM:<address>"};
  MailFrom mail{*path.address};
  if (!extended && !trim(path.rest).empty())
    return ParseFailure{555, "5.5.4", "Parameters need EHLO"};
  auto failure = for_each_parameter(
      path.rest,
      [&](std::string_view key, std::string_view value,
          bool has_value) -> std::optional<ParseFailure> {
        if (iequals(key, "SIZE") && has_value) {
          mail.size = parse_number(value);
          if (!mail.size) return ParseFailure{501, "5.5.4", "Bad SIZE value"};
        } else if (iequals(key, "BODY") && has_value) {
          if (iequals(value, "7BIT")) {
            mail.body = BodyType::seven_bit;
          } else if (iequals(value, "8BITMIME")) {
            mail.body = BodyType::eight_bit_mime;
          } else {
            return ParseFailure{555, "5.5.4", "Unsupported BODY type"};
          }
        } else if (iequals(key, "SMTPUTF8") && !has_value) {
          mail.smtputf8 = true;
        } else if (iequals(key, "RET") && has_value) {
          if (iequals(value, "FULL")) {
            mail.ret = DsnReturn::full;
          } else if (iequals(value, "HDRS")) {
            mail.ret = DsnReturn::headers;
          } else {
            return ParseFailure{501, "5.5.4", "Bad RET value"};
          }
        } else if (iequals(key, "ENVID") && has_value) {
          auto decoded = decode_xtext(value);
          if (!decoded || value.size() > 100 || decoded->empty() || !printable_ascii(*decoded))
            return ParseFailure{501, "5.5.4", "Bad ENVID value"};
          mail.envid = std::move(*decoded);
        } else {
          return unsupported(key);
        }
        return std::nullopt;
      });
  if (failure) return *failure;
  return mail;
}

std::variant<RcptTo, ParseFailure> parse_rcpt_to(std::string_view argument, bool extended,
                                                 bool smtputf8, std::size_t max_local) {
  auto rest = after_keyword(argument, "TO:");
  if (!rest) return ParseFailure{501, "5.5.4", "Syntax: RCPT TO:<address>"};
  PathParse path = parse_path(*rest, /*allow_null=*/false, smtputf8, max_local);
  if (!path.address) {
    if (!smtputf8 && path_has_utf8(*rest)) path.error = PathError::non_ascii;
    return path_failure(path, false);
  }
  if (!path.rest.empty() && path.rest.front() != ' ')
    return ParseFailure{501, "5.5.4", "Syntax: RCPT TO:<address>"};
  RcptTo rcpt{Recipient{*path.address}, path.postmaster};
  if (!extended && !trim(path.rest).empty())
    return ParseFailure{555, "5.5.4", "Parameters need EHLO"};
  auto failure = for_each_parameter(
      path.rest,
      [&](std::string_view key, std::string_view value,
          bool has_value) -> std::optional<ParseFailure> {
        if (iequals(key, "NOTIFY") && has_value) {
          unsigned flags = 0;
          std::string_view list = value;
          while (!list.empty()) {
            std::size_t comma = list.find(',');
            std::string_view item = list.substr(0, comma);
            list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
            if (iequals(item, "NEVER")) {
              flags |= notify_never;
            } else if (iequals(item, "SUCCESS")) {
              flags |= notify_success;
            } else if (iequals(item, "FAILURE")) {
              flags |= notify_failure;
            } else if (iequals(item, "DELAY")) {
              flags |= notify_delay;
            } else {
              return ParseFailure{501, "5.5.4", "Bad NOTIFY value"};
            }
          }
          // NEVER excludes everything else (RFC 3461 4.1).
          if (flags == 0 || ((flags & notify_never) && flags != notify_never))
            return ParseFailure{501, "5.5.4", "Bad NOTIFY value"};
          rcpt.recipient.notify = flags;
        } else if (iequals(key, "ORCPT") && has_value) {
          // orcpt-parameter = "ORCPT=" addr-type ";" xtext; addr-type is an atom.
          std::size_t semicolon = value.find(';');
          if (semicolon == std::string_view::npos || value.size() > 500 ||
              !is_orcpt_type(value.substr(0, semicolon)))
            return ParseFailure{501, "5.5.4", "Bad ORCPT value"};
          auto decoded = decode_xtext(value.substr(semicolon + 1));
          if (!decoded || decoded->empty() || !printable_ascii(*decoded))
            return ParseFailure{501, "5.5.4", "Bad ORCPT value"};
          rcpt.recipient.orcpt = std::string(value.substr(0, semicolon + 1)) + *decoded;
        } else {
          return unsupported(key);
        }
        return std::nullopt;
      });
  if (failure) return *failure;
  return rcpt;
}

std::optional<BdatArgs> parse_bdat(std::string_view argument) {
  argument = trim(argument);
  std::size_t space = argument.find(' ');
  auto size = parse_number(argument.substr(0, space));
  if (!size) return std::nullopt;
  BdatArgs args{*size, false};
  if (space != std::string_view::npos) {
    if (!iequals(trim(argument.substr(space)), "LAST")) return std::nullopt;
    args.last = true;
  }
  return args;
}

}  // namespace bh::smtp
