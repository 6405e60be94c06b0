// Fault injection for the crash tests (tests/integration/test_crash_points.py):
// with BRIDGEHEAD_CRASH_AT=STEP (or STEP:N for the N-th time the step is
// reached) in the environment, the process kills itself with SIGKILL at
// that named step, as a power cut would stop it. Without the variable a
// crash point costs one relaxed load. The steps are listed in docs/queue.md.
#pragma once

#include <string_view>

namespace bh {

void crash_point(std::string_view step);

}  // namespace bh
