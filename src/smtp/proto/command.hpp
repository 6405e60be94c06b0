// SMTP command lines (RFC 5321 4.1) parsed into typed values. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "mail/envelope.hpp"

namespace bh::smtp {

enum class Verb {
  helo,
  ehlo,
  mail,
  rcpt,
  data,
  bdat,
  rset,
  noop,
  quit,
  vrfy,
  expn,
  help,
  starttls,
  unknown
};

struct Command {
  Verb verb = Verb::unknown;
  std::string_view argument;  // text after the verb and one space, untrimmed at the end
};

// line excludes the CRLF.
Command parse_command(std::string_view line);

// A failed parse carries the reply that tells the client why.
struct ParseFailure {
  int code;
  std::string_view enhanced;
  std::string text;
};

struct MailFrom {
  Address sender;
  std::optional<std::uint64_t> size;
  BodyType body = BodyType::unspecified;
  bool smtputf8 = false;
  DsnReturn ret = DsnReturn::unspecified;
  std::string envid;
};

struct RcptTo {
  Recipient recipient;
  bool postmaster = false;  // "<Postmaster>" without a domain: the session picks the address
};

// extended: the session began with EHLO (parameters are only allowed then).
// max_local: the longest local part accepted (limits.local_part).
std::variant<MailFrom, ParseFailure> parse_mail_from(std::string_view argument, bool extended,
                                                     std::size_t max_local = 64);
std::variant<RcptTo, ParseFailure> parse_rcpt_to(std::string_view argument, bool extended,
                                                 bool smtputf8, std::size_t max_local = 64);

struct BdatArgs {
  std::uint64_t size = 0;
  bool last = false;
};
std::optional<BdatArgs> parse_bdat(std::string_view argument);

// RFC 3461 4.2: the addr-type of ORCPT ("rfc822"), an RFC 5322 atom.
bool is_orcpt_type(std::string_view type);

// RFC 3461 4: xtext ("+" followed by two upper-case hex digits).
std::optional<std::string> decode_xtext(std::string_view text);

}  // namespace bh::smtp
