#include "connectors/webhook/response.hpp"

#include <fmt/format.h>

#include "connectors/webhook/json.hpp"
#include "util/printable.hpp"

namespace bh::connectors::webhook {
namespace {

std::string status_line(const HttpAnswer& answer) {
  std::string reason = excerpt(answer.reason, 80);
  return reason.empty() ? std::to_string(answer.status)
                        : fmt::format("{} {}", answer.status, reason);
}

std::string with_body(const HttpAnswer& answer) {
  std::string text = "webhook said: " + status_line(answer);
  if (std::string body = excerpt(answer.body); !body.empty()) text += ": " + body;
  return text;
}

// The reference in a 202's {"id": "..."}, or "" when there is none usable.
std::string reference_in(std::string_view body) {
  auto parsed = parse_json(body);
  if (!parsed) return {};
  const JsonValue* id = parsed->member("id");
  const std::string* text = id ? id->as_string() : nullptr;
  return text && valid_reference(*text) ? *text : std::string();
}

}  // namespace

std::string excerpt(std::string_view text, std::size_t max) {
  bool cut = text.size() > max;
  if (cut) text = text.substr(0, max);
  std::string collapsed;
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = true;
      continue;
    }
    if (space && !collapsed.empty()) collapsed.push_back(' ');
    space = false;
    collapsed.push_back(c);
  }
  std::string out = printable(collapsed);
  if (cut) out += "...";
  return out;
}

bool valid_reference(std::string_view reference) {
  if (reference.empty() || reference.size() > 200) return false;
  for (char c : reference)
    if (c < 0x21 || c > 0x7E) return false;
  return true;
}

RecipientResult classify_answer(const HttpAnswer& answer, bool pending_possible,
                                std::string_view host) {
  RecipientResult r;
  r.remote_mta = std::string(host);
  r.diagnostic_type = "x-http";  // an HTTP answer, not an SMTP reply (RFC 3464 2.3.6)
  unsigned s = answer.status;
  if (s >= 200 && s <= 299) {
    if (s == 202 && pending_possible) {
      if (std::string reference = reference_in(answer.body); !reference.empty()) {
        r.outcome = Outcome::pending;
        r.status = "2.0.0";
        r.diagnostic = "webhook said: " + status_line(answer) + "; waiting for its callback";
        r.reference = std::move(reference);
        return r;
      }
    }
    // The foreign system has it and will not report further.
    r.outcome = Outcome::delivered;
    r.status = "2.0.0";
    r.diagnostic = "webhook said: " + status_line(answer);
    r.success_action = "relayed";
    return r;
  }
  // 408 (it timed out waiting for us) and 429 (too many requests) ask for
  // a retry like a 5xx; every other 4xx refuses this message for good.
  if (s >= 400 && s <= 499 && s != 408 && s != 429) {
    r.outcome = Outcome::bounced;
    r.status = "5.0.0";
    r.diagnostic = with_body(answer);
    return r;
  }
  r.outcome = Outcome::deferred;
  r.status = "4.0.0";
  r.diagnostic = with_body(answer);
  if (s >= 300 && s <= 399) r.diagnostic += " (redirects are not followed: check the url)";
  return r;
}

}  // namespace bh::connectors::webhook
