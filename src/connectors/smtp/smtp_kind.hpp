// The smtp kind's settings, for the tools that need to read them (the
// Exchange Online set-up generator): null for connectors of other kinds.
#pragma once

#include "connectors/kind.hpp"
#include "connectors/smtp/smtp_settings.hpp"

namespace bh::connectors {

class SmtpSettingsSpec : public ConnectorSpec {
 public:
  SmtpConnectorSettings settings;
};

const SmtpConnectorSettings* smtp_settings(const ConnectorSpec* spec);

}  // namespace bh::connectors
