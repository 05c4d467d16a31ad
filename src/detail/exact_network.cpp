#include "detail/exact_network.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "detail/fold_layers.h"
#include "relutope/error.h"

namespace relutope::detail {

namespace {

using Rational = ExactNetwork::Rational;
using Vector = ExactNetwork::Vector;
using Matrix = ExactNetwork::Matrix;

// Solves a x = b (a square and invertible, both rational) by Gaussian elimination; b has several columns.
Matrix solve(Matrix a, Matrix b) {
  const int n = static_cast<int>(a.size());
  for (int c = 0; c < n; ++c) {
    int p = c;
    while (p < n && sgn(a[p][c]) == 0) ++p;
    if (p == n) throw Error("exact affine map: its anchors are not affinely independent");
    std::swap(a[p], a[c]);
    std::swap(b[p], b[c]);
    for (int r = 0; r < n; ++r) {
      if (r == c || sgn(a[r][c]) == 0) continue;
      const Rational f = a[r][c] / a[c][c];
      for (int j = c; j < n; ++j) a[r][j] -= f * a[c][j];
      for (std::size_t j = 0; j < b[r].size(); ++j) b[r][j] -= f * b[c][j];
    }
  }
  for (int r = 0; r < n; ++r)
    for (Rational& v : b[r]) v /= a[r][r];
  return b;
}

}  // namespace

std::vector<Vector> exact_anchors(const ExactAffineMap& map) {
  const int k = map.num_inputs();
  std::vector<Vector> out(k + 1, Vector(k));
  if (map.facets.empty()) {
    for (int j = 0; j <= k; ++j)
      for (int i = 0; i < k; ++i) out[j][i] = map.coords(i, j);
    return out;
  }
  if (static_cast<int>(map.facets.size()) != k + 1) throw Error("exact affine map: expected k + 1 facets");
  for (int j = 0; j <= k; ++j) {  // where every facet but facets[j] holds with equality
    Matrix a, b;
    for (int f = 0; f <= k; ++f) {
      if (f == j) continue;
      const Halfspace& h = map.facets[f];
      if (h.a.size() != k) throw Error("exact affine map: a facet of the wrong dimension");
      a.emplace_back(h.a.data(), h.a.data() + k);
      b.push_back(Vector{Rational(h.b)});
    }
    const Matrix u = solve(std::move(a), std::move(b));
    for (int i = 0; i < k; ++i) out[j][i] = u[i][0];
  }
  return out;
}

RationalMap rational_map(const ExactAffineMap& map) {
  const int d = static_cast<int>(map.points.rows()), k = map.num_inputs();
  RationalMap out;
  out.origin.resize(d);
  out.linear.assign(d, Vector(k));
  if (map.coords.size() == 0 && map.facets.empty()) {
    for (int i = 0; i < d; ++i) {
      out.origin[i] = map.points(i, 0);
      for (int j = 0; j < k; ++j) out.linear[i][j] = map.points(i, j + 1);
    }
    return out;
  }
  const std::vector<Vector> anchors = exact_anchors(map);
  // linear U = X  <=>  U^T linear^T = X^T, with U = [u_j - u_0], X = [x_j - x_0] (j = 1..k).
  Matrix ut(k, Vector(k)), xt(k, Vector(d));
  for (int j = 0; j < k; ++j) {
    for (int i = 0; i < k; ++i) ut[j][i] = anchors[j + 1][i] - anchors[0][i];
    for (int i = 0; i < d; ++i) xt[j][i] = Rational(map.points(i, j + 1)) - Rational(map.points(i, 0));
  }
  const Matrix lt = solve(std::move(ut), std::move(xt));  // k x d: linear transposed
  for (int i = 0; i < d; ++i) {
    out.origin[i] = map.points(i, 0);
    for (int j = 0; j < k; ++j) {
      out.linear[i][j] = lt[j][i];
      out.origin[i] -= lt[j][i] * anchors[0][j];
    }
  }
  return out;
}

namespace {

// The affine map x -> w x + b after y -> p y + pb, exactly: (w p, w pb + b). Zero weights are
// skipped (folded layers are sparse). The one rational product of affine maps here: layers after
// layers (RationalLayers::fold), input maps after input maps (then) and the first layer after them.
void compose(const Matrix& w, const Vector& b, const Matrix& p, const Vector& pb, Matrix& out_w, Vector& out_b) {
  const std::size_t n = w.size(), m = pb.size(), cols = p.empty() ? 0 : p[0].size();
  Matrix product(n, Vector(cols));
  Vector shift = b;
  for (std::size_t i = 0; i < n; ++i) {
    if (w[i].size() != m) throw Error("exact fold: an affine map of " + std::to_string(w[i].size()) +
                                      " inputs after one of " + std::to_string(m) + " outputs (internal error)");
    for (std::size_t k = 0; k < m; ++k) {
      const Rational& wik = w[i][k];
      if (sgn(wik) == 0) continue;
      for (std::size_t j = 0; j < cols; ++j) product[i][j] += wik * p[k][j];
      shift[i] += wik * pb[k];
    }
  }
  out_w = std::move(product);
  out_b = std::move(shift);
}

// outer(inner(u)), exactly.
RationalMap then(const RationalMap& outer, const RationalMap& inner) {
  RationalMap out;
  compose(outer.linear, outer.origin, inner.linear, inner.origin, out.linear, out.origin);
  return out;
}

// Whether `values` are the layers of `rounded` up to the rounding of their folds: a network whose
// layers were changed after its definition was made is its layers.
bool is_rounding_of(const std::vector<ExactLayerValues>& values, const Network& rounded) {
  if (values.size() != rounded.layers.size()) return false;
  for (std::size_t l = 0; l < values.size(); ++l) {
    const relutope::Layer& layer = rounded.layers[l];
    const ExactLayerValues& v = values[l];
    if (static_cast<int>(v.bias.size()) != layer.num_rows() || static_cast<int>(v.weight.size()) != layer.num_rows())
      return false;
    const double scale = std::max(layer.weight.size() ? layer.weight.cwiseAbs().maxCoeff() : 0.0,
                                  layer.bias.size() ? layer.bias.cwiseAbs().maxCoeff() : 0.0);
    const double slack = 1e-6 * scale;
    for (int i = 0; i < layer.num_rows(); ++i) {
      if (static_cast<int>(v.weight[i].size()) != layer.num_in()) return false;
      if (!(std::abs(v.bias[i].get_d() - layer.bias[i]) <= slack)) return false;
      for (int k = 0; k < layer.num_in(); ++k)
        if (!(std::abs(v.weight[i][k].get_d() - layer.weight(i, k)) <= slack)) return false;
    }
  }
  return true;
}

// The layers of `net` exactly, from its definition (Network::exact): the graph lowered in
// rationals, or the stored layers, after the input maps. Empty without a definition, or when the
// layers are not its rounding: then the layers are the network.
std::vector<ExactLayerValues> defined_layers(const Network& net) {
  const ExactDefinition* def = net.exact.get();
  if (!def || (!def->graph && !def->network)) return {};
  std::unique_ptr<RationalMap> map;
  const std::vector<ExactAffineMap>& maps = def->input_maps;
  if (!maps.empty()) {
    if (maps.back().num_inputs() != net.input_dim())
      throw Error(net.source + ": its exact input maps do not fit the network (internal error)");
    map = std::make_unique<RationalMap>(rational_map(maps.back()));
    for (std::size_t i = maps.size() - 1; i-- > 0;) *map = then(rational_map(maps[i]), *map);
  }
  std::vector<ExactLayerValues> values;
  if (def->graph) {
    values = lower_exactly(*def->graph, map.get());
  } else {
    for (const relutope::Layer& layer : def->network->layers) {
      ExactLayerValues v;
      v.bias.assign(layer.bias.data(), layer.bias.data() + layer.bias.size());
      v.weight.assign(layer.num_rows(), Vector(layer.num_in()));
      for (int i = 0; i < layer.num_rows(); ++i)
        for (int k = 0; k < layer.num_in(); ++k) v.weight[i][k] = layer.weight(i, k);
      values.push_back(std::move(v));
    }
    if (map && !values.empty()) {  // the first layer after the map: W linear, and W origin + b
      ExactLayerValues& first = values.front();
      compose(first.weight, first.bias, map->linear, map->origin, first.weight, first.bias);
    }
  }
  if (!is_rounding_of(values, net)) return {};
  return values;
}

}  // namespace

namespace {

// A network's layers in rationals (fold_layers.h): its exact definition's numbers when it has one
// (defined_layers), else its doubles, which are rationals.
struct RationalLayers {
  using Matrix = ExactNetwork::Matrix;
  using Vector = ExactNetwork::Vector;
  const Network& net;
  const std::vector<ExactLayerValues>& defined;  // empty, or one per layer of net

