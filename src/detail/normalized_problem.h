#pragma once
// The floating-point engines work in normalised coordinates: x = centre + scale ⊙ u, with the
// domain's box centred at the origin and of half-width in [1/2, 1] along every axis in u. The count
// does not depend on the units of the input, and in these coordinates neither do the engines'
// tolerances, the LPs' feasibility thresholds (GLPK's 1e-7 would swallow a box 1e-7 wide), or the
// range of the numbers they meet (a box of +-1e200 would otherwise overflow a diameter). Each scale
// is a power of two, so that scaling itself rounds nothing.
// Private to src/.
#include <Eigen/Core>

#include "detail/flat_network.h"
#include "relutope/domain.h"

namespace relutope::detail {

struct NormalizedProblem {
  FlatNetwork flat;  // the first split layer reads u instead of x
  Domain domain;     // the domain in u
  Eigen::VectorXd centre;
  Eigen::VectorXd scale;  // per input coordinate
  // False when some number of the normalised network is not finite (weights near the largest
  // double times a huge box): the float engines cannot represent the problem.
  bool representable = true;

};

NormalizedProblem normalize(const FlatNetwork& flat, const Domain& domain);

}  // namespace relutope::detail
