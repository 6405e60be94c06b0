// The message text part of the session: DATA and BDAT, the checks at its
// end (smuggling, limits, trust), and the hand-over to the queue.
#include <fmt/format.h>

#include "smtp/proto/command.hpp"
#include "smtp/server/received_header.hpp"
#include "smtp/server/session_machine.hpp"
#include "util/gateway_metrics.hpp"

namespace bh::smtp {

// Body bytes beyond the buffer go to the driver; the header stays (the
// policy reads and edits it at the end of DATA).
bool SessionMachine::spill_due() {
  if (!decoder_) return false;
  std::size_t body = decoder_->body_offset();
  if (body == std::string::npos || draft_.content.size() <= body ||
      draft_.content.size() - body < settings_.limits.content_buffer)
    return false;
  if (!spill_failed_) return true;
  draft_.content.resize(body);  // a write failed: the message is refused, nothing more is kept
  return false;
}

std::string_view SessionMachine::spill_bytes() const {
  std::size_t body = decoder_ ? decoder_->body_offset() : std::string::npos;
  if (body == std::string::npos || body >= draft_.content.size()) return {};
  return std::string_view(draft_.content).substr(body);
}

void SessionMachine::spilled(const Status& written) {
  std::size_t body = decoder_ ? decoder_->body_offset() : std::string::npos;
  if (body == std::string::npos || body >= draft_.content.size()) return;
  if (written) {
    draft_.spilled += draft_.content.size() - body;
  } else {
    spill_failed_ = true;
    spill_disk_full_ = is_disk_full(written.error());
  }
  draft_.content.resize(body);
}

void SessionMachine::begin_content(DataDecoder::Mode mode) {
  Envelope& envelope = draft_.envelope;
  envelope.arrival = settings_.now();
  envelope.client = client_;
  draft_.content = received_header(envelope, settings_.hostname, extended_);
  decoder_ = std::make_unique<DataDecoder>(
      mode,
      TextLimits{settings_.limits.message_size, settings_.limits.text_line,
                 settings_.limits.header_bytes},
      draft_.content, settings_.strip_nul);
}

void SessionMachine::on_data(std::string_view argument) {
  if (!argument.empty()) return error_reply(501, "5.5.4", "Syntax: DATA");
  if (transaction_ == Transaction::none)
    return error_reply(503, "5.5.1", "Error: need MAIL command");
  if (transaction_ != Transaction::recipients)
    return error_reply(503, "5.5.1", "Error: need RCPT command");
  if (decoder_) return error_reply(503, "5.5.1", "Error: DATA after BDAT");
  begin_content(DataDecoder::Mode::dot_stuffed);
  phase_ = Phase::data;
  reply(354, "", "End data with <CR><LF>.<CR><LF>");
}

void SessionMachine::on_bdat(std::string_view argument) {
  auto args = parse_bdat(argument);
  if (!args) {
    // Without a valid size the chunk cannot be skipped: the stream is lost.
    reply(501, "5.5.4", "Syntax: BDAT size [LAST]");
    reply(421, "4.5.4",
          fmt::format("{} Error: cannot find the end of a BDAT chunk of unknown size; closing",
                      settings_.hostname));
    return close_with("unparseable BDAT");
  }
  bdat_remaining_ = args->size;
  bdat_chunk_size_ = args->size;
  bdat_last_ = args->last;
  phase_ = Phase::bdat;
  // RFC 3030 2: the chunk is read even when it will be refused.
  bdat_discard_ = transaction_ != Transaction::recipients || bdat_failed_;
  if (!bdat_discard_ && !decoder_) begin_content(DataDecoder::Mode::raw);
}

void SessionMachine::step_bdat() {
  std::size_t take =
      static_cast<std::size_t>(std::min<std::uint64_t>(bdat_remaining_, input_end_ - input_begin_));
  if (!bdat_discard_) {
    decoder_->feed(std::string_view(input_.data() + input_begin_, take));
  }
  input_begin_ += take;
  bdat_remaining_ -= take;
  if (bdat_remaining_ > 0) return;
  phase_ = Phase::command;
  if (bdat_discard_) {
    if (transaction_ != Transaction::recipients)
      return error_reply(503, "5.5.1", "Error: need RCPT command");
    return error_reply(503, "5.5.1", "Error: earlier BDAT chunk failed; send RSET");
  }
  if (decoder_->too_big()) {
    bdat_failed_ = true;
    ++stats_.messages_rejected;
    metrics::gateway_metrics().message("refused");
    return error_reply(552, "5.3.4", "Message size exceeds fixed limit");
  }
  if (!bdat_last_) {
    return reply(250, "2.0.0", fmt::format("{} octets received", bdat_chunk_size_));
  }
  decoder_->finish_raw();
  finish_content();
}

void SessionMachine::finish_content() {
  phase_ = Phase::command;
  const DataDecoder& decoder = *decoder_;
  std::string_view refusal_enhanced;
  std::string refusal;
  int code = 0;
  if (spill_failed_ && spill_disk_full_) {
    code = 452, refusal_enhanced = "4.3.1";
    refusal = "Error: insufficient system storage; try again later";
  } else if (spill_failed_) {
    code = 451, refusal_enhanced = "4.3.0";
    refusal = "Error: queue file write error; try again later";
  } else if (decoder.bare_line_ending()) {
    code = 550, refusal_enhanced = "5.5.2";
    refusal = "Error: bare <LF> or <CR> in message text; lines must end with <CR><LF>";
  } else if (decoder.nul_seen() && !settings_.strip_nul) {
    code = 550, refusal_enhanced = "5.6.0";
    refusal = "Error: NUL bytes in message text are not accepted";
  } else if (decoder.too_big()) {
    code = 552, refusal_enhanced = "5.3.4";
    refusal = "Error: message size exceeds fixed limit";
  } else if (decoder.line_too_long()) {
    code = 500, refusal_enhanced = "5.5.2";
    refusal = fmt::format("Error: message line longer than {} characters",
                          settings_.limits.text_line - 2);
  } else if (decoder.header_too_big()) {
    code = 552, refusal_enhanced = "5.3.4";
    refusal = "Error: message header size exceeds limit";
  }
  if (code != 0) {
    ++stats_.messages_rejected;
    metrics::gateway_metrics().message("refused");
    error_reply(code, refusal_enhanced, refusal);  // logged with the transaction's id
    return reset_transaction();
  }
  // The header ends where the body begins (everything, for a message without a body).
  std::size_t body = decoder.body_offset();
  draft_.header_size = body == std::string::npos ? draft_.content.size() : body;
  decoder_.reset();
  trace_content(draft_.content, draft_.header_size, draft_.spilled + draft_.content.size());
  if (settings_.intake) {
    intake::MessageDecision decision = settings_.intake->message(
        origin(), draft_.envelope, draft_.content, draft_.header_size,
        draft_.spilled + draft_.content.size(), settings_.now ? settings_.now() : 0);
    for (const intake::TraceEntry& entry : decision.trace)
      decided(entry.stage, entry.verdict, entry.tenant);
    if (!decision.verdict.accepted) {
      ++stats_.messages_rejected;
      metrics::gateway_metrics().message("refused");
      error_reply(decision.verdict.code, decision.verdict.enhanced, decision.verdict.reply);
      return reset_transaction();
    }
    if (decision.discard) {
      reply(250, "2.0.0", "Ok: connector validation probe accepted, not delivered");
      reset_transaction();
      return;
    }
  }
  draft_.envelope.client.inbound_connector = client_.inbound_connector;
  trace_accepted();
  phase_ = Phase::awaiting_commit;
}

void SessionMachine::commit_finished(const Status& committed) {
  phase_ = Phase::command;
  line_started_ms_ = clock_ms();  // the server's work is done: the client's time starts
  if (committed) {
    ++stats_.messages_accepted;
    trace_received();
    reply(250, "2.0.0", fmt::format("Ok: queued as {}", draft_.envelope.queue_id));
  } else if (is_disk_full(committed.error())) {  // the client retries later, as after Postfix's
                                                 // "insufficient storage"
    ++stats_.messages_rejected;
    metrics::gateway_metrics().message("refused");
    reply(452, "4.3.1", "Error: insufficient system storage; try again later");
    trace_commit_failed(452, "4.3.1", "Error: insufficient system storage; try again later");
  } else {
    ++stats_.messages_rejected;
    metrics::gateway_metrics().message("refused");
    reply(451, "4.3.0", "Error: queue file write error");
    trace_commit_failed(451, "4.3.0", "Error: queue file write error");
  }
  reset_transaction();
}

}  // namespace bh::smtp
