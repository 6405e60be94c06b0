#include "mail/dsn.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "mail/compose.hpp"
#include "smtp/server/received_header.hpp"
#include "util/host_syntax.hpp"
#include "util/printable.hpp"

namespace bh {
namespace {

// A short success report: the connector asked for one (RecipientResult
// report, success_notice = "report"), or a fax success, which has always
// read so. Every recipient must be one; a mixed DSN keeps the general form.
bool short_report(const DsnRequest& request) {
  return request.kind == DsnKind::success && !request.recipients.empty() &&
         std::all_of(
             request.recipients.begin(), request.recipients.end(),
             [](const DsnRecipient& r) { return r.report || r.diagnostic_type == "x-fax"; });
}

// The subject of a short report, by what the recipients are.
std::string_view report_subject(const DsnRequest& request) {
  auto all = [&](std::string_view type) {
    return std::all_of(request.recipients.begin(), request.recipients.end(),
                       [&](const DsnRecipient& r) { return r.diagnostic_type == type; });
  };
  if (all("x-fax")) return "Your fax was sent";
  if (all("x-smpp")) return "Your SMS was delivered";
  return "Your message was delivered";
}

std::string_view subject_of(DsnKind kind) {
  switch (kind) {
    case DsnKind::failure:
      return "Undelivered Mail Returned to Sender";
    case DsnKind::delay:
      return "Delayed Mail (still being retried)";
    case DsnKind::success:
      return "Successful Mail Delivery Report";
  }
  return "";
}

std::string_view explanation_of(DsnKind kind) {
  switch (kind) {
    case DsnKind::failure:
      return "Your message could not be delivered to one or more recipients.\r\n"
             "It has been returned with this report. The reasons are listed below.";
    case DsnKind::delay:
      return "Your message could not be delivered yet to one or more recipients.\r\n"
             "Delivery will be retried; you do not need to resend it.";
    case DsnKind::success:
      return "Your message was delivered to the recipients listed below.";
  }
  return "";
}

// DSN fields hold printable ASCII; anything else is replaced.
std::string field_text(std::string_view text) {
  std::string out;
  for (unsigned char c : text) out.push_back(c >= 32 && c < 127 ? static_cast<char>(c) : '?');
  return out;
}

// The name after "Remote-MTA: dns;" (RFC 3464 2.3.5): a host name or an
// address literal; a bare IP address becomes one. Anything else (a
// description, a URL) is not written.
std::optional<std::string> remote_mta_name(const std::string& name) {
  if (name.empty()) return std::nullopt;
  if (hostname_problem(name).empty()) return name;
  unsigned char address[sizeof(in6_addr)];
  if (inet_pton(AF_INET, name.c_str(), address) == 1) return "[" + name + "]";
  if (inet_pton(AF_INET6, name.c_str(), address) == 1) return "[IPv6:" + name + "]";
  return std::nullopt;
}

// RFC 3464 2.3.6: "smtp" only for an SMTP peer's reply; our own reasons
// (no peer) and a type that is not an atom are "x-bridgehead".
std::string_view diagnostic_type_of(const DsnRecipient& r) {
  std::string_view type = r.diagnostic_type;
  bool atom =
      !type.empty() && type.size() <= 40 && std::all_of(type.begin(), type.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
      });
  if (!atom || (type == "smtp" && r.remote_mta.empty())) return "x-bridgehead";
  return type;
}

// The human-readable part in UTF-8 (before encoding); attached: a line
// for each attachment.
std::string human_text(const DsnRequest& request, const std::vector<std::string>& attached) {
  std::string out;
  auto add = [&out](std::string_view line) {
    out += line;
    out += "\r\n";
  };
  if (short_report(request)) {
    // "Your fax to +49 30 123456 was sent: 3 of 3 pages, remote station ...",
    // "Your SMS to +49 170 1234567 was delivered (2 parts)."
    for (const DsnRecipient& r : request.recipients)
      if (r.diagnostic.empty())
        add(fmt::format("Your message to {} was delivered.",
                        printable(r.recipient.address.text())));
      else
        add(fmt::format("Your {}.", printable(r.diagnostic)));
    for (const std::string& line : attached) add(line);
    add("");
    add(fmt::format("This report is from the mail system at host {}; the details for",
                    request.reporting_host));
    add("programs follow in the next part.");
    return out;
  }
  add(fmt::format("This is the mail system at host {}.", request.reporting_host));
  add("");
  add(explanation_of(request.kind));
  add("");
  for (const DsnRecipient& r : request.recipients)
    add(fmt::format("<{}>: {}", printable(r.recipient.address.text()), printable(r.diagnostic)));
  if (!attached.empty()) add("");
  for (const std::string& line : attached) add(line);
  return out;
}

// The attachments a report carries: success reports only.
// A boundary of fixed length (22 characters, within RFC 2046's 70 however
// long the queue id and host name): "=_bh_", the part (r: the report, m:
// its human-readable mixed part; neither is a prefix of the other) and 16
// hex digits of FNV-1a over the DSN's queue id and host, unique per DSN.
// Its "=_" cannot occur in the base64 and quoted-printable parts.
std::string dsn_boundary(std::string_view queue_id, std::string_view host, char part) {
  std::uint64_t hash = 14695981039346656037ull;
  auto mix = [&hash](std::string_view text) {
    for (unsigned char c : text) {
      hash ^= c;
      hash *= 1099511628211ull;
    }
  };
  mix(queue_id);
  mix("/");
  mix(host);
  return fmt::format("=_bh_{}{:016x}", part, hash);
}

// Only in a success report, and not when the sender asked for headers only.
bool with_attachments(const DsnRequest& request) {
  return request.kind == DsnKind::success && !request.attachments.empty() &&
         request.original->ret != DsnReturn::headers;
}

// A MIME type the attachment may name: "type/subtype" of token characters.
std::string content_type_of(const DsnAttachment& a) {
  auto token = [](std::string_view t) {
    return !t.empty() && t.size() <= 64 && std::all_of(t.begin(), t.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.';
    });
  };
  std::string_view type = a.content_type;
  std::size_t slash = type.find('/');
  if (slash == std::string_view::npos || !token(type.substr(0, slash)) ||
      !token(type.substr(slash + 1)))
    return "application/octet-stream";
  return std::string(type);
}

