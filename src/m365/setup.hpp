// `bridgehead m365 setup`: the Exchange Online PowerShell that configures the
// tenant side of a topology (docs/m365-setup.md) from the gateway's own
// configuration, or every reason the configuration cannot work with it.
// Pure: the certificates' names and the stamp key ids are read beforehand
// (certificate_names.hpp, setup_cli.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "m365/certificate_names.hpp"
#include "util/result.hpp"

namespace bh {
struct Config;
}

namespace bh::m365 {

enum class Topology {
  davor,     // in front of Exchange Online: MX at the gateway, which also sends to the internet
  daneben1,  // beside it: Exchange Online keeps the MX; a rule routes mail through the gateway
  daneben2,  // beside it, MX at the gateway; Exchange Online still sends to the internet
  service,   // the connector service: fax/SMS domains to the gateway, replies back
};

std::optional<Topology> topology_from(std::string_view name);
std::string_view topology_name(Topology topology);

struct SetupInput {
  Topology topology = Topology::service;
  std::string tenant;           // --tenant: id or name; empty: the only [[tenant]]
  CertificateMap certificates;  // tls.certificate and the client certificates, by path
  // The processed stamp's key ids (stamp_key_id), current first, then the
  // previous key's; empty with stamp_key_problem set when the keys could not
  // be read. Only the daneben topologies need them (the rule's exception).
  std::vector<std::string> stamp_key_ids;
  std::string stamp_key_problem;
};

struct SetupScript {
  std::string text;                   // the PowerShell, for stdout
  std::vector<std::string> warnings;  // "warning: ..." lines for stderr; the script still works
};

// The error's message holds every problem, one per line, each naming the
// configuration key ("SOURCE: connector \"to-exo\": tls: ...").
Result<SetupScript> generate_setup(const Config& config, const SetupInput& input);

}  // namespace bh::m365
