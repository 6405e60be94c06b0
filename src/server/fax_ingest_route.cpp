#include "server/fax_ingest_route.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "connectors/fax/fax_connector.hpp"
#include "connectors/fax/fax_kind.hpp"
#include "connectors/fax/ingest_files.hpp"
#include "connectors/fax/ingest_folder.hpp"
#include "directory/directory.hpp"
#include "directory/phone_number.hpp"
#include "util/clock.hpp"

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
      return FaxIngestOutcome::accepted;
    case IngestStatus::unknown_number:
      return FaxIngestOutcome::unknown_number;
    case IngestStatus::invalid:
      return FaxIngestOutcome::not_readable;
    case IngestStatus::refused:
      return FaxIngestOutcome::forbidden;
    case IngestStatus::unavailable:
      break;
  }
  return FaxIngestOutcome::unavailable;
}

connectors::fax::FaxIngest* running_ingest(const connectors::Registry& registry,
                                           const std::string& name) {
  auto* fax = dynamic_cast<connectors::fax::FaxConnector*>(registry.find(name));
  return fax ? fax->ingest() : nullptr;
}

}  // namespace

admin::FaxIngestFunction fax_ingest_function(
    const connectors::Registry& registry,
    const std::vector<connectors::ConnectorSettings>& connectors,
    const directory::DirectoryView& directory) {
  // name -> its settings (fixed while the connector runs).
  using SettingsByName = std::map<std::string, connectors::fax::FaxSettings>;
  auto settings = std::make_shared<SettingsByName>();
  for (const connectors::ConnectorSettings& c : connectors)
    if (const auto* fax = connectors::fax_settings(c.spec.get())) settings->emplace(c.name, *fax);
  if (settings->empty()) return {};
  return [&registry, &directory, settings](const admin::FaxIngestCall& call) {
    auto chosen = settings->end();
    if (!call.connector.empty()) {
      chosen = settings->find(call.connector);
      if (chosen == settings->end())
        return reply(FaxIngestOutcome::bad_request,
                     "no fax connector is named \"" + call.connector + "\"");
    } else if (settings->size() == 1) {
      chosen = settings->begin();
    } else {
      return reply(FaxIngestOutcome::bad_request,
                   "there are several fax connectors: name one with connector=");
    }
    const connectors::fax::FaxSettings& fax = chosen->second;
    if (running_ingest(registry, chosen->first) == nullptr)
      return reply(FaxIngestOutcome::unavailable, "the fax connector does not take faxes in yet");
    auto called = directory::to_e164(call.called, fax.default_region);
    if (!called)
      return reply(FaxIngestOutcome::bad_request,
                   "called: not a valid number: " + called.error().message);
    if (!connectors::fax::looks_like_tiff(call.body))
      return reply(FaxIngestOutcome::not_readable, "the body is not a TIFF file");
    if (call.body.size() > fax.ingest.max_bytes)
      return reply(FaxIngestOutcome::not_readable,
                   fmt::format("the fax is larger than {} bytes", fax.ingest.max_bytes));
    // A tenant's token ingests only for its own numbers (not for the
    // catch-all); the folder checks the same again when it queues the fax.
    connectors::fax::MailboxChoice choice =
        connectors::fax::choose_mailbox(directory, *called, fax.ingest, call.tenant);
    if (choice.status != connectors::fax::IngestStatus::queued)
      return reply(outcome_of(choice.status), choice.reason);

    connectors::fax::ReceivedFax job;
    job.called = call.called;
    job.caller = call.caller;
    job.caller_name = call.caller_name;
    job.tsi = call.tsi;
    job.received_at = unix_now();
    job.expected_tenant = call.tenant;
    auto dropped =
        connectors::fax::drop_fax_into(connectors::fax::ingest_directory_of(fax), call.body, job);
    if (!dropped)
      return reply(FaxIngestOutcome::unavailable,
                   "cannot write to the ingest folder: " + dropped.error().message);
    FaxIngestReply r = reply(FaxIngestOutcome::accepted, "");
    r.id = *dropped;
    r.mailbox = choice.mailbox;
    return r;
  };
}

void stop_fax_ingest(const connectors::Registry& registry,
                     const std::vector<connectors::ConnectorSettings>& connectors) {
  for (const connectors::ConnectorSettings& c : connectors)
    if (connectors::fax_settings(c.spec.get()) != nullptr)
      if (connectors::fax::FaxIngest* ingest = running_ingest(registry, c.name)) ingest->stop();
}

}  // namespace bh
