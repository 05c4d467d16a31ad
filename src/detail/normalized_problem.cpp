#include "detail/normalized_problem.h"

#include <algorithm>
#include <cmath>

namespace relutope::detail {

NormalizedProblem normalize(const FlatNetwork& flat, const Domain& domain) {
  NormalizedProblem out{flat, domain, Eigen::VectorXd(), Eigen::VectorXd(), true};
  // Halves first, so that neither the centre nor the half-widths overflow near the largest double.
  out.centre = domain.lo / 2 + domain.hi / 2;
  const Eigen::VectorXd half_width = domain.hi / 2 - domain.lo / 2;
  out.scale.resize(domain.dim());
  for (int i = 0; i < domain.dim(); ++i) {
    int exponent = 0;
    std::frexp(half_width[i], &exponent);  // half_width < 2^exponent
    out.scale[i] = std::ldexp(1.0, exponent);
  }
  out.domain.lo = (domain.lo / 2 - out.centre / 2).cwiseQuotient(out.scale / 2);
  out.domain.hi = (domain.hi / 2 - out.centre / 2).cwiseQuotient(out.scale / 2);
  // a·x <= b  <=>  a·(centre + scale ⊙ u) <= b  <=>  (a ⊙ scale)·u <= b - a·centre
  for (Halfspace& h : out.domain.extra) {
    h.b = h.b - h.a.dot(out.centre);
    h.a = h.a.cwiseProduct(out.scale);
    const double norm = h.a.stableNorm();  // rescaled by a power of two, so that a stays finite
    if (norm > 0 && std::isfinite(norm)) {
      int exponent = 0;
      std::frexp(norm, &exponent);
      h.a = (h.a.array() * std::ldexp(1.0, -exponent)).matrix();
      h.b = std::ldexp(h.b, -exponent);
    }
  }
  Eigen::MatrixXd& first = out.flat.layers.empty() ? out.flat.out_weight : out.flat.layers.front().weight;
  Eigen::VectorXd& first_bias = out.flat.layers.empty() ? out.flat.out_bias : out.flat.layers.front().bias;
  first_bias += first * out.centre;
  first = first * out.scale.asDiagonal();
  // Each output's rows (one row, or the rows of a Max unit) are scaled by a power of two to a
  // largest norm in [0.5, 1), and the next layer's column by the inverse: ReLU, leaky ReLU and max
  // are positively homogeneous, so the regions and the outputs are unchanged, no rounding happens,
  // and the box's scale does not reach deeper layers (where a row of norm 1e160 would square to
  // infinity).
  for (std::size_t l = 0; l < out.flat.layers.size(); ++l) {
    SplitLayer& layer = out.flat.layers[l];
    Eigen::MatrixXd& next = l + 1 < out.flat.layers.size() ? out.flat.layers[l + 1].weight : out.flat.out_weight;
    for (int o = 0; o < layer.num_outputs(); ++o) {
      const auto rows = layer.weight.middleRows(layer.out_row[o], layer.out_rows[o]);
      double norm = 0;
      for (Eigen::Index i = 0; i < rows.rows(); ++i) norm = std::max(norm, rows.row(i).stableNorm());
      if (!(norm > 0) || !std::isfinite(norm)) continue;
      int exponent = 0;
      std::frexp(norm, &exponent);
      layer.weight.middleRows(layer.out_row[o], layer.out_rows[o]) *= std::ldexp(1.0, -exponent);
      layer.bias.segment(layer.out_row[o], layer.out_rows[o]) *= std::ldexp(1.0, -exponent);
      next.col(o) *= std::ldexp(1.0, exponent);
    }
    out.representable = out.representable && layer.weight.allFinite() && layer.bias.allFinite();
  }
  for (const Halfspace& h : out.domain.extra)
    out.representable = out.representable && h.a.allFinite() && std::isfinite(h.b);
  out.representable = out.representable && out.domain.lo.allFinite() && out.domain.hi.allFinite();
  return out;
}

}  // namespace relutope::detail
