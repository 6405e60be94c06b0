// The trust decisions of the SMTP server, as pure functions of typed
// inputs (peer facts, envelope, header block, directory view): which
// inbound connector a connection is, whether a recipient may be used from
// it, and at end of DATA which tenant sent the message and whether the
// sender may use the services it addresses. See docs/inbound-trust.md.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "directory/directory.hpp"
#include "mail/envelope.hpp"
#include "mail/header_block.hpp"
#include "policy/routes.hpp"
#include "policy/trust_config.hpp"

namespace bh {

struct Verdict {
  bool accepted = true;
  int code = 250;
  std::string enhanced;
  std::string reply;   // the text the client sees
  std::string reason;  // for the log: may name more than the client is told

  static Verdict accept(std::string reason = {}) { return {true, 250, "", "", std::move(reason)}; }
  static Verdict refuse(int code, std::string enhanced, std::string reply,
                        std::string reason = {}) {
    std::string why = reason.empty() ? reply : reason;
    return {false, code, std::move(enhanced), std::move(reply), std::move(why)};
  }
};

// What is known of the client when the decisions are made.
struct PeerFacts {
  std::optional<IpAddress> ip;
  bool tls = false;
  bool cert_verified = false;                 // against the listener's tls.client_ca_file
  std::vector<std::string> cert_verified_by;  // inbound connectors' ca_file bundles that verify it
  std::string cert_common_name;
  std::vector<std::string> cert_dns_names;
};

struct DataDecision {
  Verdict verdict;
  bool discard = false;  // accept with 250, but do not queue (connector validation probe)
  std::string tenant;    // the verified or directory tenant, when known
  std::vector<std::string> removed_headers;
};

class TrustPolicy {
 public:
  TrustPolicy(TrustConfig config, const RoutingTable& routes,
              const directory::DirectoryView* directory)
      : config_(std::move(config)), routes_(routes), directory_(directory) {}

  const TrustConfig& config() const { return config_; }

  // At connect: the listener's access lists.
  Verdict on_connect(const PeerFacts& peer) const;
  // At the first MAIL FROM: the inbound connector the connection is (or none).
  const InboundConnector* identify(const PeerFacts& peer) const;
  // Whether the connection is a certificate-verified Microsoft 365 connector.
  bool verified_microsoft365(const InboundConnector* connector, const PeerFacts& peer) const;
  Verdict on_mail(const InboundConnector* connector, const PeerFacts& peer) const;
  Verdict on_rcpt(const InboundConnector* connector, const PeerFacts& peer, const Address& sender,
                  const Recipient& recipient) const;
  // The services a message's recipients are routed to, once its tenant is
  // known ("" for mail without a verified tenant): the intake routes them
  // (transport rules, tenant-scoped routes).
  using ServicesOf = std::function<std::set<std::string>(const std::string& tenant)>;
  // May change content (removes untrusted headers). Without services_for,
  // the services of the recipients' unscoped routes.
  DataDecision on_data(const InboundConnector* connector, const PeerFacts& peer,
                       const Envelope& envelope, std::string& content,
                       const ServicesOf& services_for = {}) const;

  // The services the recipients' unscoped routes lead to.
  std::set<std::string> services_of(const Envelope& envelope) const;

 private:
  bool blocked(const PeerFacts& peer) const;
  bool matches(const InboundConnector& connector, const PeerFacts& peer) const;
  // The tenant: its [[tenant]] (the configured domains, authoritative), or,
  // when directory_tenants allows it, as pushed into the directory; nullopt
  // when neither, or (unavailable set) when the directory cannot answer.
  std::optional<Tenant> known_tenant(const std::string& id, bool directory_tenants,
                                     std::string& unavailable) const;
  // directory_tenants: whether a tenant known only from the directory
  // counts (the connector's directory_tenants, or a tenant the Microsoft 365
  // connector accepted already).
  Verdict check_sender(const std::string& tenant_id, bool directory_tenants,
                       const Envelope& envelope, const HeaderBlock& header,
                       const std::set<std::string>& services) const;

  TrustConfig config_;
  const RoutingTable& routes_;
  const directory::DirectoryView* directory_;
};

// X-MS-Exchange-CrossTenant-Id: 8-4-4-4-12 hex digits.
bool is_tenant_guid(std::string_view text);

}  // namespace bh
