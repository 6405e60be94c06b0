// The SMTP server session as a pure state machine: bytes in, replies and
// events out. The coroutine in session.cpp drives it with a socket; tests
// drive it with golden transcripts. It decides no policy itself: at each
// step it asks the intake pipeline, and hands it the finished message.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "intake/pipeline.hpp"
#include "mail/envelope.hpp"
#include "mail/limits.hpp"
#include "smtp/proto/data_decoder.hpp"
#include "trace/event.hpp"
#include "util/result.hpp"

namespace bh::smtp {

struct SessionSettings {
  std::string hostname = "localhost";
  Limits limits;
  bool starttls_offered = false;
  bool require_tls = false;
  // NUL bytes in message text: refused with 550 5.6.0 (false) or removed (true).
  bool strip_nul = false;
  // Where "RCPT TO:<Postmaster>" (no domain, RFC 5321 4.5.1) is delivered.
  Address postmaster{"postmaster", "localhost"};
  std::function<std::string()> make_queue_id;
  std::function<std::int64_t()> now;  // unix seconds
  // A monotonic clock in milliseconds for the deadlines (idle_timeout per
  // command line and text line, min_data_rate, session_timeout); the driver
  // sets it. Null: no deadlines (the fuzz target).
  std::function<std::int64_t()> now_ms;
  // Graceful shutdown (server/gateway.cpp): 0 while running; else the
  // now_ms() time the grace ends. A session waiting for a command gets
  // "421 4.3.2" at once; one receiving message text may finish until then.
  const std::atomic<std::int64_t>* drain_at_ms = nullptr;
  // Called for every refused command or message, for the trace; queue_id is
  // the open transaction's (empty outside one), so a message's trace is complete.
  std::function<void(const ClientInfo&, std::string_view queue_id, int code,
                     std::string_view enhanced, std::string_view text)>
      on_refusal;
  // The intake's decisions (trust, routing, rules, header edits); null:
  // every recipient is refused (no route).
  const intake::Pipeline* intake = nullptr;
  // Every trust decision, accepted or not, for the trace.
  std::function<void(const ClientInfo&, std::string_view queue_id, std::string_view stage,
                     const Verdict&, std::string_view tenant)>
      on_decision;
  // The message trace (trace/event.hpp); null: not traced. Refusals outside
  // a transaction (connect, HELO, MAIL) are traced under an id of their
  // own from make_queue_id, which on_refusal and on_decision then get too.
  trace::Sink* trace = nullptr;
};

// Counters and the last outcome, for the one log line per session.
struct SessionStats {
  unsigned messages_accepted = 0;
  unsigned messages_rejected = 0;
  unsigned recipients_rejected = 0;
  unsigned errors = 0;
  std::size_t discarded_after_starttls = 0;
  std::string end_reason;
};

// A message the session wants committed to the queue. Its body may be on
// disk already (spilled): content then holds the header and the body's
// tail that is not yet written.
struct MessageDraft {
  Envelope envelope;
  std::string content;          // Received header + message text, CRLF line endings
  std::size_t header_size = 0;  // bytes of content that are the header (set at commit)
  std::size_t spilled = 0;      // body bytes written out by the driver so far
};

class SessionMachine {
 public:
  enum class Event {
    need_input,  // flush replies, then read more bytes
    start_tls,   // flush replies, run the TLS handshake, call tls_started()
    commit,      // store draft() durably, then call commit_finished()
    spill,       // append spill_bytes() to the message's file, then call spilled()
    close,       // flush replies, close the connection
  };

  SessionMachine(const SessionSettings& settings, ClientInfo client);
  ~SessionMachine();
  SessionMachine(const SessionMachine&) = delete;
  SessionMachine& operator=(const SessionMachine&) = delete;

  void greet();
  // Refuses the connection at once (too many connections, blocked client).
  void refuse(int code, std::string_view enhanced, std::string_view text);

  // Where the driver reads into: at least min_bytes of room.
  std::span<char> input_space(std::size_t min_bytes);
  void input_received(std::size_t bytes);

  Event step();

  std::string& output() { return output_; }
  MessageDraft& draft() { return draft_; }

  // Message text is not kept in memory beyond limits.content_buffer: the
  // body is handed to the driver in pieces to write to the spool's file for
  // this message (the queue id names it), so no client can fill memory that
  // others need. A failed write (spilled(error)) refuses the message at its
  // end: 452 4.3.1 when the disk is full (the error's code), else 451 4.3.0.
  // When the draft's queue id changes (the transaction ended without a
  // commit), the driver removes the file it was writing.
  std::string_view spill_bytes() const;
  void spilled(const Status& written = ok_status());

