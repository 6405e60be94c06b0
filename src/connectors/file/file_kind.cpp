// type = "file": directory = "PATH".
#include "connectors/file/file_connector.hpp"
#include "connectors/kind.hpp"

namespace bh::connectors {
namespace {

class FileSpec final : public ConnectorSpec {
 public:
  explicit FileSpec(std::string directory) : directory_(std::move(directory)) {}
  Result<std::shared_ptr<Connector>> build() const override {
    return std::shared_ptr<Connector>(std::make_shared<FileConnector>(directory_));
  }

 private:
  std::string directory_;
};

std::shared_ptr<const ConnectorSpec> read(TableReader& r, const KindEnvironment&) {
  std::string directory;
  r.path("directory", directory, true);
  return std::make_shared<FileSpec>(directory);
}

}  // namespace

KindDefinition file_kind() {
  return {"file", read};
}

}  // namespace bh::connectors
