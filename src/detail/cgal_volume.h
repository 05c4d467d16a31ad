#pragma once
// Volumes of 2-D and 3-D regions built by CGAL from their H-representation alone, independently of
// the vertex engine's vertices. The only translation unit of the library that includes CGAL.
#include <vector>

#include "relutope/halfspace.h"

namespace relutope::detail {

// Area (2-D: the convex hull of the points where pairs of facet lines meet inside all half-spaces)
// or volume (3-D: CGAL::halfspace_intersection_3, then Polygon_mesh_processing::volume) of
// { x : a·x <= b for all }. `inside` must be a point strictly inside.
double cgal_volume(const std::vector<Halfspace>& halfspaces, const Eigen::VectorXd& inside);

}  // namespace relutope::detail
