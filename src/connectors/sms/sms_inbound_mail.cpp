// The mail of an SMS: its text from the parts that came, composed
// (sms_mail) and queued through the intake with a bounded wait, then the
// conversation remembered for replies.
#include <algorithm>
#include <chrono>
#include <set>

#include <fmt/format.h>

#include "connectors/sms/sms_inbound_internal.hpp"
#include "connectors/sms/sms_mail.hpp"
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

}  // namespace

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

}  // namespace bh::connectors::sms
