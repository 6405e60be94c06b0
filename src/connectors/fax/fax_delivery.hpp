// One delivery request to the fax connector, on a worker thread: the size
// limit (5.3.4), then per recipient the number (5.1.3), the destination
// rules (5.7.1), the render (once per message, or per recipient with a
// cover page, which names the recipient), and the submission to the
// backend (pending with its job id; the job's tag makes a repeated
// attempt find the earlier job instead of sending a second fax); with
// report_thumbnail the render writes page one's thumbnail too, kept in the
// shared store under the job's reference: the request's thumbnails in one
// transaction once all its recipients are submitted (none while the store
// is paused after a failure, thumbnail_store.hpp). Blocking.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "connectors/connector.hpp"
#include "connectors/destination_rules.hpp"
#include "connectors/fax/fax_backend.hpp"
#include "connectors/fax/fax_settings.hpp"
#include "connectors/fax/thumbnail_store.hpp"

namespace bh::connectors::fax {

struct DeliveryContext {
  const FaxSettings& settings;
  const DestinationCheck& destinations;
  FaxBackend& backend;
  std::mutex& backend_mutex;  // held around each backend call
  const std::string& server;  // for the log: "hylafax 127.0.0.1:4559", "spool /var/spool/fax"
  // What reaches the sender (DSNs), so no local path: the Remote-MTA (the
  // HylaFAX host name; empty for the spool folder) and the place named in
  // diagnostics ("HylaFAX server faxhost", "the fax spool folder").
  const std::string& remote_mta;
  const std::string& place;
  const std::string& cover;  // the cover template's text; empty: none
  // Set when the gateway stops: a recipient not yet submitted is deferred
  // (a render in progress finishes; no submission starts).
  const std::atomic<bool>& stopping;
  // Where page one's thumbnail waits for the success report (report_thumbnail
  // with success_notice = "report"); null: no thumbnails.
  ThumbnailStore* thumbnails = nullptr;
};

// One result per request.recipients entry, in order.
std::vector<RecipientResult> deliver_fax(const DeliveryContext& context,
                                         const DeliveryRequest& request);

}  // namespace bh::connectors::fax
