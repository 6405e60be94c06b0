// The gateway's side of POST /v1/ingest/fax (admin_plane.hpp): finds the
// fax connector the call names (or the only one), makes the cheap checks
// (the number, its owner, the token's tenant, TIFF magic and size) and
// drops the fax into the connector's ingest folder with the tenant it must
// belong to; the folder's thread does the rest.
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

// The gateway stops: every fax connector's ingest stops waiting for the
// queue and takes no fax more (they stay in the folder for the next start).
// Called before the I/O threads and the admin API stop.
void stop_fax_ingest(const connectors::Registry& registry,
                     const std::vector<connectors::ConnectorSettings>& connectors);

}  // namespace bh
