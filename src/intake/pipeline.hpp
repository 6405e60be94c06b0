// The one path into the queue (docs/data-path.md). Every message, whatever
// its source (an SMTP session, a fax, an SMS, an HTTP ingest, a notice the
// gateway writes itself), passes the same stages before it is queued:
//
//   identity and trust -> routing of each recipient -> header edits -> enqueue
//
// This file is the decisions: pure functions of the policy snapshot and
// typed inputs, no sockets, no files. The SMTP session asks at each of its
// steps (connect, MAIL, RCPT) and hands the finished message to message();
// ingest sources call submit() (intake/ingest.hpp), which runs the same
// stages at once. The durable enqueue is the group commit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mail/envelope.hpp"
#include "policy/policy_set.hpp"

namespace bh::intake {

enum class Source { smtp, fax, sms, http, local };
std::string_view source_name(Source source);

// Where a message comes from.
struct Origin {
  Source source = Source::smtp;
  PeerFacts peer;  // the SMTP client; empty for ingest
  const InboundConnector* connector = nullptr;
};

// One decision for the message trace.
struct TraceEntry {
  std::string stage;  // "loop", "stamp", "data", "headers_removed", "rules", "header_edit",
                      // "route", "service"
  Verdict verdict;
  std::string tenant;
  std::string recipient;  // the recipient a per-recipient stage decided on (ingest), or ""
};

struct MessageDecision {
  Verdict verdict;  // refused: the reply the client (or ingest caller) gets
  // Accepted, not queued: a connector validation probe, or the gateway's
  // own mail (Source::local) to a service such as fax (the reason is the
  // last trace entry).
  bool discard = false;
  std::vector<TraceEntry> trace;
};

class Pipeline {
 public:
  explicit Pipeline(std::shared_ptr<const PolicySet> policy) : policy_(std::move(policy)) {}

  const PolicySet& policy() const { return *policy_; }

  Verdict connect(const PeerFacts& peer) const { return policy_->trust.on_connect(peer); }
  const InboundConnector* identify(const PeerFacts& peer) const {
    return policy_->trust.identify(peer);
  }
  Verdict mail(const Origin& origin) const {
    return policy_->trust.on_mail(origin.connector, origin.peer);
  }
  // RCPT TO: some route takes the recipient (its tenant is not known yet),
  // sender-specified routing only where the route allows it, and trust.
  // stage names the refusing step for the trace ("route" or "rcpt").
  Verdict recipient(const Origin& origin, const Address& sender, const Recipient& recipient,
                    std::string* stage = nullptr) const;
  // The end of the message: loop limit, processed stamps, tenant and
  // sender, transport rules, the connector of each recipient (written into
  // the envelope), header edits and the new stamp. content's first
  // header_size bytes are the header; both change with the edits. size:
  // the whole message's bytes (its body may be on disk already).
  MessageDecision message(const Origin& origin, Envelope& envelope, std::string& content,
                          std::size_t& header_size, std::uint64_t size, std::int64_t now) const;

 private:
  std::shared_ptr<const PolicySet> policy_;
};

}  // namespace bh::intake
