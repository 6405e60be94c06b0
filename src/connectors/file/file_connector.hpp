#pragma once

#include <filesystem>

#include "connectors/connector.hpp"

namespace bh::connectors {

// Writes one "<queue-id>.eml" per message into a folder, fsynced (file and
// folder) before it reports success. A redelivery after a crash rewrites the
// same file, so it never produces a second copy.
class FileConnector final : public Connector {
 public:
  explicit FileConnector(std::filesystem::path directory) : directory_(std::move(directory)) {}
  // Blocking file I/O on the calling (delivery pool) thread.
  void deliver(DeliveryRequest request, DeliveryDone done) override;

 private:
  std::filesystem::path directory_;
};

}  // namespace bh::connectors
