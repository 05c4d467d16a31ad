#pragma once
// The threads a run shares its tasks with (src/enumerate.cpp). Private to src/.
//
// Not an OpenMP parallel region, because of what one costs the calling thread on a shared machine:
// libgomp's caller waits (spinning) at the region's start until every newly made thread runs, and at
// its end until every thread of the team arrives, whether or not it found any work. On this project's
// 2-core machine an empty region after 3 ms of work took 0.1-7 ms, and a 2-thread count of 4,773
// regions that cut one task (nothing to share) took a median of 6.4 ms against 3.3 ms on one thread
// (BENCHMARKS.md, "Issue 11: small runs at two threads, second steps"). Here the caller never waits
// for a helper that has not started: a helper that wakes after the caller's work is done skips it,
// and helpers wait for work asleep, not spinning.
#include <functional>

namespace relutope::detail {

/// Calls body() on the calling thread and on up to `threads` - 1 helper threads at once, and returns
/// once the caller's call has returned and every helper call that started has returned. A helper
/// that is not running by the time the caller's call returns does not call `body`, so `body` must
/// be a loop taking work from a shared source until none is left (each call may find none). The
/// serial equivalent: body() once.
///
/// The helpers belong to the calling thread (made at its first call with that many, kept asleep
/// between calls, ended with it). A call from within `body` on the calling thread runs its body
/// there alone. `body` must not throw (catch inside and rethrow after the call).
///
/// With `wake_now` false the helpers are not woken until the caller's body calls wake_helpers() (a run
/// that may end before sharing is worth waking a thread for: src/enumerate.cpp's serial start); until
/// then body runs on the calling thread alone, and if it never calls it, alone to its end.
void run_with_helpers(int threads, const std::function<void()>& body, bool wake_now = true);

/// Makes the calling thread's helpers for `threads` threads now, asleep, if it has fewer (run_with_helpers
/// makes them at its first call otherwise): a new thread takes a while to run (0.4-1.2 ms measured from
/// its creation on this project's 2-core machine), which a run may spend on work of its own first.
void start_helpers(int threads);

/// Within run_with_helpers(..., wake_now = false), on the calling thread: wakes the helpers now (once;
/// later calls do nothing). Elsewhere it does nothing.
void wake_helpers();

}  // namespace relutope::detail