  struct TlsPeer {
    std::string version;
    std::string cipher;
    std::string cert_subject;
    std::string cert_fingerprint;
    bool cert_verified = false;
    std::string cert_common_name;
    std::vector<std::string> cert_dns_names;
    std::vector<std::string> cert_verified_by;
  };
  void tls_started(TlsPeer peer);
  // What the queue said: durable, or an error whose code tells a full disk
  // (452 4.3.1) from other write errors (451 4.3.0).
  void commit_finished(const Status& committed);
  // When the client's time is up, on the now_ms() clock: the smallest of
  // the current line's deadline (idle_timeout from when the server was ready
  // for it: bytes that trickle in do not extend it), in DATA/BDAT the
  // min_data_rate deadline, and session_timeout. nullopt while the server
  // works (commit), after close, or without a clock. The driver wakes up then
  // and calls timed_out(); it never restarts the deadline itself.
  std::optional<std::int64_t> deadline_ms() const;
  // Says 421 4.4.2 and closes; the log reason names the deadline that
  // passed. While the gateway shuts down: 421 4.3.2.
  void timed_out();
  void connection_lost(std::string reason);

  const ClientInfo& client() const { return client_; }
  const SessionStats& stats() const { return stats_; }
  bool tls_active() const { return !client_.tls_version.empty(); }

 private:
  enum class Phase { command, data, bdat, awaiting_commit, closed };
  enum class Transaction { none, mail, recipients };

  void reply(int code, std::string_view enhanced, std::string_view text);
  void error_reply(int code, std::string_view enhanced, std::string_view text);
  std::optional<std::string_view> next_line();
  void handle_line(std::string_view line);
  void on_helo(std::string_view argument, bool extended);
  void on_mail(std::string_view argument);
  void on_rcpt(std::string_view argument);
  void on_data(std::string_view argument);
  void on_bdat(std::string_view argument);
  void on_starttls(std::string_view argument);
  void begin_content(DataDecoder::Mode mode);
  void finish_content();
  void step_bdat();
  void reset_transaction();
  void add_recipient(Recipient recipient);
  void close_with(std::string reason);
  std::int64_t clock_ms() const;
  std::int64_t line_deadline_ms() const;
  std::int64_t drain_at() const;  // 0: not shutting down
  std::optional<std::int64_t> rate_deadline_ms() const;
  void content_started();
  void content_arrived(std::string_view bytes);
  bool spill_due();
  PeerFacts peer_facts() const;
  intake::Origin origin() const;
  void decided(std::string_view stage, const Verdict& verdict, std::string_view tenant = {});
  bool refuse_if(std::string_view stage, const Verdict& verdict);
  void identify();
  // The trace and the metrics (session_trace.cpp).
  const std::string& trace_id();
  trace::TraceEvent trace_event(trace::Kind kind, std::string_view stage);
  void trace_decision(std::string_view stage, const Verdict& verdict, std::string_view tenant);
  void trace_refusal(int code, std::string_view enhanced, std::string_view text);
  void trace_transaction_started();
  void trace_content(const std::string& content, std::size_t header_size, std::uint64_t size);
  void trace_accepted();
  void trace_received();
  void trace_commit_failed(int code, std::string_view enhanced, std::string_view text);

  const SessionSettings& settings_;
  ClientInfo client_;
  SessionStats stats_;
  std::string output_;
  std::vector<char> input_;
  std::size_t input_begin_ = 0;
  std::size_t input_end_ = 0;
  bool discarding_long_line_ = false;
  // Deadlines (now_ms() clock): the session, the current command or text
  // line (the server was ready for it then), DATA text or the BDAT chunk.
  std::int64_t session_started_ms_ = 0;
  std::int64_t line_started_ms_ = 0;
  std::int64_t content_started_ms_ = 0;
  std::uint64_t content_bytes_ = 0;

  Phase phase_ = Phase::command;
  std::optional<Event> pending_event_;
  bool extended_ = false;  // EHLO, not HELO
  bool greeted_ = false;
  Transaction transaction_ = Transaction::none;
  MessageDraft draft_;
  std::unique_ptr<DataDecoder> decoder_;
  std::uint64_t bdat_remaining_ = 0;
  std::uint64_t bdat_chunk_size_ = 0;
  bool bdat_last_ = false;
  bool bdat_failed_ = false;   // a chunk was refused: later ones are refused until RSET
  bool bdat_discard_ = false;  // the current chunk is read and dropped
  bool spill_failed_ = false;
  bool spill_disk_full_ = false;
  bool identified_ = false;
  const InboundConnector* connector_ = nullptr;
  // What the trace and the refusal metric name: the command's stage
  // ("helo", "mail", ...), or the intake stage that refused; the recipient
  // RCPT TO is about.
  std::string_view command_stage_ = "connect";
  std::string refusing_stage_;
  std::string current_recipient_;
  // Refusals outside a transaction share one id per session (allocated
  // when the first is traced); decisions of the connection (identity) are
  // kept to be traced with each transaction.
  std::string session_trace_id_;
  std::vector<trace::TraceEvent> connection_decisions_;
  std::string trace_subject_;
  std::string trace_message_id_;
  std::uint64_t trace_size_ = 0;
  std::optional<trace::TraceEvent>
      received_event_;  // made at the end of DATA, recorded once durable
};

}  // namespace bh::smtp
