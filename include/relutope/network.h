#pragma once
#include <Eigen/Core>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "relutope/domain.h"
#include "relutope/region.h"

namespace relutope {

/// The nonlinearity after an affine layer. The ReLU family is piecewise linear with one breakpoint
/// at 0: y = z for z >= 0 and y = slope * z for z < 0. A row whose slope is exactly 1 is linear: it
/// has one state and never splits a region (graph models use such rows to carry values past a layer,
/// as skip connections do).
enum class Activation {
  kNone,       ///< affine output layer: no breakpoint, does not split regions
  kRelu,       ///< slope 0
  kLeakyRelu,  ///< one slope for the layer (negative_slope has size 1)
  kPRelu,      ///< one slope per row (negative_slope has size num_rows, or 1 broadcast)
  kMax,        ///< k-state units: each outputs the largest of its rows (see Layer::unit_rows)
};

/// The most rows a Max unit may have: its state (the index of its largest row) is stored in one byte.
constexpr int kMaxUnitStates = 255;

/// Human-readable name: "none", "relu", "leaky_relu", "prelu", "max".
const char* activation_name(Activation activation);

/// One affine layer z = W x + b followed by an activation.
struct Layer {
  Eigen::MatrixXd weight;          ///< W, num_rows x num_in
  Eigen::VectorXd bias;            ///< b, num_rows
  Activation activation = Activation::kRelu;
  Eigen::VectorXd negative_slope;  ///< slope for z < 0: empty for relu/none/max, size 1 or num_rows otherwise
  /// How consecutive rows of z form units; empty means one unit per row.
  /// - kMax: unit u outputs the largest of its unit_rows[u] rows, so the layer has one output per
  ///   unit. Its state is the index of the largest row (the lowest such index on ties); a unit of one
  ///   row passes its value through (linear, one state).
  /// - ReLU family (for reports only; every row keeps its own output): a unit of two rows is a
  ///   clipped activation lowered to two ReLU rows, clip(z, lo, hi) = lo + relu(z - lo) - relu(z - hi);
  ///   its state is its number of active rows (0: below lo, 1: between, 2: above hi).
  std::vector<int> unit_rows;

