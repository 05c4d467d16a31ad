#pragma once
// The driver's leaf-level hook (src/enumerate.cpp), for callers inside the library that need each
// region's pattern and facet codes but no Region (no affine map, half-spaces or vertices in the
// input's coordinates): certify_count compares two passes by them. Private to src/.
#include <functional>
#include <string>

#include "detail/leaf_sink.h"
#include "relutope/domain.h"
#include "relutope/enumerate.h"
#include "relutope/network.h"

namespace relutope::detail {

// Turns an engine's leaf into bytes, on a worker thread (so it must be thread-safe).
using LeafKey = std::function<std::string(const Leaf&)>;

// Enumerates as enumerate_formatted does, handing `key` the engine's leaves instead of Regions:
// with options.with_geometry a leaf carries its facets' constraint codes (Leaf::constraints, in the
// engine's order), with options.with_vertices its vertices as well; `consume` receives the keys
// serially, in task order, so the sequence is the same for any thread count. Under options.mpi the
// ranks share the work and rank 0 alone consumes, as for enumerate_formatted.
// @throws as enumerate_formatted
EnumerateStats enumerate_leaves(const Network& net, const Domain& domain, const EnumerateOptions& options,
                                const LeafKey& key, const TextConsumer& consume);

}  // namespace relutope::detail
