#include "engines/exact_engine.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <map>
#include <sstream>
#include <utility>

#include "detail/face_lattice.h"
#include "relutope/error.h"

namespace relutope::detail {

ExactEngine::ExactEngine(const Network& net, const Domain& domain)
    : ExactEngine(std::make_shared<const ExactNetwork>(net), domain) {}

ExactEngine::ExactEngine(std::shared_ptr<const ExactNetwork> network, const Domain& domain)
    : network_(std::move(network)), dim_(domain.dim()) {
  // The box: vertex v has coordinate i at hi iff bit i is set; constraint 2i is x_i >= lo_i, 2i+1 x_i <= hi_i.
  for (std::uint64_t v = 0; v < (std::uint64_t{1} << dim_); ++v) {
    Vector x(dim_);
    std::vector<ConstraintCode> on;
    for (int i = 0; i < dim_; ++i) {
      const bool upper = (v >> i) & 1;
      x[i] = Rational(upper ? domain.hi[i] : domain.lo[i]);
      on.push_back(domain_code(2 * i + (upper ? 1 : 0)));
    }
    std::sort(on.begin(), on.end());
    std::vector<double> approx(dim_);
    for (int i = 0; i < dim_; ++i) approx[i] = x[i].get_d();
    root_.x.push_back(std::move(x));
    root_.approx.push_back(std::move(approx));
    root_.on.push_back(std::move(on));
  }
  Worker clipper(*this);
  for (const Halfspace& h : domain.extra) {
    Vector f(dim_ + 1);  // a·x - b <= 0 is inside
    for (int i = 0; i < dim_; ++i) f[i] = Rational(h.a[i]);
    f[dim_] = -Rational(h.b);
    Cell inside, outside;
    const ConstraintCode id = domain_code(2 * dim_ + num_domain_constraints_);
    const Worker::Side side = clipper.split(root_, f, id, inside, outside);
    if (side == Worker::Side::kAbove)
      throw InputError("domain: empty: constraint " + std::to_string(num_domain_constraints_) +
                       " leaves no interior point in the box");
    if (side == Worker::Side::kBoth) root_ = std::move(inside);
    ++num_domain_constraints_;
  }
}

ExactEngine::RoundedDomain ExactEngine::rounded_domain(const Eigen::VectorXd& centre, const Eigen::VectorXd& scale) const {
  RoundedDomain out;
  for (std::size_t v = 0; v < root_.x.size(); ++v) {
    Eigen::VectorXd u(dim_);
    for (int i = 0; i < dim_; ++i) u[i] = Rational((root_.x[v][i] - Rational(centre[i])) / Rational(scale[i])).get_d();
    out.vertices.push_back(std::move(u));
    std::vector<ConstraintCode> tight;
    for (ConstraintCode id : root_.on[v]) tight.push_back(id);
    out.tight.push_back(std::move(tight));
  }
  return out;
}

ExactEngine::Task ExactEngine::root_task() const {
  Task task;
  task.cell = root_;
  task.pattern.assign(network_->num_neurons, 0);
  task.post.assign(dim_, Vector(dim_ + 1, 0));  // the input itself
  for (int i = 0; i < dim_; ++i) task.post[i][i] = 1;
  return task;
}

ExactEngine::Worker::Worker(const ExactEngine& engine)
    : engine_(engine), pattern_(engine.network_->num_neurons, 0), pre_(engine.network_->layers.size()) {}

void ExactEngine::Worker::run(const Task& task, LeafSink& sink) {
  sink_ = &sink;
  pattern_ = task.pattern;
  if (!engine_.network_->layers.empty() && task.neuron > 0) pre_[task.layer] = task.pre;
  descend(task.cell, task.layer, task.neuron, task.post, 0);
}

void ExactEngine::Worker::run_subtree(const ActivationPattern& prefix, int first, LeafSink& sink) {
  ++num_subtrees;
  forced_ = &prefix;
  forced_until_ = first;
  struct Reset {
    Worker& w;
    ~Reset() { w.forced_ = nullptr, w.forced_until_ = 0; }
  } reset{*this};
  run(engine_.root_task(), sink);
}

void ExactEngine::Worker::snapshot(const Cell& cell, int layer, int neuron, const Matrix& post) {
  Task task;
  task.cell = cell;
  task.pattern = pattern_;
  task.layer = layer;
  task.neuron = neuron;
  task.post = post;
  if (neuron > 0) task.pre = pre_[layer];
  frontier_->push_back(std::move(task));
}

ConstraintCode ExactEngine::Worker::side_code(ConstraintCode id) const {
  if (id < 0) return id;  // a domain constraint
  const int g = code_entry(id);
  if (!is_max_code(id)) return neuron_code(g, pattern_[g] != 0);
  // The hyperplane z_i = z_j (i < j) bounds the piece of the unit's state, one of the two.
  const int state = pattern_[g];
  return max_code(g, state, state == code_state(id) ? code_other(id) : code_state(id));
}

void ExactEngine::Worker::emit(const Cell& cell) {
  const int d = engine_.dim_;
  Vector centre(d, 0);
  for (const Vector& x : cell.x)
    for (int j = 0; j < d; ++j) centre[j] += x[j];
  interior_.resize(d);
  for (int j = 0; j < d; ++j) interior_[j] = Rational(centre[j] / static_cast<long>(cell.x.size())).get_d();
  Leaf leaf;
  leaf.pattern = pattern_.data();
  leaf.interior_point = interior_.data();
  leaf.in_input_coordinates = true;
  leaf.depth = std::numeric_limits<double>::infinity();  // exact: no region is fragile
  const bool want_vertices = sink_->wants_vertices(), want_volume = sink_->wants_volume();
  if (sink_->wants_constraints() || want_vertices || want_volume) {
    // A constraint is a facet iff the face it cuts out is a maximal proper face: its vertex set is
    // contained in no other constraint's (exact, since the tight sets are exact).
    std::map<ConstraintCode, std::vector<int>> on;
    for (std::size_t v = 0; v < cell.x.size(); ++v)
      for (ConstraintCode id : cell.on[v]) on[id].push_back(static_cast<int>(v));
    for (const auto& [id, vertices] : on) {
      if (static_cast<int>(vertices.size()) < d) continue;
      bool maximal = true;
      for (const auto& [other, more] : on)
        if (more.size() > vertices.size() && std::includes(more.begin(), more.end(), vertices.begin(), vertices.end())) {
          maximal = false;
          break;
        }
      if (!maximal) continue;
      leaf.constraints.push_back(side_code(id));
      leaf.constraint_vertices.push_back(vertices);
    }
    for (const std::vector<double>& x : cell.approx) leaf.vertices.insert(leaf.vertices.end(), x.begin(), x.end());
    if (want_volume)
      leaf.volume = volume_and_centroid(leaf.vertices.data(), static_cast<int>(cell.x.size()), d,
                                        leaf.constraint_vertices).volume;
    if (!want_vertices) {
      leaf.vertices.clear();
      leaf.constraint_vertices.clear();
    }
  }
  sink_->leaf(leaf);
}

void ExactEngine::Worker::descend(const Cell& cell, int layer, int neuron, const Matrix& post, int splits) {
  const int d = engine_.dim_;
  if (at_cut(splits)) return snapshot(cell, layer, neuron, post);
  if (layer == static_cast<int>(engine_.network_->layers.size())) return cutting() ? snapshot(cell, layer, neuron, post) : emit(cell);
  const ExactNetwork::Layer& L = engine_.network_->layers[layer];
  if (neuron == 0) {  // this layer's pre-activation maps on this cell
    Matrix pre(L.weight.size(), Vector(d + 1, 0));
    for (std::size_t i = 0; i < L.weight.size(); ++i) {
      for (std::size_t k = 0; k < post.size(); ++k)
        if (sgn(L.weight[i][k]) != 0)
          for (int j = 0; j <= d; ++j) pre[i][j] += L.weight[i][k] * post[k][j];
      pre[i][d] += L.bias[i];
    }
    pre_[layer] = std::move(pre);
  }
  if (neuron == L.num_entries()) {  // the layer's outputs on the cell
    Matrix next(L.num_outputs());
    for (int o = 0; o < L.num_outputs(); ++o) {
      bool below = false;
      const int row = L.source_row(o, pattern_.data(), below);
      next[o] = pre_[layer][row];
      if (below)
        for (auto& v : next[o]) v *= L.slope[row];
    }
    return descend(cell, layer + 1, 0, next, splits);
  }
  const int global = L.offset + neuron;
  if (L.is_max) return descend_max(cell, layer, neuron, post, splits);
  Cell below, above;
  const Side side = split(cell, pre_[layer][L.entry_out[neuron]], neuron_code(global, false), below, above);
  if (global < forced_until_) {
    // Replaying a floating-point engine's path: only the prefix's side, which must have volume.
    const int bit = (*forced_)[global];
    if (side == (bit ? Side::kBelow : Side::kAbove)) {
      std::ostringstream msg;
      msg << "the floating-point pass took neuron " << global << (bit ? " active" : " inactive")
          << " where exact arithmetic finds no interior point; its count cannot be trusted";
      throw UncertifiedError(msg.str());
    }
    pattern_[global] = static_cast<std::uint8_t>(bit);
    const Cell& next = side != Side::kBoth ? cell : bit ? above : below;
    return descend(next, layer, neuron + 1, post, splits);
  }
  if (side != Side::kBoth) {
    pattern_[global] = side == Side::kAbove ? 1 : 0;
    return descend(cell, layer, neuron + 1, post, splits);
  }
  pattern_[global] = 0;
  descend(below, layer, neuron + 1, post, splits + 1);
  pattern_[global] = 1;
  descend(above, layer, neuron + 1, post, splits + 1);
}

bool ExactEngine::Worker::max_piece(const Cell& cell, int layer, int entry, int state, Cell& piece) const {
  const int d = engine_.dim_;
  const ExactNetwork::Layer& L = engine_.network_->layers[layer];
  const int global = L.offset + entry;
  const int first = L.out_row[L.entry_out[entry]], k = L.out_rows[L.entry_out[entry]];
  const Matrix& pre = pre_[layer];
  piece = cell;
  Vector f(d + 1);
  Cell below, above;
  for (int j = 0; j < k; ++j) {
    if (j == state) continue;
    bool identical = true;
    for (int i = 0; i <= d; ++i) {
      f[i] = pre[first + state][i] - pre[first + j][i];
      identical = identical && sgn(f[i]) == 0;
    }
    if (identical) {  // equal on the whole cell: the lower index is the state, and they do not split it
      if (j < state) return false;
      continue;
    }
    const Side side = split(piece, f, max_code(global, std::min(state, j), std::max(state, j)), below, above);
    if (side == Side::kBelow) return false;
    if (side == Side::kBoth) piece = std::move(above);
  }
  return true;
}

void ExactEngine::Worker::descend_max(const Cell& cell, int layer, int entry, const Matrix& post, int splits) {
  const ExactNetwork::Layer& L = engine_.network_->layers[layer];
  const int global = L.offset + entry;
  const int k = L.out_rows[L.entry_out[entry]];
  if (global < forced_until_) {
    // Replaying a floating-point engine's path: only the prefix's state, which must have volume.
    const int state = (*forced_)[global];
    Cell piece;
    if (state >= k || !max_piece(cell, layer, entry, state, piece)) {
      std::ostringstream msg;
      msg << "the floating-point pass took state " << state << " of Max unit " << global
          << " where exact arithmetic finds no interior point; its count cannot be trusted";
      throw UncertifiedError(msg.str());
    }
    pattern_[global] = static_cast<std::uint8_t>(state);
    return descend(piece, layer, entry + 1, post, splits + 1);
  }
  std::vector<Cell> pieces(k);
  std::vector<int> states;
  for (int state = 0; state < k; ++state)
    if (max_piece(cell, layer, entry, state, pieces[state])) states.push_back(state);
  for (int state : states) {
    pattern_[global] = static_cast<std::uint8_t>(state);
    descend(pieces[state], layer, entry + 1, post, splits + (states.size() > 1 ? 1 : 0));
  }
}

ExactEngine::Worker::Side ExactEngine::Worker::split(const Cell& cell, const Vector& f, ConstraintCode id, Cell& below,
                                                     Cell& above) const {
  const int d = engine_.dim_;
  const std::size_t num_vertices = cell.x.size();
  // Signs first in doubles with a rounding-error bound (a filter, as in CGAL's Epeck): only the
  // vertices whose sign it cannot prove, and the cells that do split, need rational arithmetic.
  std::vector<double> fd(d + 1);
  for (int j = 0; j <= d; ++j) fd[j] = f[j].get_d();
  std::vector<int> sign(num_vertices);
  std::vector<Rational> value(num_vertices);
  std::vector<char> exact(num_vertices, 0);
  auto exact_value = [&](std::size_t v) {
    if (exact[v]) return;
    value[v] = f[d];
    for (int j = 0; j < d; ++j) value[v] += f[j] * cell.x[v][j];
    sign[v] = sgn(value[v]);
    exact[v] = 1;
  };
  bool pos = false, neg = false;
  for (std::size_t v = 0; v < num_vertices; ++v) {
    double approx = fd[d], magnitude = std::abs(fd[d]);
    for (int j = 0; j < d; ++j) {
      const double term = fd[j] * cell.approx[v][j];
      approx += term;
      magnitude += std::abs(term);
    }
    // Each conversion to double and each operation errs by at most 2^-52 relative: d + 3 of them.
    // (The absolute term covers subnormal results; infinities and NaNs fail the test and go exact.)
    if (std::abs(approx) > 4 * (d + 3) * 0x1.0p-52 * magnitude + 1e-290) sign[v] = approx > 0 ? 1 : -1;
    else exact_value(v);
    pos |= sign[v] > 0;
    neg |= sign[v] < 0;
  }
  if (!pos || !neg) return pos ? Side::kAbove : Side::kBelow;
  for (std::size_t v = 0; v < num_vertices; ++v) exact_value(v);  // the split interpolates exactly
  auto add = [id](Cell& c, const Vector& x, const std::vector<ConstraintCode>& on, bool tight) {
    c.x.push_back(x);
    std::vector<double> approx(x.size());
    for (std::size_t j = 0; j < x.size(); ++j) approx[j] = x[j].get_d();
    c.approx.push_back(std::move(approx));
    std::vector<ConstraintCode> t = on;
    if (tight) t.insert(std::upper_bound(t.begin(), t.end(), id), id);
    c.on.push_back(std::move(t));
  };
  below = Cell();
  above = Cell();
  for (std::size_t v = 0; v < num_vertices; ++v) {
    if (sign[v] >= 0) add(above, cell.x[v], cell.on[v], sign[v] == 0);
    if (sign[v] <= 0) add(below, cell.x[v], cell.on[v], sign[v] == 0);
  }
  for (std::size_t p = 0; p < num_vertices; ++p) {
    if (sign[p] <= 0) continue;
    for (std::size_t n = 0; n < num_vertices; ++n) {
      if (sign[n] >= 0) continue;
      std::vector<ConstraintCode> common;
      std::set_intersection(cell.on[p].begin(), cell.on[p].end(), cell.on[n].begin(), cell.on[n].end(),
                            std::back_inserter(common));
      if (static_cast<int>(common.size()) < d - 1) continue;
      bool third = false;
      for (std::size_t w = 0; w < num_vertices && !third; ++w)
        third = w != p && w != n && std::includes(cell.on[w].begin(), cell.on[w].end(), common.begin(), common.end());
      if (third) continue;
      const Rational t = value[p] / (value[p] - value[n]);
      Vector x(d);
      for (int j = 0; j < d; ++j) x[j] = cell.x[p][j] + t * (cell.x[n][j] - cell.x[p][j]);
      add(above, x, common, true);
      add(below, x, common, true);
    }
  }
  return Side::kBoth;
}

}  // namespace relutope::detail
