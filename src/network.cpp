#include "relutope/network.h"

#include <cmath>
#include <sstream>

#include "relutope/error.h"

namespace relutope {

const char* activation_name(Activation activation) {
  switch (activation) {
    case Activation::kNone: return "none";
    case Activation::kRelu: return "relu";
    case Activation::kLeakyRelu: return "leaky_relu";
    case Activation::kPRelu: return "prelu";
    case Activation::kMax: return "max";
  }
  return "?";
}

int Layer::num_out() const { return activation == Activation::kMax ? num_units() : num_rows(); }

double Layer::slope_below(int i) const {
  if (negative_slope.size() == 0) return activation == Activation::kNone ? 1.0 : 0.0;
  return negative_slope.size() == 1 ? negative_slope[0] : negative_slope[i];
}

bool Layer::is_linear_row(int i) const {
  return activation != Activation::kNone && activation != Activation::kMax && slope_below(i) == 1.0;
}

int Layer::num_pattern_entries() const {
  int n = 0;
  switch (activation) {
    case Activation::kNone: return 0;
    case Activation::kMax:
      for (int u = 0; u < num_units(); ++u) n += rows_of_unit(u) >= 2;
      return n;
    default:
      for (int i = 0; i < num_rows(); ++i) n += !is_linear_row(i);
      return n;
  }
}

int Layer::num_unit_states(int u) const {
  if (activation == Activation::kNone) return 1;
  if (activation == Activation::kMax) return rows_of_unit(u);
  int first = 0;
  for (int v = 0; v < u; ++v) first += rows_of_unit(v);
  if (rows_of_unit(u) == 1) return is_linear_row(first) ? 1 : 2;
  return 3;  // a clip unit: validate() refuses linear rows in it
}

std::vector<int> Network::hidden_widths() const {
  std::vector<int> widths;
  for (const Layer& layer : layers)
    if (layer.splits()) widths.push_back(layer.num_pattern_entries());
  return widths;
}

int Network::num_neurons() const {
  int n = 0;
  for (int w : hidden_widths()) n += w;
  return n;
}

namespace {

// Reports the first non-finite entry of a matrix or vector, with its index, so a user can find it.
template <class M>
void check_finite(const M& m, const std::string& where, std::ostringstream& problems) {
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j)
      if (!std::isfinite(m(i, j))) {
        problems << "\n  " << where << "[" << i;
        if (M::ColsAtCompileTime != 1) problems << "][" << j;
        problems << "]: expected a finite number, got " << m(i, j);
        return;
      }
}

}  // namespace

