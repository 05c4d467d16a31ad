#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "relutope/halfspace.h"

namespace relutope {

struct Network;

/// The activation pattern of a region: one entry per splitting neuron or unit, in network order
/// (layer by layer, then row by row or unit by unit; Layer::num_pattern_entries() per layer):
/// - a ReLU-family row (ReLU, leaky ReLU, PReLU, and each of the two rows of a clip unit): 1 where
///   its pre-activation is >= 0 on the region, 0 where it is <= 0. Linear rows (slope exactly 1)
///   have no entry: they have one state.
/// - a Max unit of k >= 2 rows (Layer::unit_rows): the index 0..k-1 of its largest row on the
///   region; where rows are identical on the whole region (a tie), the lowest of them. One-row
///   units have no entry.
using ActivationPattern = std::vector<std::uint8_t>;

/// Pattern as text, layers separated by '|': for a network of two-state neurons one '0'/'1' per
/// entry, e.g. "0110|10". A layer with clip units writes one digit per unit, its state 0, 1 or 2
/// (clip units: 0 below the lower bound, 1 between, 2 above; one-row units 0 or 1), e.g. "0210".
/// A layer of Max units writes each unit's state (the index of its largest row) in decimal,
/// separated by '.', e.g. "0.3.1.12".
/// @param[in] pattern  net.num_neurons() entries
/// @param[in] net      the network it is a pattern of (its layers give the grouping and the states)
std::string pattern_string(const ActivationPattern& pattern, const Network& net);

/// Pattern as text for a network of two-state neurons only: one '0'/'1' per entry, layers (of the
/// given widths) separated by '|'.
/// @param[in] pattern        sum of hidden_widths entries, each 0 or 1
/// @param[in] hidden_widths  Network::hidden_widths()
std::string pattern_string(const ActivationPattern& pattern, const std::vector<int>& hidden_widths);

/// One activation region: the set of inputs in the domain that produce `pattern`.
/// It is a convex polytope with positive volume, and on it the network is the affine map
/// y = map_weight * x + map_bias.
struct Region {
  ActivationPattern pattern;
  /// A point strictly inside the region (vertex engine: mean of its vertices;
  /// LP engine: the point that maximizes the smallest slack, or with
  /// EnumerateOptions::max_margin_points off any point certified inside).
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
  /// (vertex and exact engines); empty otherwise.
  std::optional<double> volume;
  /// V-representation, when EnumerateOptions::with_vertices asked for it (vertex engine only):
  /// the region's vertices, and for each entry of `halfspaces` the indices of the vertices on it.
  /// Then `halfspaces` is the minimal H-representation (facets only).
  std::vector<Eigen::VectorXd> vertices;
  std::vector<std::vector<int>> facet_vertices;
};

}  // namespace relutope
