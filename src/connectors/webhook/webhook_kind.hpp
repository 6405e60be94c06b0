// The webhook kind's parsed settings, for tests and tools: null for
// connectors of other kinds.
#pragma once

#include "connectors/kind.hpp"
#include "connectors/webhook/webhook_settings.hpp"

namespace bh::connectors {

const webhook::WebhookSettings* webhook_settings(const ConnectorSpec* spec);

}  // namespace bh::connectors
