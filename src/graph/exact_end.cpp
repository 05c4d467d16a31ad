// Exact values and slopes at an end of a segment (see detail/exact_end.h).
//
// The affine nodes are not re-implemented in rationals: each node's weights are read off apply_affine
// (the one place that applies an affine op) on identity columns, which is exact because every entry
// of such a column is one weight times 1 plus zeros. The rational products and sums are then exact.
#include "detail/exact_end.h"

#include <algorithm>

namespace relutope::detail {

namespace {

// -1, 0 or 1.
int sign(const mpq_class& q) { return sgn(q); }

// The state order just inside the segment: value first, then the slope towards the interior.
int compare_inside(const mpq_class& v1, const mpq_class& s1, const mpq_class& v2, const mpq_class& s2, int side) {
  const int c = cmp(v1, v2);
  if (c != 0) return c;
  return side * cmp(s1, s2);
}

void apply_affine_exact(const Graph& graph, int i, ExactEnd& end) {
  const GraphNode& node = graph.nodes[i];
  const Eigen::Index out = node.size();
  std::vector<Eigen::Index> offset{0};
  for (int j : node.inputs) offset.push_back(offset.back() + graph.nodes[j].size());
  const Eigen::Index total = offset.back();
  std::vector<mpq_class>& value = end.value[i];
  std::vector<mpq_class>& slope = end.slope[i];
  value.assign(out, 0);
  slope.assign(out, 0);
  // Columns in blocks of at most 2^22 entries of output; column 0 of the first block reads the shifts.
  const Eigen::Index block = std::max<Eigen::Index>(1, (Eigen::Index{1} << 22) / std::max<Eigen::Index>(out, 1));
  for (Eigen::Index first = 0; first < total || first == 0; first += block) {
    const Eigen::Index cols = std::min(block, total - first);
    std::vector<Eigen::MatrixXd> families;
    for (std::size_t k = 0; k < node.inputs.size(); ++k) {
      Eigen::MatrixXd f = Eigen::MatrixXd::Zero(offset[k + 1] - offset[k], 1 + cols);
      for (Eigen::Index c = 0; c < cols; ++c) {
        const Eigen::Index at = first + c;
        if (at >= offset[k] && at < offset[k + 1]) f(at - offset[k], 1 + c) = 1;
      }
      families.push_back(std::move(f));
    }
    std::vector<const Eigen::MatrixXd*> in;
    for (const auto& f : families) in.push_back(&f);
    const Eigen::MatrixXd y = apply_affine(node, in);
    if (first == 0)
      for (Eigen::Index r = 0; r < out; ++r)
        if (y(r, 0) != 0) value[r] = y(r, 0);
    for (Eigen::Index c = 0; c < cols; ++c) {
      const Eigen::Index at = first + c;
      const std::size_t k = std::upper_bound(offset.begin(), offset.end(), at) - offset.begin() - 1;
      const mpq_class& v = end.value[node.inputs[k]][at - offset[k]];
      const mpq_class& s = end.slope[node.inputs[k]][at - offset[k]];
      const bool v_zero = sgn(v) == 0, s_zero = sgn(s) == 0;
      if (v_zero && s_zero) continue;
      for (Eigen::Index r = 0; r < out; ++r) {
        const double w = y(r, 1 + c);
        if (w == 0) continue;
        const mpq_class wq(w);
        if (!v_zero) value[r] += wq * v;
        if (!s_zero) slope[r] += wq * s;
      }
    }
    if (total == 0) break;
  }
}

void apply_unit_exact(const Graph& graph, int i, int side, ExactEnd& end) {
  const GraphNode& node = graph.nodes[i];
  std::vector<mpq_class>& value = end.value[i];
  std::vector<mpq_class>& slope = end.slope[i];
  if (node.kind == OpKind::kMax) {
    // The windows index the inputs one after the other.
    std::vector<std::pair<int, Eigen::Index>> where;
    for (int j : node.inputs)
      for (Eigen::Index e = 0; e < graph.nodes[j].size(); ++e) where.emplace_back(j, e);
    const SparseRows& windows = node.rows;
    value.resize(windows.num_rows());
    slope.resize(windows.num_rows());
    for (std::int64_t w = 0; w < windows.num_rows(); ++w) {
      std::int64_t best = -1;
      for (std::int64_t k = windows.start[w]; k < windows.start[w + 1]; ++k) {
        const auto [j, e] = where[windows.index[k]];
        if (best >= 0) {
          const auto [bj, be] = where[windows.index[best]];
          const int c = compare_inside(end.value[j][e], end.slope[j][e], end.value[bj][be], end.slope[bj][be], side);
          if (c < 0 || (c == 0 && windows.index[k] > windows.index[best])) continue;
        }
        best = k;
      }
      const auto [j, e] = where[windows.index[best]];
      value[w] = end.value[j][e];
      slope[w] = end.slope[j][e];
    }
    return;
  }
  const std::vector<mpq_class>& x = end.value[node.inputs[0]];
  const std::vector<mpq_class>& dx = end.slope[node.inputs[0]];
  value = x;
  slope = dx;
  for (std::size_t e = 0; e < x.size(); ++e) {
    if (node.kind == OpKind::kRelu) {
      if (sign(x[e]) > 0 || (sign(x[e]) == 0 && side * sign(dx[e]) >= 0)) continue;
      const double a = node.slope.size() == 1 ? node.slope[0] : node.slope.size() ? node.slope[e] : 0.0;
      value[e] *= a;
      slope[e] *= a;
    } else {  // kClip
      for (double c : {node.lo, node.hi}) {
        if (!std::isfinite(c)) continue;
        const int above = cmp(x[e], mpq_class(c)) != 0 ? cmp(x[e], mpq_class(c)) : side * sign(dx[e]);
        if ((c == node.lo && above < 0) || (c == node.hi && above > 0)) {
          value[e] = c;
          slope[e] = 0;
        }
      }
    }
  }
}

}  // namespace

double exact_end_work(const Graph& graph) {
  double work = 0;
  for (const GraphNode& node : graph.nodes) {
    if (!is_affine(node.kind)) continue;
    double in = 0;
    for (int j : node.inputs) in += static_cast<double>(graph.nodes[j].size());
    work += in * static_cast<double>(node.size());
  }
  return work;
}

ExactEnd exact_end(const Graph& graph, const Eigen::VectorXd& origin, const Eigen::VectorXd& direction,
                   const Eigen::VectorXd& direction_lo, double t, int side) {
  const std::size_t n = graph.nodes.size();
  ExactEnd end;
  end.value.resize(n);
  end.slope.resize(n);
  const mpq_class tq(t);
  for (std::size_t i = 0; i < n; ++i) {
    const GraphNode& node = graph.nodes[i];
    if (node.kind == OpKind::kInput) {
      end.value[i].resize(origin.size());
      end.slope[i].resize(origin.size());
      for (Eigen::Index k = 0; k < origin.size(); ++k) {
        end.slope[i][k] = mpq_class(direction[k]) + mpq_class(direction_lo[k]);
        end.value[i][k] = mpq_class(origin[k]) + tq * end.slope[i][k];
      }
    } else if (node.kind == OpKind::kConstant) {
      end.value[i].assign(node.values.data(), node.values.data() + node.values.size());
      end.slope[i].assign(node.values.size(), 0);
    } else if (is_affine(node.kind)) {
      apply_affine_exact(graph, static_cast<int>(i), end);
    } else {
      apply_unit_exact(graph, static_cast<int>(i), side, end);
    }
  }
  return end;
}

}  // namespace relutope::detail
