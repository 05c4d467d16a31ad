#pragma once
// Volume and centroid of a convex polytope from its vertices and, for each facet, the vertices on it.
// Private to src/ (the public face is polytope.h).
#include <Eigen/Core>
#include <vector>

namespace relutope::detail {

struct VolumeAndCentroid {
  double volume = 0;
  Eigen::VectorXd centroid;
};

// Cone decomposition (Lasserre's recursion). For a k-dimensional face F with vertex centroid c:
//   vol_k(F) = sum over facets G of F of  dist(c, aff G) * vol_{k-1}(G) / k,
//   centroid(F) = sum_G vol(cone_G) * (c + k/(k+1) (centroid(G) - c)) / vol_k(F),
// where a facet of F is a set F ∩ H (H one of `facets`) of affine dimension k - 1. `facets` may hold
// redundant candidates: sets of lower dimension are skipped. Exact up to rounding.
// x: num_vertices x dim, row-major.
VolumeAndCentroid volume_and_centroid(const double* x, int num_vertices, int dim,
                                      const std::vector<std::vector<int>>& facets);

// Affine dimension of the points x[i] for i in `points` (relative tolerance 1e-9).
int affine_rank(const double* x, int dim, const std::vector<int>& points);

}  // namespace relutope::detail
