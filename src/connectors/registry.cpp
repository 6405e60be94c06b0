#include "connectors/registry.hpp"

#include "connectors/discard/discard_connector.hpp"
#include "connectors/file/file_connector.hpp"

namespace bh::connectors {
namespace {

std::shared_ptr<Connector> make(const ConnectorSettings& s) {
  if (s.type == "file") return std::make_shared<FileConnector>(s.directory);
  if (s.type == "discard") return std::make_shared<DiscardConnector>();
  return nullptr;
}

}  // namespace

bool known_type(const std::string& type) {
  return type == "file" || type == "discard";
}

Result<Registry> Registry::build(const std::vector<ConnectorSettings>& settings) {
  Registry registry;
  for (const ConnectorSettings& s : settings) {
    auto connector = make(s);
    if (!connector) return Error{"connector " + s.name + ": unknown type " + s.type};
    registry.by_name_[s.name] = std::move(connector);
  }
  return registry;
}

Connector* Registry::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second.get();
}

}  // namespace bh::connectors
