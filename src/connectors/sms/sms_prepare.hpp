// The store-thread half of an SMS delivery (sms_connector.hpp): what can
// be decided before anything goes to the SMSC (the size limit, each
// recipient's number, the text once, the sender, the parts a retry still
// has to send) and the submit_sm of each part. Blocking (the store, the
// directory): runs on the connector's store thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "connectors/connector.hpp"
#include "connectors/destination_rules.hpp"
#include "connectors/sms/sms_dispatch.hpp"
#include "connectors/sms/sms_settings.hpp"
#include "connectors/sms/sms_store.hpp"
#include "directory/directory.hpp"

namespace bh::connectors::sms {

struct PrepareContext {
  const SmsSettings& settings;
  SmsStore* store = nullptr;  // null: every recipient defers with `unavailable`
  const directory::DirectoryView* directory = nullptr;
  const std::string& unavailable;
  bool stopping = false;
  // settings.destinations, compiled once; null: every recipient defers.
  const DestinationCheck* destinations = nullptr;
};

// The request with the results known so far (a bounce, a deferral) and the
// parts to submit for the other recipients.
std::shared_ptr<SmsRequest> prepare_request(const PrepareContext& context,
                                            const DeliveryRequest& request, DeliveryDone done);

// The concatenation reference of a message: the same at every attempt, so
// the parts a retry sends join those an earlier attempt sent.
std::uint16_t concat_reference(const std::string& queue_id);

}  // namespace bh::connectors::sms
