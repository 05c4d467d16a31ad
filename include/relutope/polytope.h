#pragma once
#include <Eigen/Core>
#include <optional>
#include <vector>

#include "relutope/domain.h"
#include "relutope/enumerate.h"
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

/// The measures of every region of a partition, and how much of the domain they cover (what
/// `relutope stats` reports). n is the number of regions; every vector is in pattern order.
struct PartitionMeasures {
  EnumerateStats stats;             ///< of the enumeration (vertex engine)
  std::vector<double> volumes;      ///< n: measure_polytope(region).volume
  std::vector<double> inradii;      ///< n: radius of each region's largest inscribed ball
  std::vector<int> num_facets;      ///< n: facets (minimal H-representation)
  std::vector<int> num_vertices;    ///< n
  double coverage = 0;              ///< sum of volumes / domain_volume(domain): 1 up to rounding
  /// The same with CGAL's volumes, rebuilt from the half-spaces alone (2-D and 3-D; empty otherwise).
  std::optional<double> coverage_cgal;
};

/// Enumerates the regions with their vertices and measures each (measure_polytope with cross-check),
/// then checks that they cover the domain: a shortfall or excess beyond 1e-6 is a bug in relutope.
/// @param[in] net      network with d <= kMaxVertexGeometryDim inputs
/// @param[in] domain   domain of dimension d
/// @param[in] options  threads, tolerance, progress and cancel; engine kAuto or kVertex (the only one
///                     that gives vertices); geometry is chosen here
/// @return the measures of all n regions and the coverage
/// @throws InputError if d is too high or another engine is asked for, or as enumerate_regions;
///         std::logic_error if a coverage differs from 1 by more than 1e-6
PartitionMeasures measure_partition(const Network& net, const Domain& domain, EnumerateOptions options);

}  // namespace relutope
