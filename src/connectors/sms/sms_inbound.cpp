// SmsInbound: a deliver_sm taken (receive: the duplicate check, a part
// kept or the mail queued), the sweep of expired concatenated SMS, and
// the one log line of each SMS.
#include "connectors/sms/sms_inbound.hpp"

#include <optional>
#include <variant>

#include <fmt/format.h>

#include "connectors/sms/sms_addressing.hpp"  // kTonAlphanumeric
#include "connectors/sms/sms_encoding.hpp"
#include "connectors/sms/sms_inbound_internal.hpp"
#include "connectors/sms/sms_mail.hpp"
#include "connectors/sms/sms_segments.hpp"
#include "util/log.hpp"

namespace bh::connectors::sms {
namespace {

// What the one log line of each SMS names.
struct Facts {
  std::string sender;
  std::string recipient;
  std::string parts = "1";  // "2/3" for a part kept
  std::string missing;      // "2,3" for an expired message
};

}  // namespace

const char* inbound_status_name(InboundStatus status) {
  switch (status) {
    case InboundStatus::queued:
      return "queued";
    case InboundStatus::part_kept:
      return "part_kept";
    case InboundStatus::refused:
      return "refused";
    case InboundStatus::unavailable:
      return "unavailable";
    case InboundStatus::duplicate:
      return "duplicate";
  }
  return "unknown";
}

SmsInbound::SmsInbound(const SmsSettings& settings, intake::Ingest& ingest,
                       const directory::DirectoryView& directory, SmsStore& store)
    : settings_(settings), ingest_(ingest), directory_(directory), store_(store) {}

namespace {

void log_received(const SmsSettings& settings, const Facts& facts, const InboundAnswer& result) {
  bool fine = result.status == InboundStatus::queued || result.status == InboundStatus::part_kept ||
              result.status == InboundStatus::duplicate;
  log::Line line("sms_received");
  line.kv("connector", settings.name)
      .kv("sender", facts.sender.empty() ? "-" : facts.sender)
      .kv("recipient", facts.recipient.empty() ? "-" : facts.recipient)
      .kv("mailbox", result.mailbox.empty() ? "-" : result.mailbox)
      .kv("parts", facts.parts);
  if (!facts.missing.empty()) line.kv("missing", facts.missing);
  line.kv("result", inbound_status_name(result.status))
      .kv("reason", result.reason.empty() ? "-" : result.reason)
      .kv("id", result.queue_id.empty() ? "-" : result.queue_id)
      .write(fine ? log::Level::info : log::Level::warn);
}

// After its mail is queued (or refused for good), a reassembled message
// leaves the store and its parts count as seen. A failure here is logged:
// the parts stay, and the sweep mails them again after reassembly_timeout
// (with the same Message-ID), which is better than losing them.
void forget_message(const SmsSettings& settings, SmsStore& store, const InboundMessage& message,
                    std::int64_t now) {
  Status removed = store.remove_inbound(settings.name, message, now);
  if (!removed)
    log::Line("sms_parts_not_removed")
        .kv("connector", settings.name)
        .kv("sender", message.source)
        .kv("recipient", message.destination)
        .kv("reason", removed.error().message)
        .write(log::Level::warn);
}

}  // namespace

InboundAnswer SmsInbound::mail_stored(const InboundMessage& message, std::int64_t now) {
  Parties parties = parties_of(message, settings_.default_region);
  Facts facts;
  facts.sender = parties.sender_key();
  facts.recipient = parties.recipient;
  facts.parts = std::to_string(message.total);
  InboundAnswer result;
  auto found = find_destination(directory_, parties.recipient, settings_.inbound);
  if (auto* problem = std::get_if<InboundAnswer>(&found)) {
    result = *problem;
  } else {
    MailInput input = mail_of(message, std::move(parties), std::get<Destination>(found));
    facts.missing = joined(input.missing_parts);
    result = queue_mail(settings_, ingest_, store_, stopping_, input);
  }
  // Unavailable: tried again (the next sweep, the SMSC); anything else is final.
  if (result.status != InboundStatus::unavailable) forget_message(settings_, store_, message, now);
  log_received(settings_, facts, result);
  return result;
}

InboundAnswer SmsInbound::receive(const smpp::ShortMessage& message, std::int64_t now) {
  Facts facts;
  facts.sender = message.source.address;
  facts.recipient = message.destination.address;
  auto attempt = [&]() -> InboundAnswer {
    if (stopping_) return unavailable("the gateway is stopping");
    Parties parties;
    parties.sender_raw = message.source.address;
    if (message.source.ton != kTonAlphanumeric)
      if (auto number = e164_of(message.source, settings_.default_region); number)
        parties.sender = *number;
    if (!parties.sender.empty()) facts.sender = parties.sender;
    auto recipient = e164_of(message.destination, settings_.default_region);
    if (!recipient)
      return refused("the destination is not a number: " + recipient.error().message,
                     smpp::status::invalid_dest_address);
    parties.recipient = *recipient;
    facts.recipient = parties.recipient;

    auto part = read_incoming_part(message);
    if (!part) return refused("the SMS cannot be read: " + part.error().message);
    auto text = decode_text(part->user_data, message.data_coding, settings_.default_alphabet);
    if (!text)
      return refused(
          fmt::format("binary data (data_coding 0x{:02x}) is not text", message.data_coding));
    const bool single = !part->part || part->part->total <= 1;
    if (!single) facts.parts = fmt::format("{}/{}", part->part->sequence, part->part->total);
    std::string concatenation = single ? std::string()
                                       : fmt::format("{}/{}/{}", part->part->reference,
                                                     part->part->total, part->part->sequence);
    std::string key = sms_key(parties.sender_key(), parties.recipient, message.data_coding,
                              part->user_data, concatenation);
    // Taken before: the SMSC did not hear our ok in time and sent it again.
    // A single SMS: only within duplicate_window (the same "ok" later is a
    // new one). A part carries its concatenation reference as well, so a
    // copy of it is recognised for as long as the key is kept.
    const std::int64_t window = single ? settings_.inbound.duplicate_window.count() : kSeenSeconds;
    auto seen = store_.inbound_seen(settings_.name, key, now - window);
    if (!seen) return unavailable("the SMS store is unavailable: " + seen.error().message);
    if (*seen)
      return answer(InboundStatus::duplicate, smpp::status::ok,
                    "taken before: the SMSC sent it again");
    // Before a part is kept: an SMS nobody would get is refused at once.
    auto found = find_destination(directory_, parties.recipient, settings_.inbound);
    if (auto* problem = std::get_if<InboundAnswer>(&found)) return *problem;
    Destination destination = std::get<Destination>(found);

    if (single) {
      MailInput input;
      input.parties = std::move(parties);
      input.destination = std::move(destination);
      input.text = std::move(*text);
      input.received_at = now;
      input.unique = sms_message_id_left(key, now);
      InboundAnswer result = queue_mail(settings_, ingest_, store_, stopping_, input);
      // Seen only once the mail is durable; a failure costs only the
      // recognition of a copy (which then has the same Message-ID).
      if (result.status == InboundStatus::queued)
        if (Status marked = store_.mark_inbound_seen(settings_.name, key, now); !marked)
          log::Line("sms_seen_not_kept")
              .kv("connector", settings_.name)
              .kv("reason", marked.error().message)
              .write(log::Level::warn);
      return result;
    }
    InboundPart kept;
    kept.source = parties.sender_key();
    kept.destination = parties.recipient;
    kept.reference = part->part->reference;
    kept.total = part->part->total;
    kept.sequence = part->part->sequence;
    kept.text = std::move(*text);
    kept.received_at = now;
    kept.sender_is_number = !parties.sender.empty();
    kept.seen_key = key;
    auto added = store_.add_inbound_part(settings_.name, kept);
    if (added && added->outcome == InboundAdd::displaced) {
      // The phone reused the reference while an older message with it was
      // incomplete: the older one goes out now with what came.
      InboundAnswer older = mail_stored(added->message, now);
      if (older.status == InboundStatus::unavailable) return older;
      added = store_.add_inbound_part(settings_.name, kept);
      if (added && added->outcome == InboundAdd::displaced)
        return unavailable("the parts of an older message are still in the store");
    }
    if (!added) return unavailable("the SMS store is unavailable: " + added.error().message);
    if (added->outcome == InboundAdd::kept) {
      InboundAnswer a = answer(InboundStatus::part_kept, smpp::status::ok, "");
      a.mailbox = destination.mailbox;
      return a;
    }
    const InboundMessage& whole = added->message;
    facts.parts = std::to_string(whole.total);
    MailInput input = mail_of(whole, std::move(parties), std::move(destination));
    InboundAnswer result = queue_mail(settings_, ingest_, store_, stopping_, input);
    // A transient failure keeps the parts: the SMSC sends this one again,
    // or the sweep mails them after reassembly_timeout.
    if (result.status != InboundStatus::unavailable) forget_message(settings_, store_, whole, now);
    return result;
  };
  InboundAnswer result = attempt();
  log_received(settings_, facts, result);
  return result;
}

void SmsInbound::flush_expired(std::int64_t now) {
  if (stopping_) return;
  auto expired = store_.expired_inbound(
      settings_.name,
      now - static_cast<std::int64_t>(settings_.inbound.reassembly_timeout.count()));
  if (!expired) {
    log::Line("sms_reassembly_sweep_failed")
        .kv("connector", settings_.name)
        .kv("reason", expired.error().message)
        .write(log::Level::warn);
    return;
  }
  for (const InboundMessage& message : *expired) {
    if (stopping_) return;
    mail_stored(message, now);
  }
}

}  // namespace bh::connectors::sms
