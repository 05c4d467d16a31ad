#include "detail/exact_network.h"

#include <algorithm>

namespace relutope::detail {

ExactNetwork::ExactNetwork(const Network& net) : input_dim(net.input_dim()) {
  // Split layers with the affine layers before them folded in, exactly (doubles are rationals).
  const int d = input_dim;
  Matrix pending(d, Vector(d, 0));
  for (int i = 0; i < d; ++i) pending[i][i] = 1;
  Vector pending_bias(d, 0);
  bool pending_is_identity = true;  // the common case (split after split) needs no product
  for (int l = 0; l < static_cast<int>(net.layers.size()); ++l) {
    const relutope::Layer& layer = net.layers[l];
    const int n = layer.num_rows(), m = layer.num_in();
    const int cols = static_cast<int>(pending[0].size());
    Matrix w(n, Vector(cols, 0));
    Vector b(n, 0);
    for (int i = 0; i < n; ++i) {
      for (int k = 0; k < m; ++k) {
        const Rational wik(layer.weight(i, k));
        if (pending_is_identity) {
          w[i][k] = wik;
          continue;
        }
        for (int j = 0; j < cols; ++j) w[i][j] += wik * pending[k][j];
        b[i] += wik * pending_bias[k];
      }
      b[i] += Rational(layer.bias[i]);
    }
    pending_is_identity = false;
    if (!layer.splits()) {  // its outputs are its rows, unscaled
      pending = std::move(w);
      pending_bias = std::move(b);
      continue;
    }
    Layer e;
    static_cast<UnitLayout&>(e) = UnitLayout(net, l, num_neurons);
    e.weight = std::move(w);
    e.bias = std::move(b);
    e.slope.resize(n);
    for (int i = 0; i < n; ++i) e.slope[i] = e.is_max ? Rational(1) : Rational(layer.slope_below(i));
    num_neurons += e.num_entries();
    const int outputs = e.num_outputs();
    layers.push_back(std::move(e));
    pending.assign(outputs, Vector(outputs, 0));
    for (int i = 0; i < outputs; ++i) pending[i][i] = 1;
    pending_bias.assign(outputs, 0);
    pending_is_identity = true;
  }
}

int ExactNetwork::layer_of(int global) const {
  int l = 0;
  while (l + 1 < static_cast<int>(layers.size()) && layers[l + 1].offset <= global) ++l;
  return l;
}

std::vector<ExactNetwork::Matrix> ExactNetwork::preactivations(const ActivationPattern& pattern, int last) const {
  const int d = input_dim;
  std::vector<Matrix> pre(last + 1);
  for (int l = 0; l <= last; ++l) {
    const Layer& layer = layers[l];
    Matrix& z = pre[l];
    z.assign(layer.weight.size(), Vector(d + 1, 0));
    for (std::size_t i = 0; i < layer.weight.size(); ++i) {
      if (l == 0) {
        for (int j = 0; j < d; ++j) z[i][j] = layer.weight[i][j];
      } else {
        const Layer& prev = layers[l - 1];
        for (std::size_t k = 0; k < layer.weight[i].size(); ++k) {  // output k of the layer before
          if (sgn(layer.weight[i][k]) == 0) continue;
          bool below = false;
          const int row = prev.source_row(static_cast<int>(k), pattern.data(), below);
          const Rational factor = below ? layer.weight[i][k] * prev.slope[row] : layer.weight[i][k];
          if (sgn(factor) == 0) continue;
          for (int j = 0; j <= d; ++j) z[i][j] += factor * pre[l - 1][row][j];
        }
      }
      z[i][d] += layer.bias[i];
    }
  }
  return pre;
}

void ExactNetwork::side_rows(const ActivationPattern& pattern, const std::vector<ConstraintCode>& codes, Matrix& a,
                             Vector& b) const {
  a.clear();
  b.clear();
  int deepest = -1;
  for (ConstraintCode code : codes) deepest = std::max(deepest, layer_of(code_entry(code)));
  const std::vector<Matrix> pre = preactivations(pattern, deepest);
  const int d = input_dim;
  for (ConstraintCode code : codes) {
    const int g = code_entry(code);
    const int l = layer_of(g);
    const Layer& layer = layers[l];
    const int o = layer.entry_out[g - layer.offset];
    Vector row(d);
    if (is_max_code(code)) {
      // z[state] >= z[other]  <=>  (w_other - w_state)·x <= c_state - c_other
      const Vector& zi = pre[l][layer.out_row[o] + code_state(code)];
      const Vector& zj = pre[l][layer.out_row[o] + code_other(code)];
      for (int j = 0; j < d; ++j) row[j] = zj[j] - zi[j];
      a.push_back(std::move(row));
      b.push_back(zi[d] - zj[d]);
      continue;
    }
    const Vector& z = pre[l][o];
    const bool active = code_state(code) != 0;
    // active: z >= 0  <=>  -w·x <= c;   inactive: z <= 0  <=>  w·x <= -c
    for (int j = 0; j < d; ++j) row[j] = active ? Rational(-z[j]) : z[j];
    a.push_back(std::move(row));
    b.push_back(active ? z[d] : Rational(-z[d]));
  }
}

}  // namespace relutope::detail
