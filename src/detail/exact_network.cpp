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
  for (const relutope::Layer& layer : net.layers) {
    const int n = layer.num_out(), m = layer.num_in();
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
    if (!layer.splits()) {
      pending = std::move(w);
      pending_bias = std::move(b);
      continue;
    }
    Layer e{std::move(w), std::move(b), Vector(n), num_neurons};
    for (int i = 0; i < n; ++i) e.slope[i] = Rational(layer.slope_below(i));
    layers.push_back(std::move(e));
    num_neurons += n;
    pending.assign(n, Vector(n, 0));
    for (int i = 0; i < n; ++i) pending[i][i] = 1;
    pending_bias.assign(n, 0);
    pending_is_identity = true;
  }
}

void ExactNetwork::side_rows(const ActivationPattern& pattern, const std::vector<ConstraintCode>& codes, Matrix& a,
                             Vector& b) const {
  a.clear();
  b.clear();
  int deepest = -1;
  for (ConstraintCode code : codes) {
    const int g = code / 2;
    for (int l = 0; l < static_cast<int>(layers.size()); ++l)
      if (g >= layers[l].offset && g < layers[l].offset + static_cast<int>(layers[l].weight.size()))
        deepest = std::max(deepest, l);
  }
  // Pre-activation maps of layers 0..deepest on the region, rows [w_0 .. w_{d-1}, c].
  const int d = input_dim;
  std::vector<Matrix> pre(deepest + 1);
  for (int l = 0; l <= deepest; ++l) {
    const Layer& layer = layers[l];
    Matrix& z = pre[l];
    z.assign(layer.weight.size(), Vector(d + 1, 0));
    for (std::size_t i = 0; i < layer.weight.size(); ++i) {
      if (l == 0) {
        for (int j = 0; j < d; ++j) z[i][j] = layer.weight[i][j];
      } else {
        const Layer& prev = layers[l - 1];
        for (std::size_t k = 0; k < layer.weight[i].size(); ++k) {
          if (sgn(layer.weight[i][k]) == 0) continue;
          const Rational factor = pattern[prev.offset + k] ? layer.weight[i][k] : layer.weight[i][k] * prev.slope[k];
          if (sgn(factor) == 0) continue;
          for (int j = 0; j <= d; ++j) z[i][j] += factor * pre[l - 1][k][j];
        }
      }
      z[i][d] += layer.bias[i];
    }
  }
  for (ConstraintCode code : codes) {
    const int g = code / 2;
    const bool active = code % 2;
    int l = 0;
    while (l + 1 < static_cast<int>(layers.size()) && layers[l + 1].offset <= g) ++l;
    const Vector& z = pre[l][g - layers[l].offset];
    // active: z >= 0  <=>  -w·x <= c;   inactive: z <= 0  <=>  w·x <= -c
    Vector row(z.begin(), z.begin() + d);
    if (active)
      for (Rational& v : row) v = -v;
    a.push_back(std::move(row));
    b.push_back(active ? z[d] : Rational(-z[d]));
  }
}

}  // namespace relutope::detail
