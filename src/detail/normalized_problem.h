#pragma once
// The floating-point engines work in normalised coordinates: x = centre + scale * u, with the
// domain's box centred at the origin and of half-width at most 1 in u. The count does not depend on
// the units of the input, and in these coordinates neither do the engines' tolerances, the LP's
// pivoting thresholds, or the range of the numbers they meet (a box of +-1e200 would otherwise
// overflow a diameter). `scale` is a power of two, so that scaling itself rounds nothing.
// Private to src/.
#include <Eigen/Core>

#include "detail/flat_network.h"
#include "relutope/domain.h"

namespace relutope::detail {

struct NormalizedProblem {
  FlatNetwork flat;  // the first split layer reads u instead of x
  Domain domain;     // the domain in u
  Eigen::VectorXd centre;
  double scale = 1;
  // False when some number of the normalised network is not finite (weights near the largest
  // double times a huge box): the float engines cannot represent the problem.
  bool representable = true;

  Eigen::VectorXd to_input(const Eigen::VectorXd& u) const { return centre + scale * u; }
};

NormalizedProblem normalize(const FlatNetwork& flat, const Domain& domain);

}  // namespace relutope::detail
