// Connectors by name, built from their kinds' settings (connectors/kind.hpp:
// one explicit list of kinds, no static registration).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "connectors/connector.hpp"
#include "connectors/kind.hpp"
#include "util/result.hpp"

namespace bh::connectors {

// One [[connector]] table: the keys core reads, and the kind's settings.
struct ConnectorSettings {
  std::string name;
  std::string type;
  // How long a recipient may stay pending (a fax job, an SMS) before it is
  // given up with a DSN.
  std::chrono::seconds pending_timeout{86400};
  std::shared_ptr<const ConnectorSpec> spec;
};

class Registry {
 public:
  static Result<Registry> build(const std::vector<ConnectorSettings>& settings);
  Connector* find(const std::string& name) const;
  std::chrono::seconds pending_timeout(const std::string& name) const;
  void attach_all(PendingSink* sink);
  // Connectors that also bring messages in (fax, SMS): the intake and directory.
  void attach_intake_all(const Connector::IntakeServices& services);
  void stop_all();
  void recover_all(const RecordedCheck& recorded);

 private:
  std::map<std::string, std::shared_ptr<Connector>> by_name_;
  std::map<std::string, std::chrono::seconds> pending_timeouts_;
};

}  // namespace bh::connectors
