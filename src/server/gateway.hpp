#pragma once

#include <string>
#include <vector>

#include "server/config.hpp"

namespace bh {

// Starts everything in order (spool recovery, scheduler, queue writer,
// listeners), runs until SIGINT/SIGTERM, stops in reverse order.
int run_gateway(const Config& config);

// What check-config verifies beyond the file itself: the TLS certificates,
// keys and CA bundles load, and so do the connectors' client certificates.
// Returns one message per problem.
std::vector<std::string> check_resources(const Config& config);

}  // namespace bh
