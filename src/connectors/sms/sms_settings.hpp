// Settings of an SMS connector ([[connector]] type = "sms"; README.md in
// this folder lists every key with its default). One connector talks SMPP
// 3.4 to one SMSC (a provider) through one or more binds.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "connectors/destination_rules.hpp"

namespace bh::connectors::sms {

// One SMPP bind: a TCP (or TLS) connection with its own credentials. Several
// binds to the same SMSC multiply the window; the connector spreads submits.
struct BindSettings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 2775;
  std::string system_id;      // at most 15 characters (SMPP 3.4 5.2.1)
  std::string password_file;  // one line, at most 8 characters; empty: empty password
  std::string password;       // read from password_file by the kind (never in the config)
  std::string system_type;    // at most 12 characters, often empty
  bool tls = false;
  std::string tls_ca_file;      // trust anchors for the SMSC's certificate; empty: system store
  std::string tls_server_name;  // name checked in the certificate; empty: host
  std::string tls_certificate;  // client certificate (PEM), optional
  std::string tls_key;          // its key
};

// How the mail's text is chosen and cleaned up (sms_text.hpp).
enum class TextSource { body, subject, subject_and_body };

// How a text that needs more than one SMS is sent (sms_segments.hpp).
enum class LongMessages {
  udh,              // concatenated parts, each with a user data header (esm_class 0x40)
  sar,              // concatenated parts with the sar_* TLVs
  message_payload,  // one submit_sm with the message_payload TLV; the SMSC splits
};

// What data_coding 0 means to this SMSC, in both directions (providers differ).
enum class DefaultAlphabet { gsm7, latin1, ascii };

// How the sender hears of an SMS that was delivered to the handset.
enum class SuccessNotice {
  dsn,     // a success DSN only when the recipient asked for it (NOTIFY=SUCCESS)
  report,  // always a short report unless NOTIFY=NEVER
};

// How the SMSC writes message ids in receipts against submit_sm_resp
// (Kannel's msg-id-type): both sides are normalised before matching.
enum class ReceiptIds {
  same,            // the receipt repeats the id as submit_sm_resp gave it
  hex_to_decimal,  // submit_sm_resp gives hex, the receipt decimal
  decimal_to_hex,  // submit_sm_resp gives decimal, the receipt hex
};

struct SmppTiming {
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds response_timeout{30};  // for each request of ours (bind, submit, enquire)
  std::chrono::seconds enquire_link_interval{30};  // after this long without traffic
  std::chrono::milliseconds reconnect_min{1000};   // first wait after a lost bind, doubling
  std::chrono::milliseconds reconnect_max{60000};
  std::chrono::milliseconds throttle_backoff{
      1000};  // after ESME_RTHROTTLED / ESME_RMSGQFUL, doubling
  std::chrono::milliseconds throttle_backoff_max{30000};
  // How long a submit may wait for a free window or a bound bind before
  // the recipient is deferred (the queue retries it later).
  std::chrono::seconds submit_wait{60};
  // How often the store thread sweeps (sms_connector.hpp). Not a config
  // key: tests shorten it.
  std::chrono::milliseconds sweep_interval{10000};
};

// SMS -> mail.
struct InboundSettings {
  std::string reply_domain;  // From: <+491701234567@reply_domain>; default: the first domain
  std::string catch_all;     // mailbox for numbers the directory does not know; empty: refuse
  std::string sender;        // envelope sender of the mails; default: postmaster@<hostname>
  // Parts of a concatenated SMS wait this long for the rest; then the mail
  // goes out with what arrived and says which parts are missing.
  std::chrono::seconds reassembly_timeout{600};
  // An SMS identical to one taken this recently (same sender, number,
  // coding, text and part) is the SMSC sending it again because our answer
  // came too late: answered ok without a second mail. Short, because the
  // same "ok" from the same phone later is a new message (at most
  // kSeenSeconds, sms_store.hpp).
  std::chrono::seconds duplicate_window{300};
};

struct SmsSettings {
  std::string name;
  std::string hostname;  // the gateway's (Message-ID, Reporting-MTA)
  std::vector<BindSettings> binds;
  // The domains whose local part is a number: +491701234567@sms.example.com.
  std::vector<std::string> domains;
  std::string default_region = "DE";  // for national numbers (0170 1234567)
  // Numbers no SMS goes to (5.7.1): premium rate by default, and what the
  // administrator blocks (connectors/destination_rules.hpp).
  DestinationRules destinations;

  // Mail -> SMS.
  TextSource text_source = TextSource::body;
  // Trimming (sms_text.hpp): quoted replies ("> ..." lines, "On ... wrote:",
  // Outlook's "From: ... Sent: ..." block) and the signature ("-- " line)
  // are cut; further RE2 patterns mark a line where the text ends.
  bool trim_quotes = true;
  bool trim_signature = true;
  std::vector<std::string> cut_patterns;
  LongMessages long_messages = LongMessages::udh;
  int max_parts = 6;  // more parts than this bounce (5.3.4) with the longest allowed length
  std::uint32_t max_payload_bytes = 1800;  // long_messages = message_payload: the SMSC's limit
  DefaultAlphabet default_alphabet = DefaultAlphabet::gsm7;
  // The sender (source_addr) when no conversation and no number of the
  // user's gives one: an E.164 number or an alphanumeric id (at most 11
  // characters, GSM 7-bit). Empty: the SMSC fills it in (source_addr "").
  std::string source_address;
  bool request_receipts = true;  // registered_delivery 1
  ReceiptIds receipt_ids = ReceiptIds::same;
  std::string validity_period;  // SMPP time ("000001000000000R": one day); empty: the SMSC's
  SuccessNotice success_notice = SuccessNotice::dsn;
  std::uint64_t max_message_bytes = 1ull << 20;  // a bigger mail is refused (5.3.4) unread
  int window = 10;                               // outstanding submit_sm per bind
  SmppTiming timing;

  InboundSettings inbound;
};

}  // namespace bh::connectors::sms
