#pragma once
// For the library functions that need every region: a run that stopped early (EnumerateOptions::stop,
// time_limit, max_regions) must not become a wrong result. Private to src/.
#include <string>

#include "relutope/enumerate.h"
#include "relutope/error.h"

namespace relutope::detail {

// Returns `stats` if the run was complete.
// @throws Cancelled naming `what` and why the run stopped
inline const EnumerateStats& require_complete(const EnumerateStats& stats, const char* what) {
  if (!stats.complete)
    throw Cancelled(std::string(what) + " needs every region, but the enumeration stopped early (" +
                    stop_reason_name(stats.stopped) + ")");
  return stats;
}

}  // namespace relutope::detail
