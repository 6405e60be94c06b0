#include "queue/spool_format.hpp"

#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "queue/checksum.hpp"

namespace bh::queue {
namespace {

constexpr std::string_view kMagic = "BRIDGEHEAD-QUEUE 1\n";  // read, never written now

}  // namespace

std::string encode_field(std::string_view value) {
  if (value.empty()) return "-";
  if (value == "-") return "%2D";
  std::string out;
  for (unsigned char c : value) {
    if (c <= ' ' || c == '%' || c >= 127) {
      out += fmt::format("%{:02X}", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::optional<std::string> decode_field(std::string_view value) {
  if (value == "-") return std::string();
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '%') {
      out.push_back(value[i]);
      continue;
    }
    if (i + 2 >= value.size()) return std::nullopt;
    unsigned byte = 0;
    auto [end, error] = std::from_chars(value.data() + i + 1, value.data() + i + 3, byte, 16);
    if (error != std::errc() || end != value.data() + i + 3) return std::nullopt;
    out.push_back(static_cast<char>(byte));
    i += 2;
  }
  return out;
}

namespace {

std::string encode(std::string_view value) {
  return encode_field(value);
}

std::optional<std::string> decode(std::string_view value) {
  return decode_field(value);
}

template <typename Number>
bool parse_number(std::string_view text, Number& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

std::string address_text(const Address& address) {
  return address.null() ? "<>" : address.text();
}

Address address_from(std::string_view text) {
  if (text == "<>") return {};
  std::size_t at = text.rfind('@');
  if (at == std::string_view::npos) return Address{std::string(text), ""};
  return Address{std::string(text.substr(0, at)), std::string(text.substr(at + 1))};
}

std::string_view body_name(BodyType body) {
  switch (body) {
    case BodyType::seven_bit:
      return "7BIT";
    case BodyType::eight_bit_mime:
      return "8BITMIME";
    default:
      return "-";
  }
}

std::string_view ret_name(DsnReturn ret) {
  switch (ret) {
    case DsnReturn::full:
      return "FULL";
    case DsnReturn::headers:
      return "HDRS";
    default:
      return "-";
  }
}

// Splits off the next space-separated field.
std::string_view next_field(std::string_view& text) {
  std::size_t space = text.find(' ');
  std::string_view field = text.substr(0, space);
  text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
  return field;
}

}  // namespace

namespace {

// The envelope as records, one per line, without the content line.
std::string envelope_records(const Envelope& e) {
  std::string out;
  auto line = [&out](std::string_view key, std::string_view value) {
    out += key;
    out += ' ';
    out += value;
    out += '\n';
  };
  line("id", e.queue_id);
  line("arrival", std::to_string(e.arrival));
  line("sender", encode(address_text(e.sender)));
  line("body", body_name(e.body));
  line("smtputf8", e.smtputf8 ? "1" : "0");
  line("ret", ret_name(e.ret));
  line("envid", encode(e.envid));
  line("client-ip", encode(e.client.ip));
  line("client-port", std::to_string(e.client.port));
  line("helo", encode(e.client.helo));
  line("tls-version", encode(e.client.tls_version));
  line("tls-cipher", encode(e.client.tls_cipher));
  line("cert-subject", encode(e.client.cert_subject));
  line("cert-fingerprint", encode(e.client.cert_fingerprint));
  line("cert-verified", e.client.cert_verified ? "1" : "0");
  if (e.delay_warned) line("delay-warned", "1");
  if (e.generation > 0) line("generation", std::to_string(e.generation));
  line("connector", encode(e.client.inbound_connector));
  line("tenant", encode(e.tenant));
  for (const Recipient& r : e.recipients) {
    line("rcpt", fmt::format("{} {} {}", encode(r.address.text()), r.notify, encode(r.orcpt)));
    if (!r.connector.empty()) line("rcpt-connector", encode(r.connector));
    if (!r.pending_reference.empty())
      line("rcpt-pending", fmt::format("{} {}", encode(r.pending_reference), r.pending_deadline));
  }
  return out;
}

}  // namespace

std::string serialize_envelope(const Envelope& e, std::size_t content_size) {
  return std::string(kMagic) + envelope_records(e) + fmt::format("content {}\n", content_size);
}

std::string end_record(std::string_view head, std::string_view content) {
  return fmt::format("\nend {} {:016x}\n", content.size(), checksum(content, checksum(head)));
}

std::string queue_file_tail(const Envelope& envelope, std::string_view header,
                            std::size_t body_size, StreamChecksum& sum) {
  std::string tail(header);
  tail += envelope_records(envelope);
  tail += fmt::format("header-size {}\ncontent {}\n", header.size(), header.size() + body_size);
  sum.update(tail);
  tail += fmt::format("end {} {:016x}\n", header.size() + body_size, sum.value());
  return tail;
}

std::string format_queue_file(const Envelope& envelope, std::string_view content) {
  StreamChecksum sum;
  std::string file(kQueueMagic);
  file += content;
  sum.update(file);
  file += queue_file_tail(envelope, {}, content.size(), sum);
  return file;
}

namespace {

// Reads records up to and including "content N"; rest is left after it.
Result<Envelope> parse_records(std::string_view& rest, std::size_t* content_size,
                               std::size_t* header_size) {
  Envelope e;
  while (true) {
    std::size_t newline = rest.find('\n');
    if (newline == std::string_view::npos) return Error{"truncated envelope"};
    std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline + 1);
    std::string_view key = next_field(line);
    bool good = true;
    auto text = [&](std::string& field) {
      auto decoded = decode(line);
      if (decoded) field = std::move(*decoded);
      good = decoded.has_value();
    };
    if (key == "id") {
      e.queue_id = std::string(line);
    } else if (key == "arrival") {
      good = parse_number(line, e.arrival);
    } else if (key == "sender") {
      std::string sender;
      text(sender);
      e.sender = address_from(sender);
    } else if (key == "body") {
      e.body = line == "7BIT"       ? BodyType::seven_bit
               : line == "8BITMIME" ? BodyType::eight_bit_mime
                                    : BodyType::unspecified;
    } else if (key == "smtputf8") {
      e.smtputf8 = line == "1";
    } else if (key == "ret") {
      e.ret = line == "FULL"   ? DsnReturn::full
              : line == "HDRS" ? DsnReturn::headers
                               : DsnReturn::unspecified;
    } else if (key == "envid") {
      text(e.envid);
    } else if (key == "client-ip") {
      text(e.client.ip);
    } else if (key == "client-port") {
      good = parse_number(line, e.client.port);
    } else if (key == "helo") {
      text(e.client.helo);
    } else if (key == "tls-version") {
      text(e.client.tls_version);
    } else if (key == "tls-cipher") {
      text(e.client.tls_cipher);
    } else if (key == "cert-subject") {
      text(e.client.cert_subject);
    } else if (key == "cert-fingerprint") {
      text(e.client.cert_fingerprint);
    } else if (key == "cert-verified") {
      e.client.cert_verified = line == "1";
    } else if (key == "connector") {
      text(e.client.inbound_connector);
    } else if (key == "tenant") {
      text(e.tenant);
    } else if (key == "delay-warned") {
      e.delay_warned = line == "1";
    } else if (key == "generation") {
      good = parse_number(line, e.generation);
    } else if (key == "rcpt") {
      Recipient r;
      auto address = decode(next_field(line));
      good = parse_number(next_field(line), r.notify);
      auto orcpt = decode(line);
      good = good && address && orcpt;
      if (good) {
        r.address = address_from(*address);
        r.orcpt = std::move(*orcpt);
        e.recipients.push_back(std::move(r));
      }
    } else if (key == "rcpt-connector") {  // the route intake chose for the last rcpt
      if (e.recipients.empty()) return Error{"rcpt-connector before any rcpt"};
      text(e.recipients.back().connector);
    } else if (key == "rcpt-pending") {  // the last rcpt waits for a report
      if (e.recipients.empty()) return Error{"rcpt-pending before any rcpt"};
      Recipient& r = e.recipients.back();
      auto reference = decode(next_field(line));
      good = reference && !reference->empty() && parse_number(line, r.pending_deadline);
      if (good) r.pending_reference = std::move(*reference);
    } else if (key == "header-size") {
      good = parse_number(line, *header_size);
    } else if (key == "content") {
      if (!parse_number(line, *content_size)) return Error{"bad content length"};
      break;
    } else {
      return Error{fmt::format("unknown record '{}'", key)};
    }
    if (!good) return Error{fmt::format("bad value in record '{}'", key)};
  }
  if (e.queue_id.empty()) return Error{"no queue id"};
  return e;
}

// Format 2: magic | body | header | records | "end N HASH\n".
struct Layout2 {
  std::size_t content = 0, header = 0;
  std::string_view records;  // through the content line
  std::uint64_t hash = 0;
  std::size_t hashed = 0;  // bytes before the end record
};

Result<Layout2> find_layout2(std::string_view bytes) {
  if (bytes.size() < kQueueMagic.size() + 2 || bytes.back() != '\n')
    return Error{"missing end record"};
  std::size_t start = bytes.rfind('\n', bytes.size() - 2);
  if (start == std::string_view::npos || start + 1 < kQueueMagic.size())
    return Error{"missing end record"};
  std::string_view end_line = bytes.substr(start + 1, bytes.size() - start - 2);
  if (next_field(end_line) != "end") return Error{"missing or damaged end record"};
  Layout2 layout;
  if (!parse_number(next_field(end_line), layout.content) || end_line.size() != 16)
    return Error{"missing or damaged end record"};
  auto [end, error] = std::from_chars(end_line.data(), end_line.data() + 16, layout.hash, 16);
  if (error != std::errc() || end != end_line.data() + 16)
    return Error{"missing or damaged end record"};
  layout.hashed = start + 1;
  if (layout.content > layout.hashed - kQueueMagic.size()) return Error{"truncated content"};
  layout.records = bytes.substr(kQueueMagic.size() + layout.content,
                                layout.hashed - kQueueMagic.size() - layout.content);
  return layout;
}

Result<Envelope> parse_envelope2(std::string_view bytes, Layout2& layout) {
  auto found = find_layout2(bytes);
  if (!found) return found.error();
  layout = *found;
  std::string_view rest = layout.records;
  std::size_t content_size = 0;
  auto envelope = parse_records(rest, &content_size, &layout.header);
  if (!envelope) return envelope.error();
  if (!rest.empty() || content_size != layout.content || layout.header > layout.content)
    return Error{"envelope does not match the end record"};
  return envelope;
}

}  // namespace

Result<Envelope> parse_envelope_only(std::string_view bytes, std::size_t* content_size) {
  if (bytes.starts_with(kQueueMagic)) {
    Layout2 layout;
    auto envelope = parse_envelope2(bytes, layout);
    if (envelope) *content_size = layout.content;
    return envelope;
  }
  if (!bytes.starts_with(kMagic)) return Error{"not a Bridgehead queue file"};
  std::string_view rest = bytes.substr(kMagic.size());
  std::size_t header_size = 0;
  return parse_records(rest, content_size, &header_size);
}

Result<QueuedMessage> parse_queue_file(std::string_view bytes) {
  if (bytes.starts_with(kQueueMagic)) {
    Layout2 layout;
    auto envelope = parse_envelope2(bytes, layout);
    if (!envelope) return envelope.error();
    StreamChecksum sum;
    sum.update(bytes.substr(0, layout.hashed));
    if (sum.value() != layout.hash) return Error{"missing or damaged end record"};
    std::size_t body = layout.content - layout.header;
    std::string content;
    content.reserve(layout.content);
    content += bytes.substr(kQueueMagic.size() + body, layout.header);
    content += bytes.substr(kQueueMagic.size(), body);
    return QueuedMessage{std::move(*envelope), std::move(content)};
  }
  std::size_t content_size = 0;
  auto envelope = parse_envelope_only(bytes, &content_size);
  if (!envelope) return envelope.error();
  std::size_t head_size = bytes.find("\ncontent ");
  head_size = bytes.find('\n', head_size + 1) + 1;
  if (bytes.size() < head_size + content_size) return Error{"truncated content"};
  std::string_view head = bytes.substr(0, head_size);
  std::string_view content = bytes.substr(head_size, content_size);
  std::string_view trailer = bytes.substr(head_size + content_size);
  if (trailer != end_record(head, content)) return Error{"missing or damaged end record"};
  return QueuedMessage{std::move(*envelope), std::string(content)};
}

}  // namespace bh::queue
