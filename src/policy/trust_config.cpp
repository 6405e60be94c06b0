#include "policy/trust_config.hpp"

namespace bh {

const InboundConnector* TrustConfig::connector(const std::string& name) const {
  for (const auto& c : connectors)
    if (c.name == name) return &c;
  return nullptr;
}

const Tenant* TrustConfig::tenant(const std::string& id) const {
  for (const auto& t : tenants)
    if (t.id == id) return &t;
  return nullptr;
}

std::string_view kind_name(ConnectorKind kind) {
  switch (kind) {
    case ConnectorKind::microsoft365:
      return "microsoft365";
    case ConnectorKind::partner:
      return "partner";
    case ConnectorKind::internal:
      return "internal";
  }
  return "?";
}

std::optional<ConnectorKind> kind_from(std::string_view name) {
  for (auto kind : {ConnectorKind::microsoft365, ConnectorKind::partner, ConnectorKind::internal})
    if (kind_name(kind) == name) return kind;
  return std::nullopt;
}

}  // namespace bh
