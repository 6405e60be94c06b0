#include "server/fax_ingest_route.hpp"

#include <map>
#include <memory>
#include <string>

#include "connectors/fax/fax_connector.hpp"
#include "connectors/fax/fax_kind.hpp"
#include "directory/directory.hpp"
#include "directory/phone_number.hpp"

namespace bh {
namespace {

using admin::FaxIngestOutcome;
using admin::FaxIngestReply;

FaxIngestReply reply(FaxIngestOutcome outcome, std::string message) {
  FaxIngestReply r;
  r.outcome = outcome;
  r.message = std::move(message);
  return r;
}

FaxIngestOutcome outcome_of(connectors::fax::IngestStatus status) {
  using connectors::fax::IngestStatus;
  switch (status) {
    case IngestStatus::queued:
      return FaxIngestOutcome::queued;
    case IngestStatus::unknown_number:
      return FaxIngestOutcome::unknown_number;
    case IngestStatus::invalid:
      return FaxIngestOutcome::not_readable;
    case IngestStatus::refused:
      return FaxIngestOutcome::refused;
    case IngestStatus::unavailable:
      break;
  }
  return FaxIngestOutcome::unavailable;
}

}  // namespace

admin::FaxIngestFunction fax_ingest_function(
    const connectors::Registry& registry,
    const std::vector<connectors::ConnectorSettings>& connectors,
    const directory::DirectoryView& directory) {
  // name -> its default region (the connector's settings are fixed while it runs).
  auto regions = std::make_shared<std::map<std::string, std::string>>();
  for (const connectors::ConnectorSettings& c : connectors)
    if (const auto* fax = connectors::fax_settings(c.spec.get()))
      (*regions)[c.name] = fax->default_region;
  if (regions->empty()) return {};
  return [&registry, &directory, regions](const admin::FaxIngestCall& call) {
    auto chosen = regions->end();
    if (!call.connector.empty()) {
      chosen = regions->find(call.connector);
      if (chosen == regions->end())
        return reply(FaxIngestOutcome::bad_request,
                     "no fax connector is named \"" + call.connector + "\"");
    } else if (regions->size() == 1) {
      chosen = regions->begin();
    } else {
      return reply(FaxIngestOutcome::bad_request,
                   "there are several fax connectors: name one with connector=");
    }
    auto* fax = dynamic_cast<connectors::fax::FaxConnector*>(registry.find(chosen->first));
    connectors::fax::FaxIngest* ingest = fax ? fax->ingest() : nullptr;
    if (ingest == nullptr)
      return reply(FaxIngestOutcome::unavailable, "the fax connector does not take faxes in yet");
    auto called = directory::to_e164(call.called, chosen->second);
    if (!called)
      return reply(FaxIngestOutcome::bad_request,
                   "called: not a valid number: " + called.error().message);
    // A tenant's token ingests only for its own numbers (not for the catch-all).
    if (!call.tenant.empty()) {
      auto owner = directory.find_number(*called);
      if (owner.is_unavailable())
        return reply(FaxIngestOutcome::unavailable, "the directory is unavailable");
      if (!owner.is_found() || owner->tenant != call.tenant || owner->service == "sms")
        return reply(FaxIngestOutcome::forbidden, "the number is not the tenant's");
    }
    connectors::fax::ReceivedFax received;
    received.tiff = call.tiff;
    received.called = call.called;
    received.caller = call.caller;
    received.caller_name = call.caller_name;
    received.tsi = call.tsi;
    received.source = "api";
    connectors::fax::IngestAnswer answer = ingest->ingest(received);
    FaxIngestReply r = reply(outcome_of(answer.status), answer.reason);
    r.queue_id = answer.queue_id;
    r.mailbox = answer.mailbox;
    return r;
  };
}

}  // namespace bh
