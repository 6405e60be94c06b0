#include "connectors/sms/sms_prepare.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <variant>

#include "connectors/delivery_tag.hpp"
#include "connectors/sms/sms_outbound.hpp"

namespace bh::connectors::sms {
namespace {

RecipientResult bounce(std::string status, std::string diagnostic) {
  return {Outcome::bounced, std::move(status), std::move(diagnostic)};
}

}  // namespace

std::uint16_t concat_reference(const std::string& queue_id) {
  std::uint32_t hash = 2166136261u;  // FNV-1a
  for (unsigned char c : queue_id) hash = (hash ^ c) * 16777619u;
  return static_cast<std::uint16_t>(hash ^ (hash >> 16));
}

std::shared_ptr<SmsRequest> prepare_request(const PrepareContext& context,
                                            const DeliveryRequest& request, DeliveryDone done) {
  const SmsSettings& settings = context.settings;
  const Envelope& envelope = request.envelope();
  auto shared = std::make_shared<SmsRequest>();
  shared->queue_id = envelope.queue_id;
  shared->results.assign(request.recipients.size(), RecipientResult{});
  shared->final.assign(request.recipients.size(), false);
  shared->done = std::move(done);
  auto settle = [&](std::size_t slot, RecipientResult result, const std::string& who) {
    log_sms_delivery(settings, envelope.queue_id, who, result);
    shared->results[slot] = std::move(result);
    shared->final[slot] = true;
  };
  auto all = [&](const RecipientResult& result) {
    for (std::size_t slot = 0; slot < request.recipients.size(); ++slot)
      settle(slot, result, envelope.recipients[request.recipients[slot]].address.text());
  };
  if (context.stopping) {
    all(deferred_result("4.3.0", kStopping));
  } else if (context.store == nullptr || context.directory == nullptr) {
    all(deferred_result("4.3.0", context.unavailable));
  } else if (context.destinations == nullptr) {
    all(deferred_result("4.3.5", "the SMS connector has no destination rules"));
  } else if (request.content().size() > settings.max_message_bytes) {
    all(bounce("5.3.4", fmt::format("the mail is larger than the {} bytes an SMS connector takes",
                                    settings.max_message_bytes)));
  } else {
    std::optional<std::variant<PreparedText, RecipientResult>> text;
    for (std::size_t slot = 0; slot < request.recipients.size(); ++slot) {
      std::string address = envelope.recipients[request.recipients[slot]].address.text();
      auto checked = recipient_number(address, settings, *context.destinations);
      if (auto* refused = std::get_if<RecipientResult>(&checked)) {
        settle(slot, std::move(*refused), address);
        continue;
      }
      const std::string* number = &std::get<std::string>(checked);
      if (!text)
        text = prepare_text(request.content(), settings, concat_reference(envelope.queue_id));
      if (auto* failed = std::get_if<RecipientResult>(&*text)) {
        settle(slot, *failed, *number);
        continue;
      }
      const PreparedText& prepared = std::get<PreparedText>(*text);
      auto sender = choose_source(*context.store, *context.directory, envelope.sender.text(),
                                  *number, settings);
      if (!sender) {
        settle(slot, deferred_result("4.3.0", sender.error().message), *number);
        continue;
      }
      auto source = source_address_of(*sender);
      if (!source) {
        settle(slot,
               deferred_result(
                   "4.3.5", "the sender " + *sender + " cannot be used: " + source.error().message),
               *number);
        continue;
      }
      RecipientWork work;
      work.slot = slot;
      work.number = *number;
      work.tag = delivery_tag(envelope.queue_id, address);
      auto recorded = context.store->parts_of(settings.name, work.tag);
      if (!recorded) {
        settle(
            slot,
            deferred_result("4.3.0", "the SMS store is unavailable: " + recorded.error().message),
            *number);
        continue;
      }
      std::vector<smpp::ShortMessage> pdus = submit_pdus(prepared, *source, *number, settings);
      work.parts = static_cast<int>(pdus.size());
      std::vector<bool> done_parts(pdus.size() + 1, false);
      // A resolved reference (a receipt came while the recipient was
      // deferred, or one part failed): nothing more goes out; pending at
      // once, the scheduler applies the report it holds.
      bool resolved = std::any_of(recorded->begin(), recorded->end(),
                                  [](const PartRecord& part) { return part.settled; });
      for (const PartRecord& part : *recorded)
        if (part.part >= 1 && part.part <= work.parts && part.parts == work.parts) {
          if (is_noid_part_id(part.message_id) && !done_parts[part.part])
            work.recorded_without_id.push_back(part.part);
          done_parts[part.part] = true;
        }
      if (resolved) {
        done_parts.assign(done_parts.size(), true);
        work.recorded_without_id.clear();  // pending: the stored report decides
      }
      for (int i = 1; i <= work.parts; ++i) {
        if (done_parts[i])
          ++work.already_recorded;
        else
          work.to_send.emplace_back(i, std::move(pdus[i - 1]));
      }
      shared->work.push_back(std::move(work));
    }
  }
  return shared;
}

}  // namespace bh::connectors::sms
