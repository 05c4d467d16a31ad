#pragma once
#include <Eigen/Core>
#include <string>
#include <vector>

#include "relutope/halfspace.h"

namespace relutope {

/// A bounded input domain: the box [lo, hi] intersected with optional extra half-spaces a·x <= b
/// (an H-polytope). The box is always present so that the domain is bounded by construction.
struct Domain {
  Eigen::VectorXd lo;               ///< lower corner, size dim()
  Eigen::VectorXd hi;               ///< upper corner, size dim()
  std::vector<Halfspace> extra;     ///< further constraints; empty for a plain box

  /// The dimension d (lo.size()).
  int dim() const { return static_cast<int>(lo.size()); }
  /// True when there are no extra constraints.
  bool is_box() const { return extra.empty(); }
  /// Length of the box diagonal: the length scale that tolerances are relative to. Computed without
  /// overflow for boxes up to the largest double (the result itself may be +inf beyond ~1e308).
  double diameter() const { return 2 * (hi / 2 - lo / 2).stableNorm(); }
  /// Box volume (of [lo, hi], ignoring extra constraints).
  double box_volume() const;

  /// The box [lo, hi], unchecked (see validate()).
  /// @param[in] lo  d lower bounds
  /// @param[in] hi  d upper bounds
  static Domain box(Eigen::VectorXd lo, Eigen::VectorXd hi);
  /// The cube [lo, hi]^dim, unchecked (see validate()).
  /// @param[in] dim     d, the dimension
  /// @param[in] lo, hi  the interval of every coordinate
  static Domain cube(int dim, double lo, double hi);

  /// What validate() checks, as one line per problem found (e.g. "dimension 0: lo 1 > hi 0 (the box
  /// has no volume)"), so that a caller can report them in its own words.
  /// @return the problems, in coordinate then constraint order; empty when the domain is valid
  std::vector<std::string> problems() const;

  /// Checks sizes, finiteness and lo < hi in every coordinate, and the size and finiteness of the
  /// extra constraints.
  /// @throws InputError listing every problem, e.g. "domain: invalid:\n  dimension 2: lo 1 > hi 0 (the box has no volume)"
  void validate() const;

  /// Compact text such as "[-1,1]^2" or "[-1,1]x[0,2]", plus " with k extra constraints" for a polytope.
  std::string describe() const;
};

}  // namespace relutope
