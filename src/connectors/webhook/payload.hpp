// The JSON document one delivery request is POSTed as (README.md in this
// folder shows it). Pure: built from the queued message in memory.
#pragma once

#include <string>

#include "connectors/connector.hpp"

namespace bh::connectors::webhook {

// {"id", "envelope": {"from", "to"}, "tenant", "headers", "subject",
// "text", "attachments"}; only the request's recipients are listed, and
// Bridgehead's and Exchange's control headers are left out (they never go
// to a foreign system).
std::string webhook_payload(const DeliveryRequest& request, bool include_attachments);

}  // namespace bh::connectors::webhook
