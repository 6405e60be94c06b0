#include "trace/trace_json.hpp"

#include "trace/time_text.hpp"
#include "util/json_string.hpp"

namespace bh::trace {
namespace {

class Object {
 public:
  explicit Object(std::string& out) : out_(out) { out_ += '{'; }
  ~Object() { out_ += '}'; }
  Object& text(std::string_view key, std::string_view value) {
    name(key);
    append_json_string(out_, value, NotUtf8::replacement);
    return *this;
  }
  Object& number(std::string_view key, std::int64_t value) {
    name(key);
    out_ += std::to_string(value);
    return *this;
  }
  Object& null(std::string_view key) {
    name(key);
    out_ += "null";
    return *this;
  }
  // The caller writes the value.
  std::string& name(std::string_view key) {
    if (!first_) out_ += ',';
    first_ = false;
    append_json_string(out_, key, NotUtf8::replacement);
    out_ += ':';
    return out_;
  }

 private:
  std::string& out_;
  bool first_ = true;
};

void strings(std::string& out, const std::vector<std::string>& values) {
  out += '[';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    append_json_string(out, values[i], NotUtf8::replacement);
  }
  out += ']';
}

void summary_members(Object& o, std::string& out, const MessageSummary& m) {
  o.text("id", m.id)
      .text("node", m.node)
      .text("first_time", format_time_ms(m.first_ms))
      .text("last_time", format_time_ms(m.last_ms))
      .text("sender", m.sender)
      .text("tenant", m.tenant)
      .text("status", m.status)
      .text("subject", m.subject);
  o.name("recipients") += '[';
  for (std::size_t i = 0; i < m.recipients.size(); ++i) {
    if (i > 0) out += ',';
    Object r(out);
    r.text("address", m.recipients[i].address)
        .text("status", m.recipients[i].status)
        .text("connector", m.recipients[i].connector);
  }
  out += ']';
}

void event_json(std::string& out, const TraceEvent& e) {
  Object o(out);
  o.text("time", format_time_ms(e.time_ms))
      .text("node", e.node)
      .text("kind", kind_name(e.kind))
      .text("stage", e.stage);
  if (!e.recipient.empty()) o.text("recipient", e.recipient);
  if (!e.connector.empty()) o.text("connector", e.connector);
  if (e.code != 0) o.number("code", e.code);
  if (!e.enhanced.empty()) o.text("enhanced_code", e.enhanced);
  o.text("detail", e.detail);
  if (e.duration_ms >= 0) o.number("duration_ms", e.duration_ms);
  if (e.kind == Kind::received || e.kind == Kind::refused) o.text("sender", e.sender);
  if (!e.tenant.empty()) o.text("tenant", e.tenant);
  if (!e.subject.empty()) o.text("subject", e.subject);
  if (!e.recipients.empty()) strings(o.name("recipients"), e.recipients);
  std::string& facts = o.name("facts");
  Object f(facts);
  for (const auto& [key, value] : e.facts) f.text(key, value);
}

}  // namespace

std::string page_json(const MessagePage& page) {
  std::string out;
  {
    Object o(out);
    o.name("messages") += '[';
    for (std::size_t i = 0; i < page.messages.size(); ++i) {
      if (i > 0) out += ',';
      Object m(out);
      summary_members(m, out, page.messages[i]);
    }
    out += ']';
    if (page.next.empty())
      o.null("next");
    else
      o.text("next", page.next);
  }
  return out;
}

std::string trace_json(const MessageTrace& trace) {
  std::string out;
  {
    Object o(out);
    summary_members(o, out, trace.summary);
    o.name("events") += '[';
    for (std::size_t i = 0; i < trace.events.size(); ++i) {
      if (i > 0) out += ',';
      event_json(out, trace.events[i]);
    }
    out += ']';
  }
  return out;
}

}  // namespace bh::trace
