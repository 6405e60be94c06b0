// What travels with a message besides its content: sender, recipients, DSN
// requests (RFC 3461) and where it came from.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mail/address.hpp"

namespace bh {

enum class BodyType { unspecified, seven_bit, eight_bit_mime };
enum class DsnReturn { unspecified, full, headers };

// RFC 3461 NOTIFY as bit flags; 0 means "not given" (the default applies).
enum NotifyFlags : unsigned {
  notify_never = 1,
  notify_success = 2,
  notify_failure = 4,
  notify_delay = 8,
};

struct Recipient {
  Address address;
  unsigned notify = 0;
  std::string orcpt;  // "rfc822;user@example" as sent (xtext-decoded)
  // The connector a transport rule chose at intake (or the one a pending
  // result waits at); empty: the routing table decides at each attempt.
  std::string connector;
  // Pending at a foreign system (connectors/connector.hpp): its reference,
  // and when the connector gives up waiting for the report (unix seconds).
  std::string pending_reference;
  std::int64_t pending_deadline = 0;
};

// What the receiving session knew about its client.
struct ClientInfo {
  std::string ip;
  std::uint16_t port = 0;
  std::string helo;
  std::string tls_version;  // empty: no TLS
  std::string tls_cipher;
  std::string cert_subject;  // client certificate subject (RFC 2253), empty: none
  std::string cert_fingerprint;
  bool cert_verified = false;
  // Known to the session only (not stored in the queue file):
  std::string cert_common_name;
  std::vector<std::string> cert_dns_names;
  std::vector<std::string> cert_verified_by;  // inbound connectors' CA bundles that verify it
  std::string inbound_connector;              // the connector the connection was identified as
};

struct Envelope {
  std::string queue_id;
  std::int64_t arrival = 0;  // unix seconds
  Address sender;            // null Address = "<>"
  std::vector<Recipient> recipients;
  BodyType body = BodyType::unspecified;
  bool smtputf8 = false;
  DsnReturn ret = DsnReturn::unspecified;
  std::string envid;  // xtext-decoded
  ClientInfo client;
  bool delay_warned = false;  // a delay DSN went out already (sent once)
  std::string tenant;         // verified (or directory) tenant id, when known
  // Bumped by every rewrite of the queue file; the done log's records name
  // the generation they belong to (queue/done_log.hpp).
  std::uint32_t generation = 0;
};

}  // namespace bh