// A file name safe in a quoted parameter and on any client's disk; the
// second "page1.png" of a report is "page1-2.png".
std::string filename_of(const DsnAttachment& a, std::size_t index, std::vector<std::string>& used) {
  std::string name;
  for (char c : a.filename.substr(0, 64))
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')
      name.push_back(c);
  if (name.empty() || name.front() == '.') name = "attachment" + std::to_string(index + 1);
  std::string unique = name;
  for (int n = 2; std::find(used.begin(), used.end(), unique) != used.end(); ++n) {
    std::size_t dot = name.rfind('.');
    unique = dot == std::string::npos || dot == 0
                 ? fmt::format("{}-{}", name, n)
                 : fmt::format("{}-{}{}", name.substr(0, dot), n, name.substr(dot));
  }
  used.push_back(unique);
  return unique;
}

std::string original_header(std::string_view content) {
  std::size_t end = content.find("\r\n\r\n");
  return std::string(end == std::string_view::npos ? content : content.substr(0, end + 2));
}

}  // namespace

bool dsn_wanted(const Recipient& recipient, DsnKind kind) {
  unsigned notify = recipient.notify;
  if (notify & notify_never) return false;
  if (notify == 0) return kind != DsnKind::success;
  switch (kind) {
    case DsnKind::failure:
      return notify & notify_failure;
    case DsnKind::delay:
      return notify & notify_delay;
    case DsnKind::success:
      return notify & notify_success;
  }
  return false;
}

Envelope dsn_envelope(const DsnRequest& request, const std::string& dsn_queue_id) {
  Envelope envelope;
  envelope.queue_id = dsn_queue_id;
  envelope.arrival = request.now;
  envelope.sender = Address{};  // null sender: a DSN is never bounced back
  envelope.recipients.push_back(Recipient{request.original->sender, notify_never, ""});
  envelope.body = BodyType::eight_bit_mime;
  envelope.smtputf8 = request.original->smtputf8;
  envelope.client.ip = "127.0.0.1";
  envelope.client.helo = request.reporting_host;
  return envelope;
}

