#pragma once

#include <filesystem>

#include "connectors/connector.hpp"

namespace bh::connectors {

// Writes one "<queue-id>.eml" per message into a folder, in two steps so a
// crash never delivers a message twice: deliver() writes and fsyncs a hidden
// ".<queue-id>.<generation>.<index>.pending" and reports success; once the scheduler has made
// that result durable, results_recorded() links it to its visible name. At
// start, recover() finishes or removes what a crash left pending. An
// existing .eml is never overwritten: a second delivery of the same queue
// id becomes "<queue-id>-2.eml", visible.
class FileConnector final : public Connector {
 public:
  explicit FileConnector(std::filesystem::path directory) : directory_(std::move(directory)) {}
  // Blocking file I/O on the calling (delivery pool) thread.
  void deliver(DeliveryRequest request, DeliveryDone done) override;
  void results_recorded(const Envelope& envelope,
                        const std::vector<std::size_t>& recipients) override;
  void recover(const RecordedCheck& recorded) override;

 private:
  std::filesystem::path directory_;
};

}  // namespace bh::connectors
