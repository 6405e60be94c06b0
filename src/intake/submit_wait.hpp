// A blocking caller's way into the intake (a connector's store thread, the
// fax ingest): Ingest::submit answers on its executor, this waits for that
// answer, bounded, so that a stuck executor or a stopping gateway never
// holds the caller for good.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>

#include "intake/ingest.hpp"

namespace bh::intake {

// Submits and waits at most `limit` for the answer. nullopt: no answer in
// time, or `stopping` became true (checked every 200 ms); the caller tells
// which by reading `stopping`. Should the group commit still write the
// message after that, it is queued although the caller was told nothing:
// the caller's retry must be recognisable (a Message-ID of the content).
// Never call it on the ingest's executor: it would wait for itself.
std::optional<Submitted> submit_and_wait(Ingest& ingest, Submission submission,
                                         std::chrono::milliseconds limit,
                                         const std::atomic<bool>& stopping);

}  // namespace bh::intake