std::string build_dsn(const DsnRequest& request, const std::string& dsn_queue_id) {
  const Envelope& original = *request.original;
  std::string boundary = dsn_boundary(dsn_queue_id, request.reporting_host, 'r');
  std::string date = smtp::rfc5322_date(request.now);
  std::string out;
  auto add = [&out](std::string_view text) {
    out += text;
    out += "\r\n";
  };

  add(fmt::format("From: MAILER-DAEMON@{} (Mail Delivery System)", request.reporting_host));
  add(fmt::format("To: <{}>", original.sender.text()));
  add(fmt::format("Subject: {}",
                  short_report(request) ? report_subject(request) : subject_of(request.kind)));
  add(fmt::format("Date: {}", date));
  add(fmt::format("Message-ID: <{}.dsn@{}>", dsn_queue_id, request.reporting_host));
  add("Auto-Submitted: auto-replied");
  add("MIME-Version: 1.0");
  add(
      fmt::format("Content-Type: multipart/report; report-type=delivery-status;\r\n"
                  "\tboundary=\"{}\"",
                  boundary));
  add("");
  add("This is a MIME-encapsulated message.");
  add("");

  add("--" + boundary);
  std::vector<std::string> filenames, attached;
  if (with_attachments(request))
    for (std::size_t i = 0; i < request.attachments.size(); ++i) {
      const DsnAttachment& a = request.attachments[i];
      std::string line = "Attached: " + filename_of(a, i, filenames);
      std::string description = sanitise_untrusted(a.description, 200);
      attached.push_back(description.empty() ? line : line + ", " + description + ".");
    }
  std::string text = human_text(request, attached);
  auto text_part = [&] {
    add("Content-Type: text/plain; charset=utf-8");
    add("Content-Transfer-Encoding: quoted-printable");
    add("");
    out += quoted_printable(text);
    add("");
  };
  if (!with_attachments(request)) {
    text_part();
  } else {
    std::string inner = dsn_boundary(dsn_queue_id, request.reporting_host, 'm');
    add(fmt::format("Content-Type: multipart/mixed;\r\n\tboundary=\"{}\"", inner));
    add("");
    add("--" + inner);
    text_part();
    for (std::size_t i = 0; i < request.attachments.size(); ++i) {
      const DsnAttachment& a = request.attachments[i];
      add("--" + inner);
      add(fmt::format("Content-Type: {};\r\n\tname=\"{}\"", content_type_of(a), filenames[i]));
      add(fmt::format("Content-Disposition: inline;\r\n\tfilename=\"{}\"", filenames[i]));
      if (std::string description = sanitise_untrusted(a.description, 200); !description.empty())
        add("Content-Description: " +
            encode_header_text(description, std::string_view("Content-Description: ").size()));
      add("Content-Transfer-Encoding: base64");
      add("");
      out += base64_lines(a.bytes);
    }
    add("--" + inner + "--");
    add("");
  }

  add("--" + boundary);
  add("Content-Type: message/delivery-status");
  add("");
  add(fmt::format("Reporting-MTA: dns; {}", request.reporting_host));
  add(fmt::format("X-Bridgehead-Queue-ID: {}", original.queue_id));
  if (!original.envid.empty())
    add(fmt::format("Original-Envelope-Id: {}", field_text(original.envid)));
  add(fmt::format("Arrival-Date: {}", smtp::rfc5322_date(original.arrival)));
  for (const DsnRecipient& r : request.recipients) {
    add("");
    add(fmt::format("Final-Recipient: rfc822; {}", field_text(r.recipient.address.text())));
    if (!r.recipient.orcpt.empty()) {
      std::string_view orcpt = r.recipient.orcpt;
      std::size_t semicolon = orcpt.find(';');
      add(fmt::format("Original-Recipient: {}; {}", field_text(orcpt.substr(0, semicolon)),
                      field_text(orcpt.substr(semicolon + 1))));
    }
    add(fmt::format("Action: {}", r.action));
    add(fmt::format("Status: {}", r.status));
    if (std::optional<std::string> mta = remote_mta_name(r.remote_mta))
      add(fmt::format("Remote-MTA: dns; {}", *mta));
    if (!r.diagnostic.empty())
      add(fmt::format("Diagnostic-Code: {}; {}", diagnostic_type_of(r), field_text(r.diagnostic)));
    add(fmt::format("Last-Attempt-Date: {}", date));
    if (request.kind == DsnKind::delay && request.will_retry_until > 0)
      add(fmt::format("Will-Retry-Until: {}", smtp::rfc5322_date(request.will_retry_until)));
  }
  add("");

  add("--" + boundary);
  bool full = original.ret != DsnReturn::headers &&
              request.original_content.size() <= request.return_limit &&
              request.kind == DsnKind::failure;
  if (full) {
    add("Content-Type: message/rfc822");
    add("");
    out += request.original_content;
    if (!request.original_content.ends_with("\r\n")) out += "\r\n";
  } else {
    add("Content-Type: text/rfc822-headers");
    add("");
    out += original_header(request.original_content);
  }
  add("");
  add("--" + boundary + "--");
  return out;
}

}  // namespace bh
