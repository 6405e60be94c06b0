// The typed configuration the trust decisions work on: listener access
// lists, inbound connectors, tenants, and which route leads to which
// service. Pure data.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "policy/ip_range.hpp"

namespace bh {

enum class ConnectorKind { microsoft365, partner, internal };

struct InboundConnector {
  std::string name;
  ConnectorKind kind = ConnectorKind::partner;
  std::vector<std::string> certificate_names;  // CN or DNS SAN; leading "*." allowed
  std::string ca_file;  // the bundle the chain must verify against; empty: tls.client_ca_file
  std::vector<IpRange> ip_ranges;
  bool require_tls = false;
  std::vector<std::string> tenants;  // lower-case GUIDs
  // Also accepts every tenant pushed into the directory (onboarding through
  // the admin API without a config change).
  bool directory_tenants = false;
  std::vector<std::string> services;  // e.g. "fax", "sms"
  bool allow_internet_mail = false;
  std::vector<std::string> restrict_sender_domains;  // "*" or domains, lower case
};

// Whose directory entry must hold the service permission: the envelope
// sender and the From: mailbox (default), or the envelope sender only.
enum class SenderCheck { envelope_and_from, envelope };

struct Tenant {
  std::string id;  // lower-case GUID
  std::string name;
  std::vector<std::string> domains;  // lower case
  bool check_originator_org = false;
  SenderCheck sender_check = SenderCheck::envelope_and_from;
};

enum class BlockAt { connect, rcpt };

struct AccessLists {
  std::vector<IpRange> allow;
  std::vector<IpRange> block;
  BlockAt block_at = BlockAt::connect;
};

struct TrustConfig {
  AccessLists access;
  std::vector<InboundConnector> connectors;
  std::vector<Tenant> tenants;

  const InboundConnector* connector(const std::string& name) const;
  const Tenant* tenant(const std::string& id) const;
};

std::string_view kind_name(ConnectorKind kind);
std::optional<ConnectorKind> kind_from(std::string_view name);

}  // namespace bh
