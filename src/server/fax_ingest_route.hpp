// The gateway's side of POST /v1/ingest/fax: finds the fax connector the
// call names (or the only one), checks that a tenant token's tenant owns
// the called number, and hands the fax to the connector's ingest.
#pragma once

#include <vector>

#include "admin/admin_plane.hpp"
#include "connectors/registry.hpp"

namespace bh::directory {
class DirectoryView;
}

namespace bh {

// Null when no connector is a fax connector (the API has no such route).
// registry and directory must outlive the function.
admin::FaxIngestFunction fax_ingest_function(
    const connectors::Registry& registry,
    const std::vector<connectors::ConnectorSettings>& connectors,
    const directory::DirectoryView& directory);

}  // namespace bh
