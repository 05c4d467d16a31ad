// The one place where graph ops are applied: the forward pass, the folding of affine ops into dense
// layers (lower.cpp) and constant folding in the ONNX loader all call apply_affine / apply_unit.
#include "relutope/graph.h"

#include <algorithm>
#include <limits>

#include "relutope/error.h"
#include "detail/affine_dd.h"

namespace relutope {

std::int64_t num_elements(const TensorShape& shape) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

std::string shape_text(const TensorShape& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

bool is_affine(OpKind kind) {
  return kind == OpKind::kSparse || kind == OpKind::kScale || kind == OpKind::kSum || kind == OpKind::kMatMul ||
         kind == OpKind::kConv;
}

bool is_unit(OpKind kind) { return kind == OpKind::kRelu || kind == OpKind::kClip || kind == OpKind::kMax; }

namespace detail {

void conv_columns(const ConvGeometry& g, int group, const double* in, double* out, Eigen::Index row_stride,
                  Eigen::Index col_stride) {
  const int cg = g.in_channels / g.groups;
  const Eigen::Index in_hw = static_cast<Eigen::Index>(g.in_h) * g.in_w;
  for (int ci = 0; ci < cg; ++ci) {
    const double* plane = in + (static_cast<Eigen::Index>(group) * cg + ci) * in_hw;
    for (int i = 0; i < g.kernel_h; ++i)
      for (int j = 0; j < g.kernel_w; ++j) {
        const Eigen::Index r = (static_cast<Eigen::Index>(ci) * g.kernel_h + i) * g.kernel_w + j;
        for (int oh = 0; oh < g.out_h; ++oh) {
          const int ih = conv_input_row(g, oh, i);
          const bool row_inside = ih >= 0 && ih < g.in_h;
          for (int ow = 0; ow < g.out_w; ++ow) {
            const int iw = conv_input_col(g, ow, j);
            out[r * row_stride + (static_cast<Eigen::Index>(oh) * g.out_w + ow) * col_stride] =
                row_inside && iw >= 0 && iw < g.in_w ? plane[static_cast<Eigen::Index>(ih) * g.in_w + iw] : 0.0;
          }
        }
      }
  }
}

}  // namespace detail

namespace {

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The inputs of a node stacked into one family (only Concat-like nodes have several).
const Eigen::MatrixXd& stacked(const std::vector<const Eigen::MatrixXd*>& inputs, Eigen::MatrixXd& storage) {
  if (inputs.size() == 1) return *inputs[0];
  Eigen::Index rows = 0;
  for (const auto* in : inputs) rows += in->rows();
  storage.resize(rows, inputs[0]->cols());
  Eigen::Index at = 0;
  for (const auto* in : inputs) {
    storage.middleRows(at, in->rows()) = *in;
    at += in->rows();
  }
  return storage;
}

// y = S x column by column; S's rows are short (an index map has one entry per row, a pooling
// window a few), so a loop over entries beats any sparse-matrix library here.
Eigen::MatrixXd apply_sparse(const SparseRows& s, const Eigen::MatrixXd& x) {
  const std::int64_t rows = s.num_rows();
  Eigen::MatrixXd y(rows, x.cols());
  for (Eigen::Index c = 0; c < x.cols(); ++c) {
    const double* in = x.col(c).data();
    double* out = y.col(c).data();
    if (s.weight.empty()) {
      for (std::int64_t r = 0; r < rows; ++r) out[r] = s.start[r + 1] > s.start[r] ? in[s.index[s.start[r]]] : 0.0;
    } else {
      for (std::int64_t r = 0; r < rows; ++r) {
        double sum = 0;
        for (std::int64_t e = s.start[r]; e < s.start[r + 1]; ++e) sum += s.weight[e] * in[s.index[e]];
        out[r] = sum;
      }
    }
  }
  return y;
}

// Convolution of each column by im2col and one GEMM per group (Eigen's blocked product).
Eigen::MatrixXd apply_conv(const GraphNode& node, const Eigen::MatrixXd& x) {
  const ConvGeometry& g = node.conv;
  const int mg = g.out_channels / g.groups;
  const Eigen::Index out_hw = static_cast<Eigen::Index>(g.out_h) * g.out_w;
  const Eigen::Index patch = static_cast<Eigen::Index>(g.in_channels / g.groups) * g.kernel_h * g.kernel_w;
  Eigen::MatrixXd y(static_cast<Eigen::Index>(g.out_channels) * out_hw, x.cols());
  Eigen::MatrixXd columns(patch, out_hw);
  for (Eigen::Index c = 0; c < x.cols(); ++c) {
    Eigen::Map<RowMajor> out(y.col(c).data(), g.out_channels, out_hw);
    for (int group = 0; group < g.groups; ++group) {
      detail::conv_columns(g, group, x.col(c).data(), columns.data(), 1, patch);
      out.middleRows(static_cast<Eigen::Index>(group) * mg, mg).noalias() =
          node.weight.middleRows(static_cast<Eigen::Index>(group) * mg, mg) * columns;
    }
  }
  if (node.bias.size() > 0) {
    Eigen::Map<RowMajor> point(y.col(0).data(), g.out_channels, out_hw);
    point.colwise() += node.bias;
  }
  return y;
}

Eigen::MatrixXd apply_matmul(const GraphNode& node, const Eigen::MatrixXd& x) {
  const Eigen::Index k = node.weight.rows(), n = node.weight.cols();
  const Eigen::Index rows = x.rows() / k;
  Eigen::MatrixXd y(rows * n, x.cols());
  if (rows == 1) {
    y.noalias() = node.weight.transpose() * x;  // all columns in one product
  } else {
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
      Eigen::Map<const RowMajor> in(x.col(c).data(), rows, k);
      Eigen::Map<RowMajor> out(y.col(c).data(), rows, n);
      out.noalias() = in * node.weight;
    }
  }
  if (node.bias.size() > 0)
    for (Eigen::Index r = 0; r < rows; ++r) y.col(0).segment(r * n, n) += node.bias;
  return y;
}

}  // namespace

Eigen::MatrixXd constant_family(const GraphNode& node, Eigen::Index k) {
  Eigen::MatrixXd f = Eigen::MatrixXd::Zero(node.values.size(), k);
  f.col(0) = node.values;
  return f;
}

Eigen::MatrixXd apply_affine(const GraphNode& node, const std::vector<const Eigen::MatrixXd*>& inputs) {
  Eigen::MatrixXd y;
  switch (node.kind) {
    case OpKind::kSparse: {
      Eigen::MatrixXd storage;
      y = apply_sparse(node.rows, stacked(inputs, storage));
      if (node.shift.size() > 0) y.col(0) += node.shift;
      return y;
    }
    case OpKind::kScale:
      y = *inputs[0];
      if (node.scale.size() > 0) y.array().colwise() *= node.scale.array();
      if (node.shift.size() > 0) y.col(0) += node.shift;
      return y;
    case OpKind::kSum:
      y = node.coefs[0] * *inputs[0];
      for (std::size_t i = 1; i < inputs.size(); ++i) y += node.coefs[i] * *inputs[i];
      return y;
    case OpKind::kMatMul: return apply_matmul(node, *inputs[0]);
    case OpKind::kConv: return apply_conv(node, *inputs[0]);
    default: break;
  }
  throw Error("apply_affine: node \"" + node.name + "\" (" + node.op_type + ") is not affine");
}

Eigen::VectorXd apply_unit(const GraphNode& node, const std::vector<const Eigen::VectorXd*>& inputs) {
  switch (node.kind) {
    case OpKind::kRelu: {
      Eigen::VectorXd y = *inputs[0];
      for (Eigen::Index i = 0; i < y.size(); ++i)
        if (y[i] < 0) y[i] *= node.slope.size() == 1 ? node.slope[0] : node.slope[i];
      return y;
    }
    case OpKind::kClip: return inputs[0]->cwiseMax(node.lo).cwiseMin(node.hi);
    case OpKind::kMax: {
      Eigen::VectorXd joined;
      const Eigen::VectorXd* x = inputs[0];
      if (inputs.size() > 1) {
        Eigen::Index rows = 0;
        for (const auto* in : inputs) rows += in->size();
        joined.resize(rows);
        Eigen::Index at = 0;
        for (const auto* in : inputs) {
          joined.segment(at, in->size()) = *in;
          at += in->size();
        }
        x = &joined;
      }
      const SparseRows& w = node.rows;
      Eigen::VectorXd y(w.num_rows());
      for (std::int64_t u = 0; u < w.num_rows(); ++u) {
        double best = -std::numeric_limits<double>::infinity();
        for (std::int64_t e = w.start[u]; e < w.start[u + 1]; ++e) best = std::max(best, (*x)[w.index[e]]);
        y[u] = best;
      }
      return y;
    }
    default: break;
  }
  throw Error("apply_unit: node \"" + node.name + "\" (" + node.op_type + ") is not a unit");
}

Eigen::VectorXd Graph::evaluate(const Eigen::VectorXd& x) const {
  if (x.size() != input_dim())
    throw InputError(source + ": the input has " + std::to_string(x.size()) + " values, the graph expects " +
                     std::to_string(input_dim()));
  // Values are dropped after their last use, so that a deep net holds only the live ones.
  std::vector<int> last_use(nodes.size(), -1);
  for (std::size_t i = 0; i < nodes.size(); ++i)
    for (int in : nodes[i].inputs) last_use[in] = static_cast<int>(i);
  last_use[output] = static_cast<int>(nodes.size());
  std::vector<Eigen::MatrixXd> value(nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const GraphNode& node = nodes[i];
    if (node.kind == OpKind::kInput) {
      value[i] = x;
    } else if (node.kind == OpKind::kConstant) {
      value[i] = node.values;
    } else if (is_affine(node.kind)) {
      std::vector<const Eigen::MatrixXd*> in;
      for (int j : node.inputs) in.push_back(&value[j]);
      value[i] = apply_affine(node, in);
    } else {
      std::vector<Eigen::VectorXd> columns;
      columns.reserve(node.inputs.size());
      for (int j : node.inputs) columns.push_back(value[j].col(0));
      std::vector<const Eigen::VectorXd*> in;
      for (const auto& c : columns) in.push_back(&c);
      value[i] = apply_unit(node, in);
    }
    for (int j : node.inputs)
      if (last_use[j] == static_cast<int>(i)) value[j].resize(0, 0);
  }
  return value[output].col(0);
}

}  // namespace relutope
