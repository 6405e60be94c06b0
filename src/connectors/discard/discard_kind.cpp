// type = "discard": no settings of its own.
#include "connectors/discard/discard_connector.hpp"
#include "connectors/kind.hpp"

namespace bh::connectors {
namespace {

class DiscardSpec final : public ConnectorSpec {
 public:
  Result<std::shared_ptr<Connector>> build() const override {
    return std::shared_ptr<Connector>(std::make_shared<DiscardConnector>());
  }
};

std::shared_ptr<const ConnectorSpec> read(TableReader&, const KindEnvironment&) {
  return std::make_shared<DiscardSpec>();
}

}  // namespace

KindDefinition discard_kind() {
  return {"discard", read};
}

}  // namespace bh::connectors
