#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

#include "relutope/halfspace.h"

namespace relutope {

/// The activation pattern of a region: one bit per splitting neuron, in network order
/// (layer by layer, neuron by neuron). Bit = 1 where the pre-activation is >= 0 on the region.
using ActivationPattern = std::vector<std::uint8_t>;

/// Pattern as text: one '0'/'1' per neuron, layers separated by '|', e.g. "0110|10".
std::string pattern_string(const ActivationPattern& pattern, const std::vector<int>& hidden_widths);

/// One activation region: the set of inputs in the domain that produce `pattern`.
/// It is a convex polytope with positive volume, and on it the network is the affine map
/// y = map_weight * x + map_bias.
struct Region {
  ActivationPattern pattern;
  /// A point strictly inside the region (vertex engine: mean of its vertices;
  /// LP engine: the point that maximizes the smallest slack).
  Eigen::VectorXd interior_point;
  /// An H-representation { x : a·x <= b for all }. The vertex engine gives the facet-defining
  /// half-spaces only; the LP engine gives the domain's constraints and one per neuron whose
  /// hyperplane was found to cut the region's ancestors (complete, possibly redundant).
  std::vector<Halfspace> halfspaces;
  Eigen::MatrixXd map_weight;  ///< output_dim x input_dim
  Eigen::VectorXd map_bias;    ///< output_dim
  /// How far the region reaches beyond the closest cut that created it (a length, in input units).
  /// Small values (relative to the tolerance) mark regions whose existence is numerically fragile.
  double depth = 0.0;
  /// d-dimensional volume, when EnumerateOptions::with_volume asked for it and the engine can
  /// (vertex engine); negative otherwise.
  double volume = -1.0;
  /// V-representation, when EnumerateOptions::with_vertices asked for it (vertex engine only):
  /// the region's vertices, and for each entry of `halfspaces` the indices of the vertices on it.
  /// Then `halfspaces` is the minimal H-representation (facets only).
  std::vector<Eigen::VectorXd> vertices;
  std::vector<std::vector<int>> facet_vertices;
};

}  // namespace relutope
