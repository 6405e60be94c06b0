#include "connectors/sms/sms_inbound.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>
#include <variant>

#include <fmt/format.h>

#include "connectors/sms/sms_addressing.hpp"  // kTonAlphanumeric, kTonInternational
#include "connectors/sms/sms_encoding.hpp"
#include "connectors/sms/sms_mail.hpp"
#include "connectors/sms/sms_segments.hpp"
#include "directory/phone_number.hpp"
#include "intake/ingest.hpp"
#include "intake/submit_wait.hpp"
#include "mail/address.hpp"
#include "util/log.hpp"

namespace bh::connectors::sms {
namespace {

// How long a receive waits for the group commit's answer (which comes
// within a batch interval). SMSCs commonly give up on a deliver_sm_resp
// after about 10 seconds and deliver the SMS again: our ESME_RX_T_APPN must
// come before that, or it is wasted. Should the commit still write the mail
// after we gave up, the copy the SMSC sends has the same Message-ID.
constexpr std::chrono::seconds kCommitWait{8};

InboundAnswer answer(InboundStatus status, std::uint32_t smpp_status, std::string reason) {
  InboundAnswer a;
  a.status = status;
  a.smpp_status = smpp_status;
  a.reason = std::move(reason);
  return a;
}
InboundAnswer unavailable(std::string reason) {
  return answer(InboundStatus::unavailable, smpp::status::temporary_app_error, std::move(reason));
}
InboundAnswer refused(std::string reason,
                      std::uint32_t smpp_status = smpp::status::permanent_app_error) {
  return answer(InboundStatus::refused, smpp_status, std::move(reason));
}

// An SMSC address as E.164: international digits get their '+', anything
// else is read as a national number of the region.
Result<std::string> e164_of(const smpp::SmeAddress& address, std::string_view region) {
  if (address.ton == kTonInternational && !address.address.starts_with('+'))
    return directory::to_e164("+" + address.address, region);
  return directory::to_e164(address.address, region);
}

// Who sent an SMS and to which number.
struct Parties {
  std::string sender;      // E.164, "" when the sender is no number
  std::string sender_raw;  // as the SMSC gave it
  std::string recipient;   // E.164
  // What identifies the sender in the store and the Message-ID.
  const std::string& sender_key() const { return sender.empty() ? sender_raw : sender; }
};

// Where the SMS goes.
struct Destination {
  std::string mailbox;
  std::string tenant;
  // The catch-all: the number is nobody's, so no conversation is kept
  // (a reply takes the mailbox's own number, sms_outbound.hpp).
  bool catch_all = false;
};

// What the one log line of each SMS names.
struct Facts {
  std::string sender;
  std::string recipient;
  std::string parts = "1";  // "2/3" for a part kept
  std::string missing;      // "2,3" for an expired message
};

// One mail to compose and queue.
struct MailInput {
  Parties parties;
  Destination destination;
  std::string text;
  std::vector<int> missing_parts;
  int total_parts = 1;
  std::int64_t received_at = 0;
  std::string unique;  // the Message-ID's left side
};

// The mailbox for an E.164 number: the owner of a number the directory
// knows (refused when it is for fax only: a number of one tenant never
// reaches the catch-all, which may be another tenant's); only a number the
// directory does not know goes to the catch-all, else it is refused.
std::variant<Destination, InboundAnswer> find_destination(const directory::DirectoryView& directory,
                                                          const std::string& number,
                                                          const InboundSettings& settings) {
  auto owner = directory.find_number(number);
  if (owner.is_unavailable()) return unavailable("the directory is unavailable: " + owner.reason);
  if (owner.is_found()) {
    if (owner->service == "fax")
      return refused(fmt::format("{} is a number for fax only", number),
                     smpp::status::invalid_dest_address);
    return Destination{owner->mailbox, owner->tenant, false};
  }
  if (settings.catch_all.empty())
    return refused(fmt::format("no mailbox owns {} and there is no catch-all", number),
                   smpp::status::invalid_dest_address);
  Destination destination{settings.catch_all, "", true};
  auto user = directory.find_user(settings.catch_all);
  if (user.is_unavailable()) return unavailable("the directory is unavailable: " + user.reason);
  if (user.is_found()) destination.tenant = user->tenant;
  return destination;
}

std::string joined(const std::vector<int>& numbers) {
  std::string out;
  for (int n : numbers) out += (out.empty() ? "" : ",") + std::to_string(n);
  return out;
}

// The parts that came, in order, and those that did not.
MailInput mail_of(const InboundMessage& message, Parties parties, Destination destination) {
  MailInput input;
  input.parties = std::move(parties);
  input.destination = std::move(destination);
  input.total_parts = message.total;
  input.received_at = message.first_received_at;
  std::vector<const InboundPart*> parts;
  for (const InboundPart& part : message.parts) parts.push_back(&part);
  std::sort(parts.begin(), parts.end(),
            [](const InboundPart* a, const InboundPart* b) { return a->sequence < b->sequence; });
  std::set<int> present;
  for (const InboundPart* part : parts)
    if (present.insert(part->sequence).second) input.text += part->text;
  for (int sequence = 1; sequence <= message.total; ++sequence)
    if (!present.contains(sequence)) input.missing_parts.push_back(sequence);
  input.unique = reassembled_key(message.source, message.destination, message.reference,
                                 message.total, input.text);
  return input;
}

// The parties of a stored message: its source is E.164 when the parts say
// the sender was a number (the TON said so when they came).
Parties parties_of(const InboundMessage& message, std::string_view region) {
  Parties parties;
  parties.sender_raw = message.source;
  if (message.sender_is_number)
    if (auto number = directory::to_e164(message.source, region); number) parties.sender = *number;
  parties.recipient = message.destination;
  return parties;
}

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

// The mail of an SMS through the intake, waited for with a bound; then the
// conversation for replies. Shared by receive() and flush_expired().
InboundAnswer queue_mail(const SmsSettings& settings, intake::Ingest& ingest, SmsStore& store,
                         const std::atomic<bool>& stopping, const MailInput& input) {
  auto recipient = parse_path("<" + input.destination.mailbox + ">", false, true);
  if (!recipient.address)
    return unavailable("the mailbox is not an address: " + input.destination.mailbox);
  const InboundSettings& in = settings.inbound;
  std::string sender_text = in.sender.empty() ? "postmaster@" + settings.hostname : in.sender;
  auto sender = parse_path("<" + sender_text + ">", true, false);
  if (!sender.address) return unavailable("[inbound] sender is not an address: " + sender_text);

  SmsMailFields fields;
  fields.mailbox = recipient.address->text();
  fields.sender = input.parties.sender;
  fields.sender_raw = input.parties.sender_raw;
  fields.recipient = input.parties.recipient;
  fields.text = input.text;
  fields.missing_parts = input.missing_parts;
  fields.total_parts = input.total_parts;
  fields.received_at = input.received_at;
  fields.reply_domain = !in.reply_domain.empty()    ? in.reply_domain
                        : !settings.domains.empty() ? settings.domains.front()
                                                    : settings.hostname;
  fields.hostname = settings.hostname;
  fields.unique = input.unique;

  intake::Submission submission;
  submission.origin.source = intake::Source::sms;
  submission.envelope.sender = *sender.address;
  submission.envelope.recipients.push_back(Recipient{*recipient.address, 0, ""});
  submission.envelope.tenant = input.destination.tenant;
  submission.content = compose_sms_mail(fields);
  submission.trace_facts = {
      {"sender", input.parties.sender.empty() ? input.parties.sender_raw : input.parties.sender},
      {"recipient", input.parties.recipient},
      {"mailbox", fields.mailbox},
      {"parts", std::to_string(input.total_parts)}};

  // Bounded: an answer that does not come (the gateway stops, the executor
  // is stuck) asks the SMSC to send the SMS again.
  auto submitted = intake::submit_and_wait(ingest, std::move(submission), kCommitWait, stopping);
  if (!submitted)
    return unavailable(stopping ? "the gateway is stopping" : "the queue did not answer in time");

  InboundAnswer result;
  result.mailbox = fields.mailbox;
  if (!submitted->accepted) {
    // 4xx: the queue could not take it now; 5xx: policy refused it.
    bool transient = submitted->verdict.code < 500;
    result.status = transient ? InboundStatus::unavailable : InboundStatus::refused;
    result.smpp_status =
        transient ? smpp::status::temporary_app_error : smpp::status::permanent_app_error;
    result.reason = fmt::format("{} {} {}", submitted->verdict.code, submitted->verdict.enhanced,
                                submitted->verdict.reply);
    return result;
  }
  result.status = InboundStatus::queued;
  result.smpp_status = smpp::status::ok;
  result.queue_id = submitted->queue_id;
  if (submitted->queue_id.empty()) result.reason = "discarded by a transport rule";
  // The mail is durable: a store problem now costs only the reply's number.
  if (!input.parties.sender.empty() && !input.destination.catch_all) {
    Status remembered =
        store.remember_conversation(settings.name, fields.mailbox, input.parties.sender,
                                    input.parties.recipient, input.received_at);
    if (!remembered)
      log::Line("sms_conversation_not_kept")
          .kv("connector", settings.name)
          .kv("mailbox", fields.mailbox)
          .kv("reason", remembered.error().message)
          .write(log::Level::warn);
  }
  return result;
}

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
