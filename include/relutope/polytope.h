#pragma once
#include <Eigen/Core>
#include <optional>

#include "relutope/domain.h"
#include "relutope/region.h"

namespace relutope {

/// Measures of a region as a convex polytope.
struct PolytopeMeasures {
  double volume = 0;                 ///< d-dimensional volume (cone decomposition over the face lattice)
  /// With `cross_check`: the volume CGAL computes from the half-spaces alone, independently of the
  /// vertices (2-D: the convex hull of the facet lines' meeting points; 3-D: halfspace_intersection_3
  /// and Polygon_mesh_processing::volume). Empty without cross_check and in other dimensions.
  std::optional<double> volume_cgal;
  Eigen::VectorXd centroid;          ///< centre of mass, d
  Eigen::VectorXd chebyshev_center;  ///< centre of the largest inscribed ball, d
  double inradius = 0;               ///< radius of that ball
};

/// Volume and centroid by cone decomposition over the face lattice; Chebyshev centre and inradius by
/// one LP (GLPK). With `cross_check`, in 2-D and 3-D also the volume by CGAL from the half-spaces
/// (several times slower: it uses exact predicates).
/// @param[in] region       a region of dimension d whose vertices and facet_vertices are filled
///                         (EnumerateOptions::with_vertices)
/// @param[in] cross_check  also compute volume_cgal (2-D and 3-D)
/// @return the measures; centroid and chebyshev_center have d entries
/// @throws Error if the vertices are not filled
PolytopeMeasures measure_polytope(const Region& region, bool cross_check = false);

/// Volume of the domain itself (the box clipped by its extra constraints), with the vertex engine.
/// @param[in] domain  a domain of up to kMaxVertexGeometryDim dimensions
/// @return its d-dimensional volume
/// @throws InputError if the domain is invalid or of too high a dimension for the vertex engine
double domain_volume(const Domain& domain);

}  // namespace relutope
