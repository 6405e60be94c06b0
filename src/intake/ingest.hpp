// The intake for messages that do not arrive over SMTP: an incoming fax, an
// SMS, an HTTP ingest (issues 10, 11 and the admin API). They pass the
// same stages as a session's message (intake/pipeline.hpp): each
// recipient, then the message (loop limit, stamps, trust, rules, routing,
// header edits, the stamp), then the durable enqueue of the group commit.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "intake/pipeline.hpp"
#include "queue/group_commit.hpp"
#include "trace/event.hpp"

namespace bh::intake {

struct Submission {
  Origin origin;        // source fax, sms or http; no SMTP peer
  Envelope envelope;    // sender and recipients; the queue id and arrival are set here
  std::string content;  // the complete message, header and body, CRLF line endings
  // What the source knows about it, for the message trace's received event
  // (a fax: caller, called number, mailbox), after the source itself.
  std::vector<std::pair<std::string, std::string>> trace_facts;
};

struct Submitted {
  bool accepted = false;
  std::string queue_id;           // when accepted: durable in incoming/
  Verdict verdict;                // when refused: the code and text a caller maps to its protocol
  std::vector<TraceEntry> trace;  // every decision, for the message trace
};

// Why content cannot be queued as a message (bare CR or LF, NUL, a line
// longer than limits.text_line, a header or message over its limit, not
// one header field at all); empty when it can. Written for content the
// gateway composed, and for content an HTTP client sent.
std::string content_problem(std::string_view content, const Limits& limits);

class Ingest {
 public:
  Ingest(const PolicyHolder& policy, queue::GroupCommit& commit,
         std::function<std::string()> make_queue_id, std::function<std::int64_t()> now,
         boost::asio::any_io_executor executor, trace::Sink* trace = nullptr);

  // done runs on the executor once the message is durable or refused.
  void submit(Submission submission, std::function<void(Submitted)> done);

 private:
  const PolicyHolder& policy_;
  queue::GroupCommit& commit_;
  std::function<std::string()> make_queue_id_;
  std::function<std::int64_t()> now_;
  boost::asio::any_io_executor executor_;
  trace::Sink* trace_;  // null: no message trace; else a received event per queued message
};

}  // namespace bh::intake
