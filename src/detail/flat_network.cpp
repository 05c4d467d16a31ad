#include "detail/flat_network.h"

#include <algorithm>
#include <climits>

#include "detail/fold_layers.h"
#include "detail/leaf_sink.h"
#include "relutope/error.h"

namespace relutope::detail {

UnitLayout::UnitLayout(const Network& net, int l, int first_entry)
    : is_max(net.layers[l].activation == Activation::kMax), network_layer(l), offset(first_entry) {
  const Layer& layer = net.layers[l];
  if (is_max) {
    for (int u = 0, row = 0; u < layer.num_units(); row += layer.rows_of_unit(u++)) {
      out_row.push_back(row);
      out_rows.push_back(layer.rows_of_unit(u));
      out_entry.push_back(layer.rows_of_unit(u) >= 2 ? num_entries() : -1);
      if (layer.rows_of_unit(u) >= 2) entry_out.push_back(u);
    }
    return;
  }
  for (int i = 0; i < layer.num_rows(); ++i) {
    out_row.push_back(i);
    out_rows.push_back(1);
    out_entry.push_back(layer.is_linear_row(i) ? -1 : num_entries());
    if (!layer.is_linear_row(i)) entry_out.push_back(i);
  }
}

namespace {

// Numbers in doubles with an elementwise bound on their distance to the exact ones (empty: exact).
struct BoundedMatrix {
  Eigen::MatrixXd value, error;
};
struct BoundedVector {
  Eigen::VectorXd value, error;
};

// DoubleLayers (the same products, so the same bits), with the rounding of each fold bounded:
// W (w + dw) summed in doubles over k terms is off from W w by at most |W| |dw| + gamma_k |W| |w|
// (Higham, section 3.5), and W b + c (k + 1 terms) by |W| |db| + gamma_{k+1} (|W| |b| + |c|); both
// inflated for the rounding of their own evaluation, and with (k + 1) 2^-1074 for products that
// underflow.
struct BoundedLayers {
  using Matrix = BoundedMatrix;
  using Vector = BoundedVector;
  const Network& net;