  Matrix weight(int l) const {
    if (!defined.empty()) return defined[l].weight;
    const relutope::Layer& layer = net.layers[l];
    Matrix w(layer.num_rows(), Vector(layer.num_in()));
    for (int i = 0; i < layer.num_rows(); ++i)
      for (int k = 0; k < layer.num_in(); ++k) w[i][k] = layer.weight(i, k);
    return w;
  }
  Vector bias(int l) const {
    if (!defined.empty()) return defined[l].bias;
    const Eigen::VectorXd& b = net.layers[l].bias;
    return Vector(b.data(), b.data() + b.size());
  }
  void fold(int l, const Matrix& pending, const Vector& pending_bias, Matrix& w, Vector& b) const {
    if (!defined.empty())
      compose(defined[l].weight, defined[l].bias, pending, pending_bias, w, b);
    else
      compose(weight(l), bias(l), pending, pending_bias, w, b);
  }
};

}  // namespace

ExactNetwork::ExactNetwork(const Network& net) : input_dim(net.input_dim()) {
  // Split layers with the affine layers before them folded in, exactly (doubles are rationals), by
  // the same walk as FlatNetwork's (fold_layers.h). A network with an exact definition (a graph's
  // folds or a slice composed in floating point) is folded from the definition, without rounding.
  const std::vector<ExactLayerValues> defined = defined_layers(net);
  fold_layers(net, RationalLayers{net, defined}, [&](UnitLayout layout, Matrix w, Vector b, bool) {
    Layer e;
    static_cast<UnitLayout&>(e) = std::move(layout);
    const relutope::Layer& layer = net.layers[e.network_layer];
    e.weight = std::move(w);
    e.bias = std::move(b);
    e.slope.resize(layer.num_rows());
    for (int i = 0; i < layer.num_rows(); ++i) e.slope[i] = e.is_max ? Rational(1) : Rational(layer.slope_below(i));
    num_neurons += e.num_entries();
    layers.push_back(std::move(e));
  });
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

ExactNetwork::RowOnRegion ExactNetwork::row_on_region(const ActivationPattern& pattern, int layer, int row,
                                                      const Eigen::VectorXd& centre, const Eigen::VectorXd& scale,
                                                      int minus) const {
  RowOnRegion out;
  const Layer& this_layer = layers[layer];
  // Common case first: every input the row weighs is an output of an inactive ReLU of slope 0 (or
  // it weighs none), so the row is its bias alone; no rational products needed.
  const auto only_bias = [&](int r) {
    const Vector& weights = this_layer.weight[r];
    for (std::size_t k = 0; k < weights.size(); ++k) {
      if (sgn(weights[k]) == 0) continue;
      if (layer == 0) return false;
      const Layer& prev = layers[layer - 1];
      bool below = false;
      const int source = prev.source_row(static_cast<int>(k), pattern.data(), below);
      if (!below || sgn(prev.slope[source]) != 0) return false;
    }
    return true;
  };
  if (only_bias(row) && (minus < 0 || only_bias(minus))) {
    out.decided = true;
    out.sign = minus < 0 ? sgn(this_layer.bias[row]) : cmp(this_layer.bias[row], this_layer.bias[minus]);
    if (out.sign != 0) out.sign = out.sign > 0 ? 1 : -1;
    return out;
  }
  out.rational = true;
  // [w_0 .. w_{d-1}, c] in input coordinates, then in u.
  const std::vector<Matrix> pre = preactivations(pattern, layer);
  Vector z = pre[layer][row];
  if (minus >= 0)
    for (std::size_t j = 0; j < z.size(); ++j) z[j] -= pre[layer][minus][j];
  const int d = input_dim;
  Vector in_u(d + 1);
  in_u[d] = z[d];
  Rational largest = 0;
  for (int j = 0; j < d; ++j) {
    in_u[j] = z[j] * Rational(scale[j]);
    in_u[d] += z[j] * Rational(centre[j]);
    if (abs(in_u[j]) > largest) largest = abs(in_u[j]);
  }
  if (sgn(largest) == 0) {
    out.decided = true;
    out.sign = sgn(in_u[d]);
    return out;
  }
  // Scaled to the largest weight 1 before rounding, so that a row far below the range of doubles
  // keeps its direction.
  out.w.resize(d);
  for (int j = 0; j < d; ++j) out.w[j] = Rational(in_u[j] / largest).get_d();
  out.c = Rational(in_u[d] / largest).get_d();
  if (!std::isfinite(out.c)) {  // |c| beyond doubles times the largest |w_j|: |w·u| <= d on the box
    out.decided = true;
    out.sign = sgn(in_u[d]);
  }
  return out;
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
