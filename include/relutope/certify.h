#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "relutope/domain.h"
#include "relutope/enumerate.h"
#include "relutope/network.h"

namespace relutope {

/// The result of re-establishing a count in exact rational arithmetic.
struct Certificate {
  bool certified = false;            ///< the exact pass ran to the end
  std::uint64_t num_regions = 0;     ///< the exact count
  std::uint64_t float_regions = 0;   ///< what the floating-point pass counted
  std::uint64_t float_missed = 0;    ///< regions of positive volume the float pass did not report
  /// regions the float pass reported that are none: patterns with no positive volume, and a region
  /// reported again (so num_regions - float_missed == float_regions - float_invented)
  std::uint64_t float_invented = 0;
  std::uint64_t facets_certified = 0;    ///< facets re-established exactly (maximal faces)
  std::uint64_t float_facets_wrong = 0;  ///< regions found by both passes whose facet sets differ
  std::vector<std::string> missed_patterns;    ///< the first few, as pattern_string()
  std::vector<std::string> invented_patterns;  ///< the first few
  double seconds = 0;
};

/// Counts the regions again in exact rational arithmetic (GMP) on the weights as stored (a float32
/// or float64 weight is an exact rational), with no tolerance: a vertex is on a hyperplane iff it
/// satisfies its equation exactly, and a region counts iff it has a vertex strictly on each side of
/// every cut that made it, i.e. positive volume; a constraint is a facet iff the face it cuts out is
/// maximal (its vertex set lies in no other constraint's). The exact pass is Engine::kExact (the vertex engine's algorithm on
/// rationals, on all threads like any engine); it is compared region by region (activation pattern),
/// and facet by facet, with the floating-point vertex engine run with `options`, whose facets are the
/// constraints it reports for a region (those tight at at least d of its vertices). The two passes
/// are compared by the engines' leaves (pattern bytes and constraint codes), no Region is built.
/// Cost grows with the bit length of the coordinates: meant for small and medium networks in low
/// dimension (box and polytope domains up to kMaxVertexGeometryDim inputs).
/// @param[in] net      network with d inputs, d <= kMaxVertexGeometryDim
/// @param[in] domain   domain of dimension d
/// @param[in] options  threads, tolerance (of the floating-point pass) and cancel; the engines are
///                     chosen here (kExact, then kVertex), options.engine is not used
/// @return the exact count and what the floating-point pass got wrong (at most 10 patterns of each kind)
/// @throws InputError as enumerate_regions does, or if the dimension is too high for it; Cancelled
///         when options.cancel becomes true; UncertifiedError as enumerate_regions with Engine::kExact,
///         or if the exact pass reports one pattern twice
Certificate certify_count(const Network& net, const Domain& domain, const EnumerateOptions& options = {});

}  // namespace relutope
