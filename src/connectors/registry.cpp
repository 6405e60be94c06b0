#include "connectors/registry.hpp"

namespace bh::connectors {

Result<Registry> Registry::build(const std::vector<ConnectorSettings>& settings) {
  Registry registry;
  for (const ConnectorSettings& s : settings) {
    if (!s.spec) return Error{"connector " + s.name + ": no settings for type " + s.type};
    auto connector = s.spec->build();
    if (!connector) return connector.error();
    registry.by_name_[s.name] = std::move(*connector);
    registry.pending_timeouts_[s.name] = s.pending_timeout;
  }
  return registry;
}

void Registry::recover_all(const RecordedCheck& recorded) {
  for (auto& [name, connector] : by_name_) connector->recover(recorded);
}

std::chrono::seconds Registry::pending_timeout(const std::string& name) const {
  auto it = pending_timeouts_.find(name);
  return it == pending_timeouts_.end() ? std::chrono::seconds(86400) : it->second;
}

void Registry::attach_all(PendingSink* sink) {
  for (auto& [name, connector] : by_name_) connector->attach(sink);
}

void Registry::attach_intake_all(const Connector::IntakeServices& services) {
  for (auto& [name, connector] : by_name_) connector->attach_intake(services);
}

void Registry::stop_all() {
  for (auto& [name, connector] : by_name_) connector->stop();
}

Connector* Registry::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second.get();
}

}  // namespace bh::connectors