  Matrix weight(int l) const { return {net.layers[l].weight, {}}; }
  Vector bias(int l) const { return {net.layers[l].bias, {}}; }
  void fold(int l, const Matrix& w, const Vector& b, Matrix& out_w, Vector& out_b) const {
    DoubleLayers{net}.fold(l, w.value, b.value, out_w.value, out_b.value);
    const Layer& layer = net.layers[l];
    const double k = static_cast<double>(layer.num_in());
    const double gamma = rounding_gamma(k + 1), inflate = 1 + 2 * rounding_gamma(k + 4);
    const Eigen::MatrixXd abs_weight = layer.weight.cwiseAbs();
    out_w.error = inflate * gamma * (abs_weight * w.value.cwiseAbs());
    out_b.error = inflate * gamma * (abs_weight * b.value.cwiseAbs() + layer.bias.cwiseAbs());
    if (w.error.size()) out_w.error += inflate * (abs_weight * w.error);
    if (b.error.size()) out_b.error += inflate * (abs_weight * b.error);
    // A product below the normal range rounds by up to 2^-1075 absolutely, whatever gamma says.
    out_w.error.array() += (k + 1) * 0x1p-1074;
    out_b.error.array() += (k + 1) * 0x1p-1074;
  }
};

}  // namespace

void FlatNetwork::set_error_bounds() {
  for (std::size_t l = 0; l < layers.size(); ++l) {
    SplitLayer& layer = layers[l];
    if (l == 0) {  // it reads the input itself: no sum of rows, no rounding of its own
      layer.sum_gamma = 0;
      layer.inflate = 1 + 2 * rounding_gamma(input_dim + 4);
      layer.underflow = 0;
    } else {
      const double m = layers[l - 1].num_outputs();
      layer.sum_gamma = rounding_gamma(m + 2);
      // Every bound is a sum of at most m + 2 non-negative terms, each rounded a few times (d + 1
      // for the magnitudes s_t): 2 gamma_{m+d+8} more than covers it.
      layer.inflate = 1 + 2 * rounding_gamma(m + input_dim + 8);
      layer.underflow = (input_dim + 1) * (m + 2) * 0x1p-1074;
    }
    // |W_j|_1, rounded up (a sum of non-negative terms: its rounding is less than inflate's).
    layer.abs_l1 = layer.inflate * layer.weight.cwiseAbs().rowwise().sum();
    layer.error_constant = (layer.inflate * layer.sum_gamma) * layer.bias.cwiseAbs();
    layer.error_constant.array() += layer.underflow;
    layer.weight_error_l1.resize(0);
    if (!layer.weight_error.size() && !layer.bias_error.size()) continue;
    if (!layer.weight_error.size()) layer.weight_error = Eigen::MatrixXd::Zero(layer.weight.rows(), layer.weight.cols());
    if (!layer.bias_error.size()) layer.bias_error = Eigen::VectorXd::Zero(layer.num_rows());
    layer.weight_error_l1 = layer.weight_error.rowwise().sum();
    layer.error_constant += layer.inflate * layer.bias_error;
  }
}

FlatNetwork::FlatNetwork(const Network& net) : input_dim(net.input_dim()) {
  // Affine layers are folded into the next split layer (fold_layers.h). A layer after a split layer
  // is taken as it is: a product by the identity gives the same values, but as an Eigen GEMM, which
  // runs on OpenMP threads: on a loaded machine it waited for a descheduled thread (8% of a 1-thread
  // count of 2 -> 4x64), and the pool's threads then spun beside the count.
  auto tail = fold_layers(net, BoundedLayers{net}, [&](UnitLayout layout, BoundedMatrix w, BoundedVector b,
                                                       bool folded) {
    SplitLayer split;
    static_cast<UnitLayout&>(split) = std::move(layout);
    const Layer& layer = net.layers[split.network_layer];
    if (split.is_max && !folded) {
      split.stored_rows.resize(layer.num_rows());
      for (int i = 0; i < layer.num_rows(); ++i)
        for (int k = 0; k < layer.num_in(); ++k)
          if (layer.weight(i, k) != 0) split.stored_rows[i].emplace_back(k, layer.weight(i, k));
      split.stored_bias.assign(layer.bias.data(), layer.bias.data() + layer.num_rows());
    }
    split.weight = std::move(w.value);
    split.bias = std::move(b.value);
    split.weight_error = std::move(w.error);
    split.bias_error = std::move(b.error);
    split.slope.resize(layer.num_rows());
    for (int i = 0; i < layer.num_rows(); ++i) split.slope[i] = split.is_max ? 1.0 : layer.slope_below(i);
    num_neurons += split.num_entries();
    layers.push_back(std::move(split));
  });
  if (tail.is_identity) {
    out_weight = Eigen::MatrixXd::Identity(tail.dim, tail.dim);
    out_bias = Eigen::VectorXd::Zero(tail.dim);
  } else {
    out_weight = std::move(tail.weight.value);
    out_bias = std::move(tail.bias.value);
  }
  set_error_bounds();
}

namespace {

// Calls visit(col, wa, wb) for each column where the sparse rows a and b (sorted by column) differ,
// in column order, until it returns false. @return false if a visit returned false.
template <class Visit>
bool for_each_difference(const std::vector<std::pair<int, double>>& a, const std::vector<std::pair<int, double>>& b,
                         Visit&& visit) {
  std::size_t p = 0, q = 0;
  while (p < a.size() || q < b.size()) {
    const int col = std::min(p < a.size() ? a[p].first : INT_MAX, q < b.size() ? b[q].first : INT_MAX);
    const double wa = p < a.size() && a[p].first == col ? a[p++].second : 0.0;
    const double wb = q < b.size() && b[q].first == col ? b[q++].second : 0.0;
    if (wa != wb && !visit(col, wa, wb)) return false;
  }
  return true;
}

}  // namespace

int SplitLayer::difference_sign(int i, int j, const SplitLayer* prev, const std::uint8_t* pattern) const {
  if (stored_rows.empty()) return kUnknownSign;
  // z_i - z_j = sum_col (a_col - b_col) y_col + (bias_i - bias_j): collect the signs of its terms.
  bool nonneg = stored_bias[i] >= stored_bias[j], nonpos = stored_bias[i] <= stored_bias[j];
  bool somewhere_pos = stored_bias[i] > stored_bias[j], somewhere_neg = stored_bias[i] < stored_bias[j];
  const bool known = for_each_difference(stored_rows[i], stored_rows[j], [&](int col, double wa, double wb) {
    if (!prev || prev->is_max || prev->out_entry[col] < 0) return false;  // no known sign
    bool below = false;
    const int row = prev->source_row(col, pattern, below);
    const double slope = below ? prev->slope[row] : 1.0;
    if (slope == 0.0) return true;  // an inactive ReLU: 0
    if (below && slope < 0) return false;
    const bool coefficient_pos = wa > wb;  // exact: wa - wb may round, its sign does not
    // y >= 0 and not identically 0 (active), or y <= 0 (inactive with a positive slope)
    const bool term_nonneg = below ? !coefficient_pos : coefficient_pos;
    nonneg = nonneg && term_nonneg;
    nonpos = nonpos && !term_nonneg;
    if (!below) (coefficient_pos ? somewhere_pos : somewhere_neg) = true;
    return true;
  });
  if (!known) return kUnknownSign;
  if (nonneg && nonpos) return 0;  // every term 0
  if (nonneg && somewhere_pos) return 1;
  if (nonpos && somewhere_neg) return -1;
  return kUnknownSign;
}

bool SplitLayer::difference_vanishes_at(int i, int j, const SplitLayer* prev, const std::uint8_t* pattern,
                                        const std::function<bool(int entry)>& tight) const {
  if (stored_rows.empty() || !prev || prev->is_max || stored_bias[i] != stored_bias[j]) return false;
  return for_each_difference(stored_rows[i], stored_rows[j], [&](int col, double, double) {
    const int e = prev->out_entry[col];
    if (e < 0) return false;  // a linear row: no reason to be 0
    bool below = false;
    const int row = prev->source_row(col, pattern, below);
    if (below && prev->slope[row] == 0.0) return true;  // an inactive ReLU: 0
    return tight(prev->offset + e);  // y = z or slope * z, 0 on the neuron's hyperplane
  });
}

void FlatNetwork::locate(int global, int& layer, int& entry) const {
  int l = 0;
  while (l + 1 < static_cast<int>(layers.size()) && layers[l + 1].offset <= global) ++l;
  layer = l;
  entry = global - layers[l].offset;
}

namespace {

// The outputs of split layer `prev` as affine maps (A, a) on the region of `pattern`, given its
// pre-activation map (prev_weight, prev_bias): row o of A is factor * prev_weight.row(source row).
void outputs_on_region(const SplitLayer& prev, const std::uint8_t* pattern, const Eigen::MatrixXd& prev_weight,
                       const Eigen::VectorXd& prev_bias, Eigen::MatrixXd& a, Eigen::VectorXd& c) {
  if (!prev.is_max && prev.num_outputs() == prev.num_rows()) {
    Eigen::VectorXd scale(prev.num_rows());
    for (int o = 0; o < prev.num_outputs(); ++o) {
      int row = 0;
      prev.source(o, pattern, row, scale[o]);
    }
    a = scale.asDiagonal() * prev_weight;
    c = scale.cwiseProduct(prev_bias);
    return;
  }
  a.resize(prev.num_outputs(), prev_weight.cols());
  c.resize(prev.num_outputs());
  for (int o = 0; o < prev.num_outputs(); ++o) {
    int row = 0;
    double factor = 1;
    prev.source(o, pattern, row, factor);
    a.row(o) = factor * prev_weight.row(row);
    c[o] = factor * prev_bias[row];
  }
}

}  // namespace

void FlatNetwork::next_preactivation(int l, const std::uint8_t* pattern, const Eigen::MatrixXd& prev_weight,
                                     const Eigen::VectorXd& prev_bias, Eigen::MatrixXd& weight,
                                     Eigen::VectorXd& bias) const {
  const SplitLayer& layer = layers[l];
  if (l == 0) {
    weight = layer.weight;
    bias = layer.bias;
    return;
  }
  Eigen::MatrixXd a;
  Eigen::VectorXd c;
  outputs_on_region(layers[l - 1], pattern, prev_weight, prev_bias, a, c);
  // lazyProduct: `a` is thin (input_dim columns), where GEMM's packing costs more than it saves.
  weight.noalias() = layer.weight.lazyProduct(a);
  bias.noalias() = layer.weight * c;
  bias += layer.bias;
}

RegionMaps region_maps(const FlatNetwork& flat, const ActivationPattern& pattern) {
  RegionMaps maps;
  const int num_layers = static_cast<int>(flat.layers.size());
  maps.weight.resize(num_layers);
  maps.bias.resize(num_layers);
  for (int l = 0; l < num_layers; ++l)
    flat.next_preactivation(l, pattern.data(), l ? maps.weight[l - 1] : Eigen::MatrixXd(),
                            l ? maps.bias[l - 1] : Eigen::VectorXd(), maps.weight[l], maps.bias[l]);
  if (num_layers == 0) {
    maps.out_weight = flat.out_weight;
    maps.out_bias = flat.out_bias;
    return maps;
  }
  Eigen::MatrixXd a;
  Eigen::VectorXd c;
  outputs_on_region(flat.layers.back(), pattern.data(), maps.weight.back(), maps.bias.back(), a, c);
  maps.out_weight = flat.out_weight * a;
  maps.out_bias = flat.out_weight * c + flat.out_bias;
  return maps;
}

Halfspace neuron_halfspace(const FlatNetwork& flat, const RegionMaps& maps, std::int64_t code) {
  int l = 0, e = 0;
  flat.locate(code_entry(code), l, e);
  const SplitLayer& layer = flat.layers[l];
  const int o = layer.entry_out[e];
  Halfspace h;
  h.origin.kind = HalfspaceOrigin::Kind::kNeuron;
  h.origin.layer = layer.network_layer;
  h.origin.neuron = o;
  if (is_max_code(code)) {
    // z[state] >= z[other]  <=>  (w_other - w_state)·x <= c_state - c_other
    const int i = layer.out_row[o] + code_state(code), j = layer.out_row[o] + code_other(code);
    h.a = maps.weight[l].row(j).transpose() - maps.weight[l].row(i).transpose();
    h.b = maps.bias[l][i] - maps.bias[l][j];
    h.origin.kind = HalfspaceOrigin::Kind::kMaxUnit;
    h.origin.row = code_state(code);
    h.origin.other_row = code_other(code);
    h.origin.active = true;
    return h;
  }
  const bool active = code_state(code) != 0;
  // active: z >= 0  <=>  -w·x <= c;   inactive: z <= 0  <=>  w·x <= -c
  h.a = active ? Eigen::VectorXd(-maps.weight[l].row(o).transpose()) : Eigen::VectorXd(maps.weight[l].row(o).transpose());
  h.b = active ? maps.bias[l][o] : -maps.bias[l][o];
  h.origin.active = active;
  return h;
}

}  // namespace relutope::detail
