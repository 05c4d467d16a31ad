#pragma once
#include <Eigen/Core>

#include "relutope/domain.h"
#include "relutope/region.h"

namespace relutope {

/// Measures of a region as a convex polytope.
struct PolytopeMeasures {
  double volume = 0;                 ///< d-dimensional volume
  Eigen::VectorXd centroid;          ///< centre of mass
  Eigen::VectorXd chebyshev_center;  ///< centre of the largest inscribed ball
  double inradius = 0;               ///< radius of that ball
};

/// Volume and centroid by cone decomposition over the face lattice; Chebyshev centre and inradius
/// by one LP (GLPK) over the facets.
/// @pre region.vertices and region.facet_vertices are filled (EnumerateOptions::with_vertices)
/// @throws Error if they are not
PolytopeMeasures measure_polytope(const Region& region);

/// Volume of the domain itself (the box clipped by its extra constraints), with the vertex engine.
/// @throws InputError if the domain is invalid or of too high a dimension for the vertex engine
double domain_volume(const Domain& domain);

}  // namespace relutope
