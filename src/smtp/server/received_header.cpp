#include "smtp/server/received_header.hpp"
#include "util/clock.hpp"

#include <ctime>

#include <fmt/format.h>

namespace bh::smtp {

std::string rfc5322_date(std::int64_t unix_seconds) {
  return utc_format(unix_seconds, "%a, %d %b %Y %H:%M:%S +0000");
}

std::string received_header(const Envelope& envelope, const std::string& hostname, bool extended) {
  const ClientInfo& client = envelope.client;
  bool tls = !client.tls_version.empty();
  std::string protocol = envelope.smtputf8 ? "UTF8SMTP" : (extended ? "ESMTP" : "SMTP");
  if (tls) protocol += "S";
  std::string header = fmt::format("Received: from {} ([{}])\r\n", client.helo, client.ip);
  if (tls) {
    header += fmt::format("\t(using {} with cipher {})\r\n", client.tls_version, client.tls_cipher);
  }
  header +=
      fmt::format("\tby {} (Bridgehead) with {} id {}", hostname, protocol, envelope.queue_id);
  if (envelope.recipients.size() == 1) {
    header += fmt::format("\r\n\tfor {}", envelope.recipients.front().address.path());
  }
  header += fmt::format("; {}\r\n", rfc5322_date(envelope.arrival));
  return header;
}

}  // namespace bh::smtp
