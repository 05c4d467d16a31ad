#pragma once
#include <Eigen/Core>

namespace relutope {

/// Where a half-space comes from: a face of the input domain, the breakpoint of one neuron, or the
/// boundary between two pieces of a Max unit.
struct HalfspaceOrigin {
  enum class Kind { kDomain, kNeuron, kMaxUnit };
  Kind kind = Kind::kDomain;
  int layer = -1;   ///< kNeuron, kMaxUnit: index into Network::layers
  /// kNeuron: row of that layer; kMaxUnit: unit of that layer; kDomain: index of the domain constraint
  int neuron = -1;
  bool active = false;  ///< kNeuron: the side where the neuron's pre-activation is >= 0
  /// kMaxUnit: on this side the unit's row `row` is >= its row `other_row` (indices within the unit)
  int row = -1;
  int other_row = -1;
};

/// The closed half-space { x : a·x <= b }. This is the one convention used everywhere in relutope
/// (CGAL's halfspace_intersection_3 writes a·x + d <= 0, geogram keeps the positive side: ours is neither).
struct Halfspace {
  Eigen::VectorXd a;  ///< outward normal, size = input dimension
  double b = 0.0;
  HalfspaceOrigin origin;

  /// a·x - b: negative inside, zero on the boundary.
  double violation(const Eigen::VectorXd& x) const { return a.dot(x) - b; }
};

}  // namespace relutope
