// Every limit of the SMTP server in one place, with its documented default
// (docs/configuration.md, section [limits]).
#pragma once

#include <cstddef>

namespace bh {

struct Limits {
  std::size_t command_line = 2048;      // bytes incl. CRLF (Postfix line_length_limit)
  std::size_t text_line = 1000;         // RFC 5321 4.5.3.1.6: 998 + CRLF
  std::size_t header_bytes = 102400;    // Postfix header_size_limit
  std::size_t message_size = 36700160;  // 35 MiB, announced by SIZE
  std::size_t recipients = 1000;        // per transaction (Postfix smtpd_recipient_limit)
  std::size_t local_part = 128;         // octets; RFC 5321 says 64, SRS and VERP senders need more
  std::size_t errors = 10;              // protocol errors before 421 and disconnect
  // For each complete command line, and each line of message text: bytes
  // that trickle in do not extend it (RFC 5321 4.5.3.2.7: 5 minutes).
  unsigned idle_timeout_seconds = 300;
  unsigned session_timeout_seconds = 3600;
  // DATA text and each BDAT chunk, once idle_timeout has passed since it
  // started: bytes received >= min_data_rate x elapsed (Postfix
  // smtpd_min_data_rate); 0: no rate check.
  std::size_t min_data_rate = 500;      // bytes per second
  std::size_t connections = 10000;      // at once, all listeners
  std::size_t connections_per_ip = 50;  // Postfix smtpd_client_connection_count_limit
  // Message text a session holds in memory before it writes the body to the
  // message's spool file (per session; nothing is shared between clients).
  std::size_t content_buffer = 65536;
  // Received: fields a message may carry (Bridgehead's own included); more
  // is a mail loop (Postfix hopcount_limit): 554 5.4.6 at intake.
  std::size_t received_headers = 50;
};

}  // namespace bh
