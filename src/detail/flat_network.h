#pragma once
// The network as the engines see it: only the layers that split, each with the affine layers
// before it composed in, plus the affine map after the last split. Private to src/.
//
// A split layer has rows (its pre-activations z = W x + b), outputs (what the next layer reads)
// and entries (its part of an ActivationPattern). ReLU family: output o is row o, scaled by 1 or
// by its slope; entries are the rows that are not linear. Max: output o is the largest row of unit
// o; entries are the units of two or more rows, each holding the index of its largest row.
#include <Eigen/Core>
#include <cmath>
#include <functional>
#include <vector>

#include "relutope/network.h"
#include "relutope/region.h"

namespace relutope::detail {

// How a split layer's rows, outputs and entries relate (the same in doubles and in rationals).
struct UnitLayout {
  bool is_max = false;
  std::vector<int> out_row;    // per output: its row (ReLU family) or its unit's first row (Max)
  std::vector<int> out_rows;   // per output: rows of its unit (1 for the ReLU family)
  std::vector<int> out_entry;  // per output: its entry in the layer, -1 if it has one state
  std::vector<int> entry_out;  // per entry: its output
  int network_layer = 0;   // index into Network::layers, for HalfspaceOrigin
  int offset = 0;          // index of this layer's first entry in an ActivationPattern

  // The layout of net.layers[l], whose first entry is pattern entry `offset`.
  UnitLayout(const Network& net, int l, int offset);
  UnitLayout() = default;
  int num_outputs() const { return static_cast<int>(out_row.size()); }
  int num_entries() const { return static_cast<int>(entry_out.size()); }
  // The row that output o passes on, on a region whose pattern is `pattern` (whole pattern; this
  // layer's entries must be decided), and whether the row's slope applies (an inactive ReLU row).
  int source_row(int o, const std::uint8_t* pattern, bool& below) const {
    const int e = out_entry[o];
    below = !is_max && e >= 0 && !pattern[offset + e];
    return out_row[o] + (is_max && e >= 0 ? pattern[offset + e] : 0);
  }
};

struct SplitLayer : UnitLayout {
  Eigen::MatrixXd weight;  // num_rows x num_in (num_in = previous split layer's outputs, or input dim)
  Eigen::VectorXd bias;
  Eigen::VectorXd slope;   // ReLU family: slope below the breakpoint per row (1 for linear rows)
  // Elementwise bounds on |weight - exact| and |bias - exact|, where exact are the numbers the layer
  // stands for (the layers as stored, folded and normalised in rationals): the rounding of the folds
  // of affine layers in doubles (and, for the first split layer, of the normalisation's shift to
  // the box's centre). Empty: these numbers are exact.
  Eigen::MatrixXd weight_error;
  Eigen::VectorXd bias_error;
  Eigen::VectorXd weight_error_l1;  // its rows' sums (FlatNetwork::set_error_bounds)
  // Per row, the part of the bound that does not depend on the region: inflate (gamma_{m+2} |b_j|
  // + bias_error_j) + underflow (row_errors).
  Eigen::VectorXd error_constant;
  // The rounding of this layer's map on a region, composed in doubles from the map of the layer
  // before (row_carry and row_errors, below); abs_l1 the row sums of |weight|.
  double sum_gamma = 0;  // gamma_{m+2} (Higham): m outputs before it, each product rounded twice
  double inflate = 1;    // covers the rounding of the bound's own evaluation
  double underflow = 0;  // the products' absolute error where they underflow
  Eigen::VectorXd abs_l1;

  // Max layers whose rows are the stored layer's own (no affine layer folded in): those rows as
  // stored, sparse (column, weight) per row, and their biases; empty otherwise. Doubles are exact
  // rationals, so they prove ties without rational arithmetic (rows_equal_exactly).
  std::vector<std::vector<std::pair<int, double>>> stored_rows;
  std::vector<double> stored_bias;

