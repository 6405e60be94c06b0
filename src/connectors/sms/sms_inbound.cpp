#include "connectors/sms/sms_inbound.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <variant>

#include <fmt/format.h>

#include "connectors/sms/sms_encoding.hpp"
#include "connectors/sms/sms_mail.hpp"
#include "connectors/sms/sms_segments.hpp"
#include "directory/phone_number.hpp"
#include "intake/ingest.hpp"
#include "mail/address.hpp"
#include "util/log.hpp"

namespace bh::connectors::sms {
namespace {

// How long a receive waits for the group commit's answer (which comes
// within a batch interval): after it the SMSC is asked to send the SMS
// again. Should the commit still write the mail, the copy that follows
// has the same Message-ID when its text and time are the same.
constexpr std::chrono::seconds kCommitWait{60};
constexpr std::chrono::milliseconds kStopCheck{200};

// TON of an alphanumeric source_addr ("MyBank"): nobody can text it back.
constexpr std::uint8_t kTonAlphanumeric = 5;
constexpr std::uint8_t kTonInternational = 1;

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

// Ingest::submit answers on its executor; the store thread waits for it.
struct Wait {
  std::mutex mutex;
  std::condition_variable answered;
  std::optional<intake::Submitted> result;
};

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
};

// The mailbox for an E.164 number: its owner (unless the number is for fax
// only), else the catch-all, else refused as an unknown number.
std::variant<Destination, InboundAnswer> find_destination(const directory::DirectoryView& directory,
                                                          const std::string& number,
                                                          const InboundSettings& settings) {
  auto owner = directory.find_number(number);
  if (owner.is_unavailable()) return unavailable("the directory is unavailable: " + owner.reason);
  if (owner.is_found() && owner->service != "fax")
    return Destination{owner->mailbox, owner->tenant};
  if (settings.catch_all.empty())
    return refused(fmt::format("no mailbox owns {} and there is no catch-all", number),
                   smpp::status::invalid_dest_address);
  Destination destination{settings.catch_all, ""};
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
  return input;
}

// The parties of a stored message: its source is E.164 when the sender was
// a number (sms_store.hpp).
Parties parties_of(const InboundMessage& message, std::string_view region) {
  Parties parties;
  parties.sender_raw = message.source;
  if (message.source.starts_with('+'))
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
  fields.unique = sms_message_id_left(input.parties.sender_key(), input.parties.recipient,
                                      input.text, input.received_at);

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

  auto wait = std::make_shared<Wait>();
  ingest.submit(std::move(submission), [wait](intake::Submitted submitted) {
    std::lock_guard lock(wait->mutex);
    wait->result = std::move(submitted);
    wait->answered.notify_all();
  });
  // Bounded: an answer that does not come (the gateway stops, the executor
  // is stuck) asks the SMSC to send the SMS again.
  auto give_up_at = std::chrono::steady_clock::now() + kCommitWait;
  std::unique_lock lock(wait->mutex);
  while (!wait->result) {
    if (stopping) return unavailable("the gateway is stopping");
    if (std::chrono::steady_clock::now() >= give_up_at)
      return unavailable("the queue did not answer in time");
    wait->answered.wait_for(lock, kStopCheck);
  }
  intake::Submitted& submitted = *wait->result;

  InboundAnswer result;
  result.mailbox = fields.mailbox;
  if (!submitted.accepted) {
    // 4xx: the queue could not take it now; 5xx: policy refused it.
    bool transient = submitted.verdict.code < 500;
    result.status = transient ? InboundStatus::unavailable : InboundStatus::refused;
    result.smpp_status =
        transient ? smpp::status::temporary_app_error : smpp::status::permanent_app_error;
    result.reason = fmt::format("{} {} {}", submitted.verdict.code, submitted.verdict.enhanced,
                                submitted.verdict.reply);
    return result;
  }
  result.status = InboundStatus::queued;
  result.smpp_status = smpp::status::ok;
  result.queue_id = submitted.queue_id;
  if (submitted.queue_id.empty()) result.reason = "discarded by a transport rule";
  // The mail is durable: a store problem now costs only the reply's number.
  if (!input.parties.sender.empty()) {
    Status remembered =
        store.remember_conversation(to_lower_ascii(fields.mailbox), input.parties.sender,
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
  log::Level level =
      result.status == InboundStatus::queued || result.status == InboundStatus::part_kept
          ? log::Level::info
          : log::Level::warn;
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
      .write(level);
}

// After its mail is queued (or refused for good), a reassembled message
// leaves the store. A failure here is logged: the parts stay until the
// store purges them, and a part the SMSC sends again mails them again
// (with the same Message-ID), which is better than losing them.
void forget_message(const SmsSettings& settings, SmsStore& store, const InboundMessage& message) {
  Status removed = store.remove_inbound(settings.name, message);
  if (!removed)
    log::Line("sms_parts_not_removed")
        .kv("connector", settings.name)
        .kv("sender", message.source)
        .kv("recipient", message.destination)
        .kv("reason", removed.error().message)
        .write(log::Level::warn);
}

}  // namespace

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
    // Before a part is kept: an SMS nobody would get is refused at once.
    auto found = find_destination(directory_, parties.recipient, settings_.inbound);
    if (auto* problem = std::get_if<InboundAnswer>(&found)) return *problem;
    Destination destination = std::get<Destination>(found);

    if (!part->part || part->part->total <= 1) {
      MailInput input;
      input.parties = std::move(parties);
      input.destination = std::move(destination);
      input.text = std::move(*text);
      input.received_at = now;
      return queue_mail(settings_, ingest_, store_, stopping_, input);
    }
    const PartInfo& info = *part->part;
    facts.parts = fmt::format("{}/{}", info.sequence, info.total);
    InboundPart kept;
    kept.source = parties.sender_key();
    kept.destination = parties.recipient;
    kept.reference = info.reference;
    kept.total = info.total;
    kept.sequence = info.sequence;
    kept.text = std::move(*text);
    kept.received_at = now;
    auto complete = store_.add_inbound_part(settings_.name, kept);
    if (!complete) return unavailable("the SMS store is unavailable: " + complete.error().message);
    if (!complete->has_value()) {
      InboundAnswer a = answer(InboundStatus::part_kept, smpp::status::ok, "");
      a.mailbox = destination.mailbox;
      return a;
    }
    const InboundMessage& whole = **complete;
    facts.parts = std::to_string(whole.total);
    MailInput input = mail_of(whole, std::move(parties), std::move(destination));
    InboundAnswer result = queue_mail(settings_, ingest_, store_, stopping_, input);
    // A transient failure keeps the parts: the SMSC sends this one again.
    if (result.status != InboundStatus::unavailable) forget_message(settings_, store_, whole);
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
    // Unavailable: the next sweep tries again; anything else is final.
    if (result.status != InboundStatus::unavailable) forget_message(settings_, store_, message);
    log_received(settings_, facts, result);
  }
}

}  // namespace bh::connectors::sms
