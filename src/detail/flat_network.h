#pragma once
// The network as the engines see it: only the layers that split, each with the affine layers
// before it composed in, plus the affine map after the last split. Private to src/.
//
// A split layer has rows (its pre-activations z = W x + b), outputs (what the next layer reads)
// and entries (its part of an ActivationPattern). ReLU family: output o is row o, scaled by 1 or
// by its slope; entries are the rows that are not linear. Max: output o is the largest row of unit
// o; entries are the units of two or more rows, each holding the index of its largest row.
#include <Eigen/Core>
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

struct FlatNetwork {
  int input_dim = 0;
  int num_neurons = 0;  // pattern entries
  std::vector<SplitLayer> layers;
  Eigen::MatrixXd out_weight;  // output map after the last split layer
  Eigen::VectorXd out_bias;

  explicit FlatNetwork(const Network& net);

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
