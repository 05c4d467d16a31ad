// The values of a graph on one cell of a slice, with certified error bounds (see detail/graph_track.h).
//
// Why double-double: in plain double (g_n = gamma_n ~ n u) the bound of ResNet-18 grew about tenfold
// per ReLU relative to the values (|W| |x| against |W x|) and passed them by layer3, so nothing could
// be certified; starting some 10^12 smaller, it stays below them through all 17 ReLUs except where a
// value comes within ~1e-5 of zero at the last ones. There (rarely) the walks recompute every value
// before the unit in triple-double, whose bounds are a posteriori and some 1e11 smaller still (refine),
// and decide the unit again.
#include "detail/graph_track.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "detail/exact_end.h"
#include "relutope/error.h"

namespace relutope::detail {

double gamma_for(std::int64_t fan_in) {
  const double nu = static_cast<double>(fan_in + 2) * kRoundoff;
  return nu / (1 - nu);
}

namespace {

// The node with |weights| and no shift: applied to non-negative families it bounds sums of
// magnitudes, which is what the error bound needs.
GraphNode magnitude_node(const GraphNode& node) {
  GraphNode m = node;
  m.shift.resize(0);
  m.bias.resize(0);
  m.scale = node.scale.cwiseAbs();
  m.weight = node.weight.cwiseAbs();
  for (double& w : m.rows.weight) w = std::abs(w);
  for (double& c : m.coefs) c = std::abs(c);
  m.values = node.values.cwiseAbs();
  return m;
}

std::int64_t fan_in(const GraphNode& node) {
  switch (node.kind) {
    case OpKind::kSparse: {
      std::int64_t most = 1;
      for (std::int64_t r = 0; r < node.rows.num_rows(); ++r)
        most = std::max(most, node.rows.start[r + 1] - node.rows.start[r]);
      return most;
    }
    case OpKind::kScale: return 1;
    case OpKind::kSum: return static_cast<std::int64_t>(node.inputs.size());
    case OpKind::kMatMul: return node.weight.rows();
    case OpKind::kConv: return node.weight.cols();
    default: return 1;
  }
}

}  // namespace

WalkPrepared::WalkPrepared(const Graph& graph) {
  const std::size_t n = graph.nodes.size();
  magnitude.reserve(n);
  gamma.resize(n, 0.0);
  inflate.resize(n, 1.0);
  for (std::size_t i = 0; i < n; ++i) {
    const GraphNode& node = graph.nodes[i];
    magnitude.push_back(is_affine(node.kind) ? magnitude_node(node) : GraphNode{});
    shift_magnitude.emplace_back();
    if (is_affine(node.kind)) {
      gamma[i] = dd_dot_error(fan_in(node));
      // The bound is itself computed in floating point (sums of non-negative terms): enlarge it by
      // more than their relative rounding.
      inflate[i] = 1 + 2 * gamma_for(fan_in(node) + 4);
      // |shift| per value: |op| with absolute shifts and biases applied to zeros.
      GraphNode with_shift = magnitude[i];
      with_shift.shift = node.shift.cwiseAbs();
      with_shift.bias = node.bias.cwiseAbs();
      std::vector<Eigen::MatrixXd> zeros;
      std::vector<const Eigen::MatrixXd*> in;
      for (int j : node.inputs) zeros.push_back(Eigen::MatrixXd::Zero(graph.nodes[j].size(), 1));
      for (const auto& z : zeros) in.push_back(&z);
      if (node.kind == OpKind::kConv) {
        Eigen::MatrixXd y;
        conv_fma(with_shift, zeros[0], y);
        shift_magnitude[i] = y.col(0);
      } else {
        shift_magnitude[i] = apply_affine(with_shift, in).col(0);
      }
    }
    if (is_unit(node.kind)) units.push_back(static_cast<int>(i));
  }
  exact_work = exact_end_work(graph);
}

GraphTrack::GraphTrack(const Graph& graph, const WalkPrepared& prepared, int cols, bool certify)
    : g_(graph), prepared_(prepared), cols_(cols), certify_(certify) {
  if (cols < 1 || cols > kMaxCols) throw Error("GraphTrack: " + std::to_string(cols) + " columns (at most 3)");
  const std::size_t n = g_.nodes.size();
  value_.resize(n);
  error_.resize(n);
  stacked_value_.resize(n);
  stacked_error_.resize(n);
  state_.resize(n);
  changed_at_.resize(n);
  computed_at_.assign(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const GraphNode& node = g_.nodes[i];
    if (node.kind == OpKind::kConstant) {
      value_[i].hi = constant_family(node, cols);
      value_[i].lo = Eigen::MatrixXd::Zero(node.values.size(), cols);
      error_[i] = Eigen::MatrixXd::Zero(node.values.size(), cols);
      changed_all(static_cast<int>(i));
    }
  }
}

void GraphTrack::set_input(const Eigen::MatrixXd& hi, const Eigen::MatrixXd& lo) {
  value_[g_.input].hi = hi;
  value_[g_.input].lo = lo;
  error_[g_.input] = Eigen::MatrixXd::Zero(hi.rows(), cols_);
  changed_all(g_.input);
}

void GraphTrack::changed_all(int i) {
  ++clock_;
  changed_at_[i].assign(static_cast<std::size_t>(value_[i].hi.rows()), clock_);
}

std::vector<std::int64_t> GraphTrack::changed_since(int j, std::uint64_t since) const {
  std::vector<std::int64_t> rows;
  const std::vector<std::uint64_t>& at = changed_at_[j];
  for (std::size_t r = 0; r < at.size(); ++r)
    if (at[r] > since) rows.push_back(static_cast<std::int64_t>(r));
  return rows;
}

void GraphTrack::uncertain_value(int node, Eigen::Index element) const {
  throw UncertifiedError("cannot certify the pieces: node \"" + g_.nodes[node].name + "\" (" + g_.nodes[node].op_type +
                         "), value " + std::to_string(element) +
                         ", comes within 2^-900 of zero, where the error bounds no longer hold (underflow)");
}

// Why only what changed: a cut changes the states of a few values of one unit, and each piece below it
// used to recompute every affine node after it in full (issue 9's profile of ResNet-18: some 85-95% of
// the time in the double-double convolutions and their bounds). A changed value reaches only the output
// positions of a convolution that read it (3x3 of them per 3x3 kernel), a unit's output changes only
// where its input or its state did (apply_unit compares), and every output is one dot product computed
// the same way however many are computed together, so recomputing just those rows gives the same bits.
// Other affine nodes (elementwise sums, pools, reshapes: cheap) are recomputed whole when anything they
// read changed, and then count as changed everywhere.
void GraphTrack::compute_affine(int first, int last) {
  for (int i = first; i < last; ++i) {
    const GraphNode& node = g_.nodes[i];
    if (!is_affine(node.kind)) continue;
    const std::uint64_t since = computed_at_[i];
    const bool conv = node.kind == OpKind::kConv;
    const Eigen::Index out_hw = static_cast<Eigen::Index>(node.conv.out_h) * node.conv.out_w;
    // Whether anything it reads changed, and for a convolution the output positions that read it.
    std::vector<std::int64_t> positions;
    bool any = since == 0;
    if (!any && conv) {
      positions = conv_positions_reading(node.conv, changed_since(node.inputs[0], since));
      any = !positions.empty();
    }
    for (std::size_t k = 0; k < node.inputs.size() && !any && !conv; ++k)
      for (std::uint64_t at : changed_at_[node.inputs[k]]) any = any || at > since;
    const bool part = any && since != 0 && conv && static_cast<Eigen::Index>(positions.size()) * 2 <= out_hw;
    if (!any) continue;
    computed_at_[i] = 0;  // until it is done (an exception leaves it to be recomputed whole)
    const std::uint64_t now = clock_;
    if (part)
      compute_conv_at(i, positions);
    else
      compute_whole(i);
    computed_at_[i] = now;
  }
}

void GraphTrack::compute_whole(int i) {
  const GraphNode& node = g_.nodes[i];
  std::vector<const DdFamily*> in;
  for (int j : node.inputs) in.push_back(&value_[j]);
  apply_affine_dd(node, in, value_[i]);
  changed_all(i);
  if (!certify_) {
    error_[i].setZero(value_[i].hi.rows(), cols_);
    return;
  }
  // Error bound: |op|(E_x + g |x|) + g |shift| (apply_affine_dd's dot products are exact but for
  // their low-order sums; see affine_dd.cpp).
  std::vector<Eigen::MatrixXd> bound(node.inputs.size());
  std::vector<const Eigen::MatrixXd*> bound_in;
  for (std::size_t k = 0; k < node.inputs.size(); ++k) {
    const int j = node.inputs[k];
    bound[k] = error_[j] + prepared_.gamma[i] * value_[j].hi.cwiseAbs();
    bound_in.push_back(&bound[k]);
  }
  if (node.kind == OpKind::kConv)
    conv_fma(prepared_.magnitude[i], bound[0], error_[i]);
  else
    error_[i] = apply_affine(prepared_.magnitude[i], bound_in);
  error_[i].col(0) += prepared_.gamma[i] * prepared_.shift_magnitude[i];
  error_[i] *= prepared_.inflate[i];
  // The bounds assume no underflow (as Higham's do): refuse values near it rather than miss it.
  for (Eigen::Index r = 0; r < error_[i].rows(); ++r) check_underflow(i, r);
}

// compute_whole at the output positions `at` of convolution i only: the same operations per row.
void GraphTrack::compute_conv_at(int i, const std::vector<std::int64_t>& at) {
  const GraphNode& node = g_.nodes[i];
  const int j = node.inputs[0];
  conv_dd_at(node, value_[j], at, value_[i]);
  ++clock_;
  const Eigen::Index out_hw = static_cast<Eigen::Index>(node.conv.out_h) * node.conv.out_w;
  std::vector<std::uint64_t>& changed = changed_at_[i];
  for (Eigen::Index co = 0; co < node.conv.out_channels; ++co)
    for (const std::int64_t q : at) changed[co * out_hw + q] = clock_;
  if (!certify_) return;  // the bounds stay zero
  const Eigen::MatrixXd bound = error_[j] + prepared_.gamma[i] * value_[j].hi.cwiseAbs();
  Eigen::MatrixXd& e = error_[i];
  conv_fma_at(prepared_.magnitude[i], bound, at, e);
  const double gamma = prepared_.gamma[i], inflate = prepared_.inflate[i];
  const Eigen::VectorXd& shift = prepared_.shift_magnitude[i];
  for (Eigen::Index co = 0; co < node.conv.out_channels; ++co)
    for (const std::int64_t q : at) {
      const Eigen::Index r = co * out_hw + q;
      e(r, 0) += gamma * shift[r];
      e.row(r) *= inflate;
      check_underflow(i, r);
    }
}

void GraphTrack::check_underflow(int i, Eigen::Index r) const {
  for (Eigen::Index c = 0; c < cols_; ++c) {
    const double y = std::abs(value_[i].hi(r, c));
    if (y != 0 && y < kSmallest) uncertain_value(i, r);
  }
}

const DdFamily& GraphTrack::max_input(int u) const {
  const GraphNode& node = g_.nodes[u];
  return node.inputs.size() == 1 ? value_[node.inputs[0]] : stacked_value_[u];
}

const Eigen::MatrixXd& GraphTrack::max_error(int u) const {
  const GraphNode& node = g_.nodes[u];
  return node.inputs.size() == 1 ? error_[node.inputs[0]] : stacked_error_[u];
}

void GraphTrack::stack_inputs(int u) {
  const GraphNode& node = g_.nodes[u];
  if (node.inputs.size() < 2) return;
  DdFamily& x = stacked_value_[u];
  Eigen::MatrixXd& e = stacked_error_[u];
  Eigen::Index rows = 0;
  for (int j : node.inputs) rows += value_[j].hi.rows();
  x.hi.resize(rows, cols_);
  x.lo.resize(rows, cols_);
  e.resize(rows, cols_);
  Eigen::Index at = 0;
  for (int j : node.inputs) {
    const Eigen::Index n = value_[j].hi.rows();
    x.hi.middleRows(at, n) = value_[j].hi;
    x.lo.middleRows(at, n) = value_[j].lo;
    e.middleRows(at, n) = error_[j];
    at += n;
  }
}

std::pair<int, std::int64_t> GraphTrack::max_source(int u, std::int64_t index) const {
  for (int j : g_.nodes[u].inputs) {
    if (index < g_.nodes[j].size()) return {j, index};
    index -= g_.nodes[j].size();
  }
  return {-1, -1};  // not reached: windows index the stacked inputs
}

namespace {

// Column `index` of the inputs of a node stacked one after the other, as (input node, element).
std::pair<int, std::int64_t> stacked_source(const Graph& g, const GraphNode& node, std::int64_t index) {
  for (int j : node.inputs) {
    if (index < g.nodes[j].size()) return {j, index};
    index -= g.nodes[j].size();
  }
  return {-1, -1};
}

}  // namespace

Term GraphTrack::term(int node, std::int64_t element) const {
  for (;;) {
    const GraphNode& n = g_.nodes[node];
    const std::vector<std::int64_t>& state = state_[node];
    const bool decided = element < static_cast<std::int64_t>(state.size());
    if (n.kind == OpKind::kConstant) return Term{-1, 0, n.values[element]};
    if ((n.kind == OpKind::kRelu || n.kind == OpKind::kClip) && decided) {
      const std::int64_t s = state[element];
      if (s == kPass || (s == kSlope && relu_slope(n, element) == 1)) {
        node = n.inputs[0];
        continue;
      }
      if (s == kSlope && relu_slope(n, element) == 0) return Term{-1, 0, 0.0};
      if (s == kAtLow) return Term{-1, 0, n.lo};
      if (s == kAtHigh) return Term{-1, 0, n.hi};
    } else if (n.kind == OpKind::kMax && decided) {
      std::tie(node, element) = max_source(node, state[element]);
      continue;
    } else if (n.kind == OpKind::kSparse) {
      const std::int64_t k = n.rows.start[element];
      if (n.rows.start[element + 1] == k + 1 && !n.rows.weight.empty() && n.rows.weight[k] == 1 &&
          (n.shift.size() == 0 || n.shift[element] == 0)) {
        std::tie(node, element) = stacked_source(g_, n, n.rows.index[k]);
        continue;
      }
    } else if (n.kind == OpKind::kScale) {
      if ((n.scale.size() == 0 || n.scale[element] == 1) && (n.shift.size() == 0 || n.shift[element] == 0)) {
        node = n.inputs[0];
        continue;
      }
    }
    return Term{node, element, 0};
  }
}

bool GraphTrack::same_bits(const Term& a, const Term& b, bool& exact) const {
  exact = true;
  for (Eigen::Index c = 0; c < cols_; ++c) {
    double v[2][3];  // hi, lo, error bound
    const Term* t[2] = {&a, &b};
    for (int k = 0; k < 2; ++k) {
      if (t[k]->node < 0) {
        v[k][0] = c == 0 ? t[k]->level : 0.0;
        v[k][1] = v[k][2] = 0;
      } else {
        v[k][0] = value_[t[k]->node].hi(t[k]->element, c);
        v[k][1] = value_[t[k]->node].lo(t[k]->element, c);
        v[k][2] = error_[t[k]->node](t[k]->element, c);
      }
    }
    if (v[0][0] != v[1][0] || v[0][1] != v[1][1]) return false;
    exact = exact && v[0][2] == 0 && v[1][2] == 0;
  }
  return true;
}

bool GraphTrack::same_function(const Term& a, const Term& b) {
  if (a == b) return true;
  if (a.node == -2 || b.node == -2) return false;
  proven_.clear();
  return proven_same(a, b);
}

// The proof behind same_function: by induction over the graph, two values computed by the same
// operation from inputs that are the same true functions are the same true function. Identical bits
// are asked for at every step only to keep the search small (values that are one function are
// computed alike, so they have them).
bool GraphTrack::proven_same(const Term& a, const Term& b) {
  if (a == b) return true;
  bool exact = false;
  if (!same_bits(a, b, exact)) return false;
  if (exact) return true;  // both computed without error: each is its true function
  if (a.node < 0 || a.node != b.node) return false;
  const std::tuple<int, std::int64_t, std::int64_t> key{a.node, std::min(a.element, b.element),
                                                        std::max(a.element, b.element)};
  if (const auto known = proven_.find(key); known != proven_.end()) return known->second;
  const GraphNode& n = g_.nodes[a.node];
  const std::int64_t ea = a.element, eb = b.element;
  auto inputs_same = [&](int ja, std::int64_t ia, int jb, std::int64_t ib) {
    return proven_same(term(ja, ia), term(jb, ib));
  };
  bool same = false;
  switch (n.kind) {
    case OpKind::kScale:
      same = (n.scale.size() == 0 || n.scale[ea] == n.scale[eb]) && (n.shift.size() == 0 || n.shift[ea] == n.shift[eb]) &&
             inputs_same(n.inputs[0], ea, n.inputs[0], eb);
      break;
    case OpKind::kSum:
      same = true;
      for (std::size_t k = 0; k < n.inputs.size() && same; ++k) same = inputs_same(n.inputs[k], ea, n.inputs[k], eb);
      break;
    case OpKind::kSparse: {
      const std::int64_t sa = n.rows.start[ea], sb = n.rows.start[eb], len = n.rows.start[ea + 1] - sa;
      same = len == n.rows.start[eb + 1] - sb && (n.shift.size() == 0 || n.shift[ea] == n.shift[eb]);
      for (std::int64_t k = 0; k < len && same; ++k) {
        if (!n.rows.weight.empty() && n.rows.weight[sa + k] != n.rows.weight[sb + k]) {
          same = false;
          break;
        }
        const auto [ja, ia] = stacked_source(g_, n, n.rows.index[sa + k]);
        const auto [jb, ib] = stacked_source(g_, n, n.rows.index[sb + k]);
        same = inputs_same(ja, ia, jb, ib);
      }
      break;
    }
    case OpKind::kMatMul: {
      const std::int64_t k = n.weight.rows(), m = n.weight.cols();
      const std::int64_t ja = ea % m, jb = eb % m, ra = ea / m, rb = eb / m;
      same = (n.weight.col(ja).array() == n.weight.col(jb).array()).all() &&
             (n.bias.size() == 0 || n.bias[ja] == n.bias[jb]);
      for (std::int64_t i = 0; i < k && same; ++i) same = inputs_same(n.inputs[0], ra * k + i, n.inputs[0], rb * k + i);
      break;
    }
    case OpKind::kConv: {
      const ConvGeometry& g = n.conv;
      const std::int64_t out_hw = static_cast<std::int64_t>(g.out_h) * g.out_w;
      const std::int64_t ca = ea / out_hw, cb = eb / out_hw;
      const int mg = g.out_channels / g.groups, cg = g.in_channels / g.groups;
      same = (n.weight.row(ca).array() == n.weight.row(cb).array()).all() &&
             (n.bias.size() == 0 || n.bias[ca] == n.bias[cb]);
      const Term zero;
      const std::int64_t in_hw = static_cast<std::int64_t>(g.in_h) * g.in_w;
      for (int ci = 0; ci < cg && same; ++ci)
        for (int i = 0; i < g.kernel_h && same; ++i)
          for (int j = 0; j < g.kernel_w && same; ++j) {
            Term t[2];
            for (int k = 0; k < 2; ++k) {
              const std::int64_t e = k == 0 ? ea : eb;
              const std::int64_t channel = (e / out_hw) / mg * cg + ci;
              const std::int64_t at = conv_input_at(g, static_cast<int>(e % out_hw), i, j);
              t[k] = at < 0 ? zero : term(n.inputs[0], channel * in_hw + at);
            }
            same = proven_same(t[0], t[1]);
          }
      break;
    }
    case OpKind::kRelu: {  // both on the slope side (the other states are terms of their own)
      const std::vector<std::int64_t>& state = state_[a.node];
      same = ea < static_cast<std::int64_t>(state.size()) && eb < static_cast<std::int64_t>(state.size()) &&
             state[ea] == kSlope && state[eb] == kSlope && relu_slope(n, ea) == relu_slope(n, eb) &&
             inputs_same(n.inputs[0], ea, n.inputs[0], eb);
      break;
    }
    default:
      break;
  }
  proven_[key] = same;
  return same;
}

// Row by row, in place: a row is written (and marked changed) only where its bits change, so that the
// affine nodes after the unit recompute only what reads those rows (compute_affine).
void GraphTrack::apply_unit(int u) {
  const GraphNode& node = g_.nodes[u];
  DdFamily& y = value_[u];
  Eigen::MatrixXd& ey = error_[u];
  const std::vector<std::int64_t>& state = state_[u];
  const bool max = node.kind == OpKind::kMax;
  const DdFamily& x = max ? max_input(u) : value_[node.inputs[0]];
  const Eigen::MatrixXd& e = max ? max_error(u) : error_[node.inputs[0]];
  const Eigen::Index rows = max ? node.rows.num_rows() : x.hi.rows();
  std::vector<std::uint64_t>& changed = changed_at_[u];
  const bool fresh = y.hi.rows() != rows || static_cast<Eigen::Index>(changed.size()) != rows;
  if (fresh) {
    y.hi.resize(rows, cols_);
    y.lo.resize(rows, cols_);
    ey.resize(rows, cols_);
    changed.assign(static_cast<std::size_t>(rows), 0);
  }
  ++clock_;
  const double g = dd_dot_error(1);
  double hi[kMaxCols], lo[kMaxCols], err[kMaxCols];
  for (Eigen::Index i = 0; i < rows; ++i) {
    const Eigen::Index from = max ? state[i] : i;  // the input row it takes, if any
    const std::int64_t s = max ? kPass : state[i];
    const double slope = s == kSlope ? relu_slope(node, i) : 1.0;
    for (Eigen::Index c = 0; c < cols_; ++c) {
      if (s == kPass) {
        hi[c] = x.hi(from, c);
        lo[c] = x.lo(from, c);
        err[c] = e(from, c);
      } else if (s == kSlope && slope != 0) {
        // slope (hi + lo) as a double-double dot product of length 1.
        const double p = slope * x.hi(i, c);
        const double pe = std::fma(slope, x.hi(i, c), -p);
        two_sum(p, std::fma(slope, x.lo(i, c), pe), hi[c], lo[c]);
        err[c] = std::abs(slope) * (e(i, c) + g * std::abs(x.hi(i, c))) * (1 + 4 * kRoundoff);
      } else {  // 0, or a clip's bound
        hi[c] = c > 0 || s == kSlope ? 0.0 : s == kAtLow ? node.lo : node.hi;
        lo[c] = err[c] = 0;
      }
    }
    bool same = !fresh;
    for (Eigen::Index c = 0; c < cols_ && same; ++c)
      same = std::memcmp(&hi[c], &y.hi(i, c), sizeof(double)) == 0 && std::memcmp(&lo[c], &y.lo(i, c), sizeof(double)) == 0 &&
             std::memcmp(&err[c], &ey(i, c), sizeof(double)) == 0;
    if (same) continue;
    for (Eigen::Index c = 0; c < cols_; ++c) {
      y.hi(i, c) = hi[c];
      y.lo(i, c) = lo[c];
      ey(i, c) = err[c];
    }
    changed[static_cast<std::size_t>(i)] = clock_;
  }
}

// Triple-double (detail::apply_affine_td, whose bounds are a posteriori and about u^3 n^2 relative),
// stored rounded to double-double (the rounding, at most 2u |lo|, goes into the bound). The bound still
// propagates as |op| E_x + (the node's own rounding), but starts some 1e11 smaller at every node.
// Triple-double families live only until their last reader before `target`.
bool GraphTrack::refine(int target, const std::function<bool()>& stopped) {
  const int n = target;
  std::vector<int> last_use(n, -1);
  for (int i = 0; i <= target; ++i)
    for (int j : g_.nodes[i].inputs)
      if (j < n) last_use[j] = std::max(last_use[j], i);
  std::vector<TdFamily> td(n);
  std::vector<Eigen::MatrixXd> bound(n);  // of td, before the rounding to double-double
  Eigen::MatrixXd local;
  for (int i = 0; i < n; ++i) {
    // A recomputation of ResNet-18 takes some 15 s: a stop must not wait for it.
    if (stopped && stopped()) return false;
    const GraphNode& node = g_.nodes[i];
    TdFamily& y = td[i];
    Eigen::MatrixXd& e = bound[i];
    if (node.kind == OpKind::kInput || node.kind == OpKind::kConstant) {
      y.hi = value_[i].hi;  // exact, with the input's directions in two words
      y.mid = value_[i].lo;
      y.lo = e = Eigen::MatrixXd::Zero(y.hi.rows(), y.hi.cols());
    } else if (is_affine(node.kind)) {
      std::vector<const TdFamily*> in;
      std::vector<const Eigen::MatrixXd*> in_bound;
      for (int j : node.inputs) {
        in.push_back(&td[j]);
        in_bound.push_back(&bound[j]);
      }
      apply_affine_td(node, in, y, local);
      if (node.kind == OpKind::kConv)
        conv_fma(prepared_.magnitude[i], bound[node.inputs[0]], e);
      else
        e = apply_affine(prepared_.magnitude[i], in_bound);
      e = (e + local) * prepared_.inflate[i];
    } else {
      refine_unit(i, td, bound);
    }
    // Underflow: as compute_affine, refuse values near it rather than miss it.
    if (is_affine(node.kind))
      for (Eigen::Index r = 0; r < y.hi.rows(); ++r)
        for (Eigen::Index c = 0; c < y.hi.cols(); ++c) {
          const double v = std::abs(y.hi(r, c));
          if (v != 0 && v < kSmallest) uncertain_value(i, r);
        }
    // Rounded to double-double: hi + fl(mid + lo), which errs by at most u |fl(mid + lo)| / (1 - u).
    value_[i].hi = y.hi;
    value_[i].lo = y.mid + y.lo;
    error_[i] = (e + 2 * kRoundoff * value_[i].lo.cwiseAbs()) * (1 + 4 * kRoundoff);
    changed_all(i);
    computed_at_[i] = 0;  // recomputed whole in double-double when next computed, as before the refinement
    for (int j : node.inputs)
      if (j < n && last_use[j] <= i) {
        td[j] = TdFamily{};
        bound[j].resize(0, 0);
      }
    if (last_use[i] < 0) {
      td[i] = TdFamily{};
      bound[i].resize(0, 0);
    }
  }
  return true;
}

// Unit i in the states recorded (state_), in triple-double: the analogue of apply_unit.
void GraphTrack::refine_unit(int i, std::vector<TdFamily>& td, std::vector<Eigen::MatrixXd>& bound) const {
  const GraphNode& node = g_.nodes[i];
  const std::vector<std::int64_t>& state = state_[i];
  TdFamily& y = td[i];
  Eigen::MatrixXd& e = bound[i];
  if (node.kind == OpKind::kMax) {
    const Eigen::Index rows = node.rows.num_rows();
    y.hi.resize(rows, cols_);
    y.mid.resize(rows, cols_);
    y.lo.resize(rows, cols_);
    e.resize(rows, cols_);
    for (Eigen::Index w = 0; w < rows; ++w) {
      const auto [j, r] = max_source(i, state[w]);
      y.hi.row(w) = td[j].hi.row(r);
      y.mid.row(w) = td[j].mid.row(r);
      y.lo.row(w) = td[j].lo.row(r);
      e.row(w) = bound[j].row(r);
    }
    return;
  }
  const int j = node.inputs[0];
  y = td[j];
  e = bound[j];
  Eigen::MatrixXd local(y.hi.rows(), y.hi.cols());
  for (Eigen::Index r = 0; r < y.hi.rows(); ++r) {
    if (state[r] == kPass) continue;
    if (state[r] == kSlope) {
      const double slope = relu_slope(node, r);
      if (slope == 0) {
        y.hi.row(r).setZero();
        y.mid.row(r).setZero();
        y.lo.row(r).setZero();
        e.row(r).setZero();
        continue;
      }
      scale_td(slope, td[j], r, y, local);
      e.row(r) = (std::abs(slope) * bound[j].row(r) + local.row(r)) * (1 + 4 * kRoundoff);
      continue;
    }
    y.hi.row(r).setZero();
    y.mid.row(r).setZero();
    y.lo.row(r).setZero();
    y.hi(r, 0) = state[r] == kAtLow ? node.lo : node.hi;
    e.row(r).setZero();
  }
}

}  // namespace relutope::detail
