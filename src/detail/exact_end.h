#pragma once
// The exact values and slopes of a graph's nodes at one end of a segment, on the side of the segment's
// interior. The segment walk (src/engines/segment_walk.cpp) falls back on them where a unit is within
// its rounding bound of a tie at an exact end: a unit exactly at its breakpoint there, and nonzero just
// inside, is no tie of the count, and its state inside is the sign of its slope. Private to src/.
#include <gmpxx.h>

#include <Eigen/Core>
#include <vector>

#include "relutope/graph.h"

namespace relutope::detail {

/// Per node (indexed as Graph::nodes), the exact value of each element at x = origin + t direction and its
/// derivative along the segment, the units taking the state they have just inside the segment: the
/// state at t + side * eps for every small eps > 0 (decided by the value, then by side * slope; a tie
/// in both is a tie on a whole neighbourhood, given to the lowest index as everywhere).
/// Weights, origin, direction (two words: direction + direction_lo) and t are doubles, hence exact
/// rationals: nothing is rounded.
struct ExactEnd {
  std::vector<std::vector<mpq_class>> value, slope;
};

/// The work exact_end would do: the entries it reads off the affine nodes (their input size times
/// their output size, summed), to compare with a budget before calling it.
/// @param[in] graph  the network
/// @return the sum, as a double (it exceeds any integer type for ResNet-18)
double exact_end_work(const Graph& graph);

/// Computes ExactEnd.
/// @param[in] graph      the network
/// @param[in] origin     input_dim values
/// @param[in] direction  input_dim values
/// @param[in] direction_lo  input_dim values added to direction (its second word; zeros for one word)
/// @param[in] t          the end
/// @param[in] side       +1 if the segment lies at t' > t (its start), -1 if at t' < t (its end)
/// @return the values and slopes of every node
ExactEnd exact_end(const Graph& graph, const Eigen::VectorXd& origin, const Eigen::VectorXd& direction,
                   const Eigen::VectorXd& direction_lo, double t, int side);

}  // namespace relutope::detail