void Network::validate() const {
  std::ostringstream problems;
  const std::string src = source.empty() ? "network" : source;
  if (layers.empty()) problems << "\n  no layers";
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const Layer& layer = layers[l];
    const std::string at = "layers[" + std::to_string(l) + "]";
    if (layer.num_rows() == 0 || layer.num_in() == 0)
      problems << "\n  " << at << ".weight: expected a non-empty matrix, got " << layer.num_rows() << "x"
               << layer.num_in();
    if (l > 0 && layer.num_in() != layers[l - 1].num_out())
      problems << "\n  " << at << ".weight: expected " << layer.num_rows() << "x" << layers[l - 1].num_out()
               << " (layers[" << l - 1 << "] has " << layers[l - 1].num_out() << " outputs), got "
               << layer.num_rows() << "x" << layer.num_in();
    if (layer.bias.size() != layer.num_rows())
      problems << "\n  " << at << ".bias: expected " << layer.num_rows() << " entries, got " << layer.bias.size();
    const auto slopes = layer.negative_slope.size();
    const bool slopes_ok = slopes == 0 || slopes == 1 || slopes == layer.num_rows();
    switch (layer.activation) {
      case Activation::kNone:
      case Activation::kRelu:
      case Activation::kMax:
        if (slopes != 0) problems << "\n  " << at << ".negative_slope: not used by " << activation_name(layer.activation);
        break;
      case Activation::kLeakyRelu:
        if (slopes != 1) problems << "\n  " << at << ".negative_slope: expected 1 value, got " << slopes;
        break;
      case Activation::kPRelu:
        if (slopes != 1 && slopes != layer.num_rows())
          problems << "\n  " << at << ".negative_slope: expected 1 or " << layer.num_rows() << " values, got " << slopes;
        break;
    }
    if (!layer.unit_rows.empty()) {
      long long total = 0;
      bool sizes_ok = true;
      for (int rows : layer.unit_rows) {
        total += rows;
        const int most = layer.activation == Activation::kMax ? kMaxUnitStates : 2;
        sizes_ok = sizes_ok && rows >= 1 && rows <= most;
      }
      if (layer.activation == Activation::kNone)
        problems << "\n  " << at << ".unit_rows: an affine layer has no units";
      else if (!sizes_ok)
        problems << "\n  " << at << ".unit_rows: expected sizes from 1 to "
                 << (layer.activation == Activation::kMax ? kMaxUnitStates : 2) << " rows per unit";
      else if (total != layer.num_rows())
        problems << "\n  " << at << ".unit_rows: the units cover " << total << " rows, the layer has "
                 << layer.num_rows();
      else if (layer.activation != Activation::kMax && slopes_ok)
        for (int u = 0, row = 0; u < layer.num_units(); row += layer.rows_of_unit(u++))
          if (layer.rows_of_unit(u) == 2 && (layer.is_linear_row(row) || layer.is_linear_row(row + 1))) {
            problems << "\n  " << at << ".unit_rows[" << u << "]: a clip unit's rows must not be linear (slope 1)";
            break;
          }
    }
    check_finite(layer.weight, at + ".weight", problems);
    check_finite(layer.bias, at + ".bias", problems);
    check_finite(layer.negative_slope, at + ".negative_slope", problems);
  }
  const std::string found = problems.str();
  if (!found.empty()) throw InputError(src + ": invalid network:" + found);
}

Eigen::VectorXd apply_activation(const Layer& layer, const Eigen::VectorXd& z) {
  if (layer.activation == Activation::kNone) return z;
  if (layer.activation == Activation::kMax) {
    Eigen::VectorXd y(layer.num_units());
    Eigen::Index row = 0;
    for (int u = 0; u < layer.num_units(); ++u) {
      const int rows = layer.rows_of_unit(u);
      y[u] = z.segment(row, rows).maxCoeff();
      row += rows;
    }
    return y;
  }
  Eigen::VectorXd y = z;
  for (Eigen::Index i = 0; i < y.size(); ++i)
    if (y[i] < 0) y[i] *= layer.slope_below(static_cast<int>(i));
  return y;
}

Eigen::VectorXd Network::evaluate(const Eigen::VectorXd& x, ActivationPattern* pattern) const {
  if (pattern) pattern->clear();
  Eigen::VectorXd h = x;
  for (const Layer& layer : layers) {
    const Eigen::VectorXd z = layer.weight * h + layer.bias;
    if (pattern && layer.activation == Activation::kMax) {
      for (int u = 0, row = 0; u < layer.num_units(); row += layer.rows_of_unit(u++)) {
        if (layer.rows_of_unit(u) < 2) continue;
        int largest = 0;
        for (int k = 1; k < layer.rows_of_unit(u); ++k)
          if (z[row + k] > z[row + largest]) largest = k;  // the first of equal maxima
        pattern->push_back(static_cast<std::uint8_t>(largest));
      }
    } else if (pattern && layer.activation != Activation::kNone) {
      for (int i = 0; i < layer.num_rows(); ++i)
        if (!layer.is_linear_row(i)) pattern->push_back(z[i] >= 0 ? 1 : 0);
    }
    h = apply_activation(layer, z);
  }
  return h;
}

}  // namespace relutope