  int num_rows() const { return static_cast<int>(weight.rows()); }
  // The sign of z_i - z_j on the region of `pattern` (whose entries of the layer before, `prev`,
  // are decided; null for the first split layer), proved from the stored rows and the signs of the
  // outputs they read, without rational arithmetic: 0 if the rows are the same function there
  // (duplicated rows; max over ReLU outputs that are all 0), +1 if z_i >= z_j on the whole region
  // and not equal everywhere (so the region does not split), -1 if z_i <= z_j likewise, kUnknownSign
  // otherwise. A ReLU output is >= 0 and not identically 0 where active, 0 where inactive with
  // slope 0, <= 0 where inactive with a positive slope; other outputs have no known sign.
  static constexpr int kUnknownSign = 2;
  int difference_sign(int i, int j, const SplitLayer* prev, const std::uint8_t* pattern) const;
  // True if z_i - z_j is provably 0 at a point where the neurons of `prev` for which `tight(entry)`
  // holds are exactly 0 (a vertex on their hyperplanes): the stored rows differ only where they
  // read such a neuron or an inactive ReLU of slope 0, and their biases agree. False: unknown.
  bool difference_vanishes_at(int i, int j, const SplitLayer* prev, const std::uint8_t* pattern,
                              const std::function<bool(int entry)>& tight) const;
  // On a region whose pattern is `pattern`, output o equals factor * z[row].
  void source(int o, const std::uint8_t* pattern, int& row, double& factor) const {
    bool below = false;
    row = source_row(o, pattern, below);
    factor = below ? slope[row] : 1.0;
  }
};

// gamma_n = n u / (1 - n u), u = 2^-53 (Higham): a sum of n rounded operations is off by at most gamma_n
// times the sum of its terms' magnitudes.
inline double rounding_gamma(double n) {
  const double nu = n * 0x1p-53;
  return nu / (1 - nu);
}

// A rigorous bound on the rounding of the engines' affine maps, carried row by row from layer to
// layer. Row j of split layer l on a region is r_j = (z_j, c_j) in R^(d+1), z_j its coefficients in
// u and c_j its constant, summed in doubles from the rows r_t of the outputs t of layer l - 1 that
// pass one on (factor f_t: 1, or a slope):
//   r_j = sum_t W_jt f_t r_t + (0, b_j).
// With E_t >= |computed r_t - exact r_t|_1 and s_t = |computed r_t|_1, any order of the sum gives
// (Higham, Accuracy and Stability of Numerical Algorithms, section 3.1: at most m + 2 roundings
// per term, gamma_n = n u / (1 - n u), u = 2^-53)
//   |computed r_j - exact r_j|_1 <= sum_t |W_jt f_t| (E_t + gamma_{m+2} s_t) + gamma_{m+2} |b_j|
//                                   + |dW_j|_1 max_t |f_t| (s_t + E_t) + |db_j| + underflow,
// with dW, db the layer's own rounding (weight_error, bias_error) and `underflow` the absolute error
// of the products that fall below the normal range ((d + 1)(m + 2) 2^-1074). row_carry() is the
// term of row t per unit |W_jt f_t|, times `inflate` (more than the relative rounding of the bound's
// own sums of non-negative terms); row_errors() adds the rest to the sum of those terms, or to a
// bound of it such as |W_j|_1 max_t |f_t| row_carry(t). On a point u of the normalised box
// (|u|_inf <= 1) a row's value is then off by at most E_j: the row decides its neuron in doubles
// only where E_j is small against its tolerance band (the engines). The first split layer reads u
// itself: E_j = |dW_j|_1 + |db_j|.
inline double row_carry(const SplitLayer& layer, double error, double magnitude) {
  return layer.inflate * (error + layer.sum_gamma * magnitude);
}
// row_carry() of n rows into `layer`, each of error error[t] and magnitude l1[t] + |constant[t]|.
inline void row_carries(const SplitLayer& layer, int n, const double* error, const double* l1, const double* constant,
                        double* __restrict out) {
  for (int t = 0; t < n; ++t) out[t] = row_carry(layer, error[t], l1[t] + std::abs(constant[t]));
}
// E_j for each row j of `layer` from the sums of its terms, carried[j] * factor (carried null: the
// first split layer), and `largest`, the largest |f_t| (s_t + E_t) over the rows t of the layer
// before (read only when the layer has weight_error; 1 for the first split layer, whose inputs are u).
inline void row_errors(const SplitLayer& layer, const double* carried, double factor, double largest,
                       double* __restrict out) {
  const int n = layer.num_rows();
  const double* const constant = layer.error_constant.data();
  if (carried) {
    for (int j = 0; j < n; ++j) out[j] = carried[j] * factor + constant[j];
  } else {
    for (int j = 0; j < n; ++j) out[j] = constant[j];
  }
  if (layer.weight_error_l1.size())
    for (int j = 0; j < n; ++j) out[j] += layer.inflate * layer.weight_error_l1[j] * largest;
}

struct FlatNetwork {
  int input_dim = 0;
  int num_neurons = 0;  // pattern entries
  std::vector<SplitLayer> layers;
  Eigen::MatrixXd out_weight;  // output map after the last split layer
  Eigen::VectorXd out_bias;

  explicit FlatNetwork(const Network& net);

  // Each split layer's sum_gamma, inflate, underflow, weight_error_l1 and error_constant (row_errors), from its
  // place in the network and its weight_error: again after any change to those (normalize()).
  void set_error_bounds();

  // The split layer and its entry of pattern index `global`.
  void locate(int global, int& layer, int& entry) const;

  // Pre-activation map of split layer l on the region with `pattern` (only layers < l are read):
  // z = map_weight * x + map_bias, given the pre-activation map (A, a) of layer l-1.
  void next_preactivation(int l, const std::uint8_t* pattern, const Eigen::MatrixXd& prev_weight,
                          const Eigen::VectorXd& prev_bias, Eigen::MatrixXd& weight, Eigen::VectorXd& bias) const;
};

// Every split layer's pre-activation map and the output map on the region of `pattern`.
struct RegionMaps {
  std::vector<Eigen::MatrixXd> weight;  // per split layer: num_rows x input_dim
  std::vector<Eigen::VectorXd> bias;
  Eigen::MatrixXd out_weight;  // output_dim x input_dim
  Eigen::VectorXd out_bias;
};
RegionMaps region_maps(const FlatNetwork& flat, const ActivationPattern& pattern);

// The half-space of constraint `code` (a neuron's side or a Max unit's piece facet, leaf_sink.h)
// in the region whose maps are `maps`.
Halfspace neuron_halfspace(const FlatNetwork& flat, const RegionMaps& maps, std::int64_t code);

}  // namespace relutope::detail
