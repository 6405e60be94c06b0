// Connectors by name, built from the configuration through one explicit
// list of known types (no static registration).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "connectors/connector.hpp"
#include "connectors/smtp/smtp_settings.hpp"
#include "util/result.hpp"

namespace bh::connectors {

struct ConnectorSettings {
  std::string name;
  std::string type;
  std::string directory;       // file
  SmtpConnectorSettings smtp;  // smtp
};

bool known_type(const std::string& type);

class Registry {
 public:
  static Result<Registry> build(const std::vector<ConnectorSettings>& settings);
  Connector* find(const std::string& name) const;
  void stop_all();
  void recover_all(const RecordedCheck& recorded);

 private:
  std::map<std::string, std::shared_ptr<Connector>> by_name_;
};

}  // namespace bh::connectors
