// One delivery request to the fax connector, on a worker thread: the size
// limit (5.3.4), then per recipient the number (5.1.3), the destination
// rules (5.7.1), the render (once per message, or per recipient with a
// cover page, which names the recipient), and the submission to the
// backend (pending with its job id). Blocking.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "connectors/connector.hpp"
#include "connectors/fax/destination_rules.hpp"
#include "connectors/fax/fax_backend.hpp"
#include "connectors/fax/fax_settings.hpp"

namespace bh::connectors::fax {

struct DeliveryContext {
  const FaxSettings& settings;
  const DestinationCheck& destinations;
  FaxBackend& backend;
  std::mutex& backend_mutex;  // held around each backend call
  const std::string& server;  // for remote_mta and the diagnostic
  const std::string& cover;   // the cover template's text; empty: none
};

// One result per request.recipients entry, in order.
std::vector<RecipientResult> deliver_fax(const DeliveryContext& context,
                                         const DeliveryRequest& request);

}  // namespace bh::connectors::fax
