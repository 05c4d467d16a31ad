#include "detail/normalized_problem.h"

#include <algorithm>
#include <cmath>

#include "detail/affine_dd.h"

namespace relutope::detail {

namespace {

// The first split layer's bias in coordinates centred on `centre`: b + W centre per row, as a
// compensated dot product (Dot2 of Ogita, Rump and Oishi, Accurate sum and dot product, SIAM J. Sci.
// Comput. 26, 2005: error-free products and sums, rounded once), so that a box far from the origin
// (1e-3 wide around 1e7) does not lose its rows' constants to the rounding of the shift. Its
// error, at most u |result| + gamma_n^2 (|b| + |W| |centre|) (there, Proposition 5.5, n = d + 1
// terms), and that of the folds (|dW| |centre|), join the layer's bias_error.
void shift_to_centre(SplitLayer& layer, const Eigen::VectorXd& centre) {
  const int d = static_cast<int>(centre.size());
  const double g = rounding_gamma(d + 1), slack = 1 + 2 * rounding_gamma(d + 4);
  Eigen::VectorXd error(layer.num_rows());
  for (int i = 0; i < layer.num_rows(); ++i) {
    double sum = layer.bias[i], compensation = 0, magnitude = std::abs(layer.bias[i]);
    for (int k = 0; k < d; ++k) {
      const double product = layer.weight(i, k) * centre[k];
      const double product_error = std::fma(layer.weight(i, k), centre[k], -product);
      double t = 0, sum_error = 0;
      two_sum(sum, product, t, sum_error);
      sum = t;
      compensation += sum_error + product_error;
      magnitude += std::abs(product);
    }
    layer.bias[i] = sum + compensation;
    error[i] = slack * (0x1p-52 * std::abs(layer.bias[i]) + 2 * g * g * magnitude);
  }
  if (centre.isZero()) return;  // b + W 0 = b: nothing rounded
  if (layer.weight_error.size()) error += layer.weight_error * centre.cwiseAbs();
  if (layer.bias_error.size()) error += layer.bias_error;
  layer.bias_error = slack * error;
}

// Multiplies weight(i, k) by 2^exponent with its bound weight_error(i, k) (FlatNetwork::
// set_error_bounds): exact, unless the product falls below the normal range, where it rounds by up
// to 2^-1075.
void scale_entry(SplitLayer& layer, int i, int k, int exponent) {
  const double before = layer.weight(i, k);
  const double after = std::ldexp(before, exponent);
  layer.weight(i, k) = after;
  if (layer.weight_error.size()) layer.weight_error(i, k) = std::ldexp(layer.weight_error(i, k), exponent);
  if (before != 0 && std::abs(after) < 0x1p-1022) {
    if (!layer.weight_error.size()) layer.weight_error = Eigen::MatrixXd::Zero(layer.weight.rows(), layer.weight.cols());
    layer.weight_error(i, k) += 0x1p-1074;
  }
}

void scale_column(SplitLayer& layer, int k, int exponent) {
  for (int i = 0; i < layer.weight.rows(); ++i) scale_entry(layer, i, k, exponent);
}

// Row i and its bias.
void scale_row(SplitLayer& layer, int i, int exponent) {
  for (int k = 0; k < layer.weight.cols(); ++k) scale_entry(layer, i, k, exponent);
  const double before = layer.bias[i];
  layer.bias[i] = std::ldexp(before, exponent);
  if (layer.bias_error.size()) layer.bias_error[i] = std::ldexp(layer.bias_error[i], exponent);
  if (before != 0 && std::abs(layer.bias[i]) < 0x1p-1022) {
    if (!layer.bias_error.size()) layer.bias_error = Eigen::VectorXd::Zero(layer.bias.size());
    layer.bias_error[i] += 0x1p-1074;
  }
}

}  // namespace

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
  if (out.flat.layers.empty()) {  // an affine network: no split layer, nothing to certify
    out.flat.out_bias += out.flat.out_weight * out.centre;
    out.flat.out_weight = out.flat.out_weight * out.scale.asDiagonal();
  } else {
    shift_to_centre(out.flat.layers.front(), out.centre);
    for (int k = 0; k < domain.dim(); ++k) {
      int exponent = 0;
      std::frexp(out.scale[k], &exponent);
      scale_column(out.flat.layers.front(), k, exponent - 1);
    }
  }
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
      for (int r = layer.out_row[o]; r < layer.out_row[o] + layer.out_rows[o]; ++r) scale_row(layer, r, -exponent);
      if (l + 1 < out.flat.layers.size())
        scale_column(out.flat.layers[l + 1], o, exponent);
      else
        next.col(o) *= std::ldexp(1.0, exponent);
    }
    out.representable = out.representable && layer.weight.allFinite() && layer.bias.allFinite();
  }
  out.flat.set_error_bounds();
  for (const Halfspace& h : out.domain.extra)
    out.representable = out.representable && h.a.allFinite() && std::isfinite(h.b);
  out.representable = out.representable && out.domain.lo.allFinite() && out.domain.hi.allFinite();
  return out;
}

}  // namespace relutope::detail
