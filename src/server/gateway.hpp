#pragma once

#include "server/config.hpp"

namespace bh {

// Starts everything in order (spool recovery, scheduler, queue writer,
// listeners), runs until SIGINT/SIGTERM, stops in reverse order.
int run_gateway(const Config& config);

}  // namespace bh
