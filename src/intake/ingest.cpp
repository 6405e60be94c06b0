#include "intake/ingest.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>

#include <optional>

#include <fmt/format.h>

#include "intake/ingest_trace.hpp"
#include "mail/header_block.hpp"

namespace bh::intake {
namespace asio = boost::asio;

std::string content_problem(std::string_view content, const Limits& limits) {
  if (content.size() > limits.message_size)
    return fmt::format("the message is larger than {} bytes", limits.message_size);
  std::size_t header_end = content.find("\r\n\r\n");
  if (content.empty() || content.starts_with("\r\n")) return "the message has no header fields";
  if (header_end != std::string_view::npos && header_end + 4 > limits.header_bytes)
    return fmt::format("the header is larger than {} bytes", limits.header_bytes);
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < content.size(); ++i) {
    char c = content[i];
    if (c == '\0') return fmt::format("NUL byte at offset {}", i);
    if (c == '\r' && (i + 1 >= content.size() || content[i + 1] != '\n'))
      return fmt::format("bare CR at offset {}", i);
    if (c == '\n') {
      if (i == 0 || content[i - 1] != '\r') return fmt::format("bare LF at offset {}", i);
      if (i + 1 - line_start > limits.text_line)
        return fmt::format("a line longer than {} characters at offset {}", limits.text_line - 2,
                           line_start);
      line_start = i + 1;
    }
  }
  if (line_start != content.size()) return "the message does not end with CRLF";
  return "";
}

Ingest::Ingest(const PolicyHolder& policy, queue::GroupCommit& commit,
               std::function<std::string()> make_queue_id, std::function<std::int64_t()> now,
               asio::any_io_executor executor, trace::Sink* trace)
    : policy_(policy),
      commit_(commit),
      make_queue_id_(std::move(make_queue_id)),
      now_(std::move(now)),
      executor_(std::move(executor)),
      trace_(trace) {}

void Ingest::submit(Submission submission, std::function<void(Submitted)> done) {
  Pipeline pipeline(policy_.current());
  Submitted result;
  // Each decision and the refusal are traced under the submission's queue id.
  auto trace_decisions = [&] {
    if (trace_ == nullptr) return;
    for (const TraceEntry& entry : result.trace) trace_->record(decision_event(submission, entry));
  };
  auto refuse = [&](std::string_view stage, Verdict verdict) {
    trace_decisions();
    if (trace_ != nullptr && !verdict.accepted) {
      trace::TraceEvent event = refused_event(submission, stage, verdict);
      // A per-recipient stage's refusal names the recipient, as a session's RCPT does.
      if (!result.trace.empty() && result.trace.back().stage == stage)
        event.recipient = result.trace.back().recipient;
      trace_->record(std::move(event));
    }
    result.verdict = std::move(verdict);
    asio::post(executor_, [done = std::move(done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  };
  Envelope& envelope = submission.envelope;
  envelope.queue_id = make_queue_id_();
  envelope.arrival = now_();
  envelope.client.ip.clear();
  envelope.client.helo = std::string(source_name(submission.origin.source));
  if (std::string problem = content_problem(submission.content, pipeline.policy().limits);
      !problem.empty())
    return refuse("content", Verdict::refuse(554, "5.6.0", "Error: " + problem));
  if (envelope.recipients.empty())
    return refuse("rcpt", Verdict::refuse(554, "5.5.1", "Error: no valid recipients"));
  for (const Recipient& recipient : envelope.recipients) {
    std::string stage;
    Verdict verdict = pipeline.recipient(submission.origin, envelope.sender, recipient, &stage);
    if (!verdict.accepted) {
      result.trace.push_back({stage, verdict, "", recipient.address.text()});
      return refuse(stage, std::move(verdict));
    }
  }
  std::size_t header_size = header_size_of(submission.content);
  MessageDecision decision = pipeline.message(submission.origin, envelope, submission.content,
                                              header_size, submission.content.size(), now_());
  result.trace = std::move(decision.trace);
  if (!decision.verdict.accepted)
    return refuse(result.trace.empty() ? "data" : result.trace.back().stage,
                  std::move(decision.verdict));
  if (decision.discard) {  // accepted, deliberately not queued
    result.accepted = true;
    return refuse("discard", Verdict::accept("discarded"));
  }
  trace_decisions();
  std::string id = envelope.queue_id;
  // The received event, made now (before the scheduler's events about the
  // message) and recorded once the queue has it, as a session does. A
  // failed commit is traced as the refusal the source gets.
  std::optional<trace::TraceEvent> received;
  if (trace_ != nullptr) {
    received = received_event(submission, header_size);
    received->time_ms = trace_->now_ms();
  }
  queue::GroupCommit::Message message{
      std::move(envelope), std::move(submission.content), header_size, {}};
  commit_.async_commit(
      std::move(message),
      asio::bind_executor(
          executor_, [done = std::move(done), result = std::move(result), id, trace = trace_,
                      received = std::move(received)](queue::CommitResult committed) mutable {
            result.accepted = committed.ok();
            if (committed) {
              result.queue_id = id;
              if (trace != nullptr && received) trace->record(std::move(*received));
            } else {
              result.verdict =
                  is_disk_full(committed.error())
                      ? Verdict::refuse(452, "4.3.1", "Error: insufficient system storage",
                                        committed.error().message)
                      : Verdict::refuse(451, "4.3.0", "Error: queue file write error",
                                        committed.error().message);
              if (trace != nullptr && received)
                trace->record(commit_refused_event(std::move(*received), result.verdict));
            }
            done(std::move(result));
          }));
}

}  // namespace bh::intake
