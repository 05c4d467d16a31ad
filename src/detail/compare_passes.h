#pragma once
// certify_count's comparison of its two passes, leaf by leaf (src/certify.cpp). Private to src/.
#include <string>
#include <vector>

#include "detail/leaf_sink.h"
#include "relutope/certify.h"
#include "relutope/network.h"

namespace relutope::detail {

// A leaf as the comparison sees it: its pattern's num_neurons bytes, then its facets' constraint
// codes, sorted and each once, as the bytes of ConstraintCode.
std::string leaf_key(const Leaf& leaf, int num_neurons);

// Compares the keys (leaf_key) of every region of the exact pass with those of the floating-point
// pass, in any order: a float leaf matches the exact region of its pattern (the first of several
// leaves of one pattern does; the others are invented), and a matched region's facet set is wrong
// when its codes differ. So num_regions - float_missed == float_regions - float_invented.
// @param[in] net  the network both passes ran on: net.num_neurons() pattern bytes, pattern_string
// @return certified, the counts and the first 10 missed and invented patterns (seconds is 0)
// @throws UncertifiedError if the exact pass reported a pattern twice (a region is convex: it has
//         one pattern, and no other region has it)
Certificate compare_passes(std::vector<std::string> exact, std::vector<std::string> floating, const Network& net);

}  // namespace relutope::detail