  int num_in() const { return static_cast<int>(weight.cols()); }
  int num_rows() const { return static_cast<int>(weight.rows()); }
  /// Outputs of the layer: its rows, or for kMax its units.
  int num_out() const;
  /// Rows of unit u (1 when unit_rows is empty).
  int rows_of_unit(int u) const { return unit_rows.empty() ? 1 : unit_rows[u]; }
  /// Number of units (num_rows() when unit_rows is empty).
  int num_units() const { return unit_rows.empty() ? num_rows() : static_cast<int>(unit_rows.size()); }
  /// Slope on the negative side for row i (0 for relu; exactly 1 marks a linear row).
  double slope_below(int i) const;
  /// True when row i of a ReLU-family layer is linear (slope exactly 1): one state, never a split,
  /// not a neuron, no entry in an ActivationPattern. False for kNone and kMax layers.
  bool is_linear_row(int i) const;
  /// Entries the layer has in an ActivationPattern: its rows that are not linear (ReLU family),
  /// its units of two or more rows (kMax), none for kNone. See ActivationPattern.
  int num_pattern_entries() const;
  /// Number of states of unit u: 2 for a ReLU row (1 if linear), 3 for a clip unit, k for a Max
  /// unit of k rows (1 for a one-row unit), 1 for kNone.
  int num_unit_states(int u) const;
  /// True when the layer has breakpoints, i.e. it may split regions (num_pattern_entries() > 0).
  /// A layer without (kNone, all rows linear, only one-row Max units) is affine.
  bool splits() const { return num_pattern_entries() > 0; }
};

/// The layer's output for pre-activation z (size num_rows): the activation applied row by row, or
/// for kMax the largest row of each unit.
/// @param[in] layer  the layer
/// @param[in] z      its pre-activation W x + b, num_rows() entries
/// @return the layer's output, num_out() entries
Eigen::VectorXd apply_activation(const Layer& layer, const Eigen::VectorXd& z);

/// An affine map u -> x (k inputs u, d outputs x) given exactly: every double is read as the rational
/// it is, and nothing is rounded. Either the map that sends k + 1 anchors in u (affinely independent:
/// a segment's ends, a triangle's corners) to the points points.col(j), or, with coords empty,
/// x = points.col(0) + points.rightCols(k) * u. The anchors are coords.col(j), or, when `facets` is
/// set, the vertices of the simplex of the k + 1 half-spaces a·u <= b in `facets` (anchor j is where
/// all but facets[j] meet), of which coords are then only the rounding: so a triangle whose edges
/// are rounded to doubles still has its corners exactly at its points.
struct ExactAffineMap {
  Eigen::MatrixXd points;         ///< d x (k + 1)
  Eigen::MatrixXd coords;         ///< k x (k + 1), or empty
  std::vector<Halfspace> facets;  ///< k + 1 half-spaces in u, or empty
  /// k, the number of inputs u (0 when empty).
  int num_inputs() const { return static_cast<int>(points.cols()) - 1; }
};

struct Network;
struct Graph;  // relutope/graph.h

/// What a network's layers stand for when they are a floating-point rounding of it: the network as
/// stored (`graph`, lowered in rationals, or else `network`) with the input maps applied exactly,
/// x = maps[0](maps[1](... (u))). lower_to_network() sets `graph` (its dense layers fold the graph's
/// affine operations in doubles), compose() adds a map (a slice through data points keeps the ties
/// that hold exactly at the points). Same layers, rows and units as the rounded network.
struct ExactDefinition {
  std::shared_ptr<const Graph> graph;      ///< the graph the layers were lowered from, or null
  std::shared_ptr<const Network> network;  ///< without a graph: the layers as stored (their own `exact` not set)
  std::vector<ExactAffineMap> input_maps;  ///< outermost (applied last) first
};

/// A feed-forward chain of layers, input first. Hidden layers carry piecewise-linear activations;
/// typically the last layer has Activation::kNone.
struct Network {
  std::vector<Layer> layers;
  std::string source;  ///< where it came from (file name), used in messages
  std::optional<Domain> default_domain;  ///< a domain stored with the model (JSON "domain"), if any
  /// A smooth output head after the last affine layer that the loader accepted and left out
  /// ("Softmax", "LogSoftmax", "Sigmoid", "Tanh"; empty if none). The regions are those of the
  /// piecewise-linear body; reports say so.
  std::string output_head;
  /// When set, the layers are a rounding of this exact definition (lower_to_network folds a graph's
  /// affine operations, compose() a slice into the first layer, in floating point): exact arithmetic
  /// (`--exact`, and the decisions the floating-point engines leave to it) uses the definition, so
  /// its counts are those of the network as stored on the slice as given. Null: the layers are the
  /// network. Changing the layers of a network that has one makes exact arithmetic use the layers
  /// again (ExactNetwork checks that they are its rounding).
  std::shared_ptr<const ExactDefinition> exact;

  /// d: the first layer's inputs (0 without layers).
  int input_dim() const { return layers.empty() ? 0 : layers.front().num_in(); }
  /// m: the last layer's outputs (0 without layers).
  int output_dim() const { return layers.empty() ? 0 : layers.back().num_out(); }
  /// Pattern entries of the layers that split (Layer::num_pattern_entries() of each layer with
  /// splits()), in order: the neurons of a ReLU network, without linear rows; Max units count once.
  std::vector<int> hidden_widths() const;
  /// Number of entries of an ActivationPattern (sum of hidden_widths()): the neurons and units
  /// that may split regions.
  int num_neurons() const;

  /// Checks shapes between layers, finite weights/biases/slopes and slope vector sizes.
  /// @throws InputError listing every problem found, each located as "<source>: layers[i].field: ..."
  void validate() const;

  /// Forward pass of one input vector (size input_dim()). With `pattern`, also the activation
  /// pattern at x (size num_neurons()): a ReLU-family row is active where z >= 0, a Max unit's state
  /// is the index of its largest row (the lowest on ties). At an interior point of a region that is
  /// the region's pattern.
  /// @param[in]  x        input, input_dim() entries
  /// @param[out] pattern  if not null, set to the activation pattern at x (num_neurons() entries)
  /// @return the output, output_dim() entries
  Eigen::VectorXd evaluate(const Eigen::VectorXd& x, ActivationPattern* pattern = nullptr) const;
};

}  // namespace relutope
