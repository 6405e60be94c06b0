// What the message trace records of a message from a source other than
// SMTP (an incoming fax or SMS, an HTTP ingest): each intake decision, the
// refusal with the answer the source got, and the received event of a
// queued message. As the SMTP session records them (smtp/server/session_trace.cpp),
// so "why was this fax refused" has an answer too.
#pragma once

#include <cstddef>
#include <string>

#include "intake/ingest.hpp"
#include "trace/event.hpp"

namespace bh::intake {

// The accepted message: envelope, subject, source and what the source knows.
trace::TraceEvent received_event(const Submission& submission, std::size_t header_size);

// One decision of the intake stages, under the submission's queue id.
trace::TraceEvent decision_event(const Submission& submission, const TraceEntry& entry);

// The submission was refused (by a stage, a content check or the queue):
// the verdict its source was given, with the envelope as far as known.
trace::TraceEvent refused_event(const Submission& submission, std::string_view stage,
                                const Verdict& verdict);

// The queue could not take the message: its received event becomes the
// refusal with the answer the source got (made only when that happens).
trace::TraceEvent commit_refused_event(trace::TraceEvent received, const Verdict& verdict);

}  // namespace bh::intake
