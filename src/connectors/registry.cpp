#include "connectors/registry.hpp"

#include "connectors/discard/discard_connector.hpp"
#include "connectors/file/file_connector.hpp"
#include "connectors/smtp/smtp_connector.hpp"

namespace bh::connectors {
namespace {

// The one list of connector types.
Result<std::shared_ptr<Connector>> make(const ConnectorSettings& s) {
  if (s.type == "file")
    return std::shared_ptr<Connector>(std::make_shared<FileConnector>(s.directory));
  if (s.type == "discard") return std::shared_ptr<Connector>(std::make_shared<DiscardConnector>());
  if (s.type == "smtp") {
    auto connector = SmtpConnector::create(s.smtp);
    if (!connector) return connector.error();
    return std::shared_ptr<Connector>(*connector);
  }
  return Error{"connector " + s.name + ": unknown type " + s.type};
}

}  // namespace

bool known_type(const std::string& type) {
  return type == "file" || type == "discard" || type == "smtp";
}

Result<Registry> Registry::build(const std::vector<ConnectorSettings>& settings) {
  Registry registry;
  for (const ConnectorSettings& s : settings) {
    auto connector = make(s);
    if (!connector) return connector.error();
    registry.by_name_[s.name] = std::move(*connector);
  }
  return registry;
}

void Registry::recover_all(const RecordedCheck& recorded) {
  for (auto& [name, connector] : by_name_) connector->recover(recorded);
}

void Registry::stop_all() {
  for (auto& [name, connector] : by_name_) connector->stop();
}

Connector* Registry::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second.get();
}

}  // namespace bh::connectors
