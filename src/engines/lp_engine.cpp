#include "engines/lp_engine.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "detail/exact_margin_lp.h"
#include "detail/glpk_problem.h"

#include "relutope/error.h"

namespace relutope::detail {

// GLPK keeps its environment per thread, so each worker owns its problem object.
struct LpEngine::Worker::Glpk {
  GlpkProblem problem = make_glpk_problem();
  glp_smcp params;
  std::vector<int> index;
  std::vector<double> value;
  Glpk() {
    glp_init_smcp(&params);
    params.msg_lev = GLP_MSG_OFF;
    params.presolve = GLP_OFF;
  }
};

LpEngine::LpEngine(const FlatNetwork& flat, const Domain& domain, double tolerance_abs, const ExactFallback& exact,
                   const Eigen::VectorXd& centre, const Eigen::VectorXd& scale, double near_degenerate_depth,
                   bool max_margin_points)
    : flat_(flat),
      domain_(domain),
      tol_(tolerance_abs),
      exact_(exact),
      centre_(centre),
      scale_(scale),
      near_degenerate_depth_(near_degenerate_depth),
      max_margin_points_(max_margin_points) {
  root_.pattern.assign(flat.num_neurons, 0);
  root_.witness = (domain.lo + domain.hi) / 2;
  root_.depth = (domain.hi - domain.lo).minCoeff() / 2;
  for (std::size_t k = 0; k < domain.extra.size(); ++k) {
    const Halfspace& h = domain.extra[k];
    const double norm = h.a.norm();
    if (norm == 0) {
      if (h.b < 0) throw InputError("domain: empty: constraint " + std::to_string(k) + " reads 0 <= " + std::to_string(h.b));
      continue;
    }
    root_.rows.push_back({h.a / norm, h.b / norm, domain_code(2 * domain.dim() + static_cast<int>(k))});
  }
  if (!root_.rows.empty()) {
    Worker worker(*this);
    worker.rows_ = root_.rows;
    const double margin = worker.max_margin(nullptr, 0, root_.witness, 0);
    if (margin < -tol_) throw InputError("domain: empty: the box and the extra constraints share no interior point");
    if (!(margin > tol_))
      throw UncertifiedError("the domain's interior is thinner than the tolerance: cannot tell whether it is empty");
    root_.depth = margin;
  }
  root_.thin = root_.depth < near_degenerate_depth_;
}

LpEngine::Worker::Worker(const LpEngine& engine)
    : engine_(engine),
      lp_(std::make_unique<Glpk>()),
      pattern_(engine.flat_.num_neurons, 0),
      weight_(engine.flat_.layers.size()),
      bias_(engine.flat_.layers.size()),
      error_(engine.flat_.layers.size()),
      margin_lp_(engine.domain_.lo, engine.domain_.hi) {
  const Domain& domain = engine.domain_;
  const int n = domain.dim();
  glp_prob* prob = lp_->problem.get();
  glp_set_obj_dir(prob, GLP_MAX);
  glp_add_cols(prob, n + 1);
  for (int i = 0; i < n; ++i) glp_set_col_bnds(prob, i + 1, GLP_DB, domain.lo[i], domain.hi[i]);
  // The margin is capped so that the LP stays bounded; any cap above the tolerance will do.
  const double cap = domain.diameter();
  glp_set_col_bnds(prob, n + 1, GLP_DB, -cap, cap);
  glp_set_obj_coef(prob, n + 1, 1.0);
  lp_->index.resize(n + 2);
  lp_->value.resize(n + 2);
  for (int i = 0; i <= n; ++i) lp_->index[i + 1] = i + 1;
}

LpEngine::Worker::~Worker() = default;

double LpEngine::Worker::max_margin(const Row* extra, int num_extra, Eigen::VectorXd& x, int to, double stop_above) {
  ++counters.lps;
  const int n = engine_.domain_.dim();
  const int wanted = static_cast<int>(rows_.size()) + (extra ? num_extra : 0);
  const double tol = engine_.tol_;
  // First the small dense simplex, which certifies its answer either way: warm from the node's
  // tableau (the dual simplex, which may stop once its bound is below -tol), else cold. GLPK
  // decides the rest (answers within the tolerance, or a simplex that did not converge).
  if (wanted > 0) {
    load_rows(extra, num_extra);
    const auto a = rows_a(wanted);
    const auto b = rows_b_.head(wanted);
    MarginLp::Answer answer;
    const bool warm = margin_lp_.usable(state_) &&
                      margin_lp_.resolve(state_, to, a, b, -tol, answer, tol, stop_above, &witness_) &&
                      (answer.lower > tol || answer.upper < -tol);
    if (!warm) answer = margin_lp_.solve(a, b, witness_.size() ? witness_ : engine_.root_.witness, to, tol);
    if (answer.lower > tol) {
      x = answer.x;
      return answer.lower;
    }
    if (answer.upper < -tol) return answer.upper;
    ++counters.lps_fallback;
  }
  glp_prob* prob = lp_->problem.get();
  const int have = glp_get_num_rows(prob);
  if (have < wanted) glp_add_rows(prob, wanted - have);
  if (have > wanted) {
    std::vector<int> gone(1);
    for (int r = wanted + 1; r <= have; ++r) gone.push_back(r);
    glp_del_rows(prob, have - wanted, gone.data());
  }
  for (int r = 0; r < wanted; ++r) {
    const Row& row = r < static_cast<int>(rows_.size()) ? rows_[r] : extra[r - rows_.size()];
    for (int i = 0; i < n; ++i) lp_->value[i + 1] = row.a[i];
    lp_->value[n + 1] = 1.0;
    glp_set_mat_row(prob, r + 1, n + 1, lp_->index.data(), lp_->value.data());
    glp_set_row_bnds(prob, r + 1, GLP_UP, 0.0, row.b);
  }
  // GLPK sees only the few LPs the dense simplex cannot settle: it starts from the standard basis.
  glp_std_basis(prob);
  lp_->params.meth = GLP_PRIMAL;
  // Limits, so that no LP can run away (GLPK cycled for minutes on badly scaled boxes before the
  // problem was normalised); an LP that hits them is left undecided and goes to exact arithmetic.
  lp_->params.it_lim = 1000 + 50 * (wanted + n + 1);
  lp_->params.tm_lim = 10000;
  const int status = glp_simplex(prob, &lp_->params);
  const double undecided = std::numeric_limits<double>::quiet_NaN();
  if (status != 0 || glp_get_status(prob) != GLP_OPT) return undecided;
  // GLPK's own feasibility tolerances (1e-7) are far coarser than ours, so its answer counts only
  // with the same certificates the dense simplex gives: its point, checked against the rows, or a
  // weak-duality bound from its row duals (any y >= 0 with sum 1 bounds t, see margin_lp.h).
  const Eigen::VectorXd point = Eigen::VectorXd::NullaryExpr(
      n, [&](Eigen::Index i) { return glp_get_col_prim(prob, static_cast<int>(i) + 1); })
      .cwiseMax(engine_.domain_.lo).cwiseMin(engine_.domain_.hi);
  const double lower = wanted ? (rows_b_.head(wanted) - rows_a(wanted) * point).minCoeff()
                              : std::numeric_limits<double>::infinity();
  if (lower > engine_.tol_) {
    x = point;
    return lower;
  }
  Eigen::VectorXd y(wanted);
  for (int r = 0; r < wanted; ++r) y[r] = std::abs(glp_get_row_dual(prob, r + 1));
  if (!(y.sum() > 0)) return undecided;
  y /= y.sum();
  const Eigen::VectorXd g = rows_a(wanted).transpose() * y;
  double upper = y.dot(rows_b_.head(wanted));
  for (int j = 0; j < n; ++j) upper -= std::min(g[j] * engine_.domain_.lo[j], g[j] * engine_.domain_.hi[j]);
  return upper < -engine_.tol_ ? upper : undecided;
}

bool LpEngine::Worker::reaches_threshold(const Row* extra, int num_extra, Eigen::VectorXd& x, double& margin, int to) {
  ++counters.lps;
  const double threshold = engine_.near_degenerate_depth_;
  load_rows(extra, num_extra);
  const int wanted = static_cast<int>(rows_.size()) + num_extra;
  const auto a = rows_a(wanted);
  const auto b = rows_b_.head(wanted);
  // The dual simplex stops once its bound is below the threshold, or a point above it is found;
  // cold, it runs to the optimum.
  MarginLp::Answer answer;
  if (!(margin_lp_.usable(state_) &&
        margin_lp_.resolve(state_, to, a, b, threshold, answer, threshold, threshold, &witness_)))
    answer = margin_lp_.solve(a, b, witness_, to, threshold);
  if (!(answer.lower >= threshold)) return false;
  x = answer.x;
  margin = answer.lower;
  return true;
}

Eigen::Map<const Eigen::MatrixXd> LpEngine::Worker::rows_a(int wanted) const {
  return {rows_a_.data(), wanted, engine_.domain_.dim()};
}

int LpEngine::Worker::child_state(int to) const { return margin_lp_.usable(to) ? to : state_; }

void LpEngine::Worker::load_rows(const Row* extra, int num_extra) {
  const int n = engine_.domain_.dim();
  const int wanted = static_cast<int>(rows_.size()) + (extra ? num_extra : 0);
  // Exactly wanted x n (as a stride that depended on the rows seen before would make the products
  // below round differently from one worker to the next), in storage that only grows.
  if (rows_a_.size() < wanted * n) rows_a_.resize((wanted + 8) * n);
  if (rows_b_.size() < wanted) rows_b_.resize(wanted + 8);
  Eigen::Map<Eigen::MatrixXd> a(rows_a_.data(), wanted, n);
  for (int r = 0; r < wanted; ++r) {
    const Row& row = r < static_cast<int>(rows_.size()) ? rows_[r] : extra[r - rows_.size()];
    a.row(r) = row.a.transpose();
    rows_b_[r] = row.b;
  }
}

void LpEngine::Worker::enter_layer(int layer) {
  const FlatNetwork& flat = engine_.flat_;
  const SplitLayer& split_layer = flat.layers[layer];
  flat.next_preactivation(layer, pattern_.data(), layer ? weight_[layer - 1] : Eigen::MatrixXd(),
                          layer ? bias_[layer - 1] : Eigen::VectorXd(), weight_[layer], bias_[layer]);
  Eigen::VectorXd& error = error_[layer];
  error.resize(split_layer.num_rows());
  if (layer == 0) return row_errors(split_layer, nullptr, 1.0, 1.0, error.data());
  // The sum over the rows the region passes on (row_errors), each at its factor.
  const SplitLayer& prev = flat.layers[layer - 1];
  const Eigen::VectorXd l1 = weight_[layer - 1].cwiseAbs().rowwise().sum();
  Eigen::VectorXd carry(prev.num_rows());
  row_carries(split_layer, prev.num_rows(), error_[layer - 1].data(), l1.data(), bias_[layer - 1].data(), carry.data());
  Eigen::VectorXd passed(prev.num_outputs());
  double largest = 0;
  for (int o = 0; o < prev.num_outputs(); ++o) {
    int row = 0;
    double factor = 1;
    prev.source(o, pattern_.data(), row, factor);
    passed[o] = std::abs(factor) * carry[row];
    largest = std::max(largest, std::abs(factor) * (l1[row] + std::abs(bias_[layer - 1][row]) + error_[layer - 1][row]));
  }
  // The product by |W| rounds (a sum of non-negative terms) by less than 2 gamma_{m+2}.
  const Eigen::VectorXd carried = split_layer.weight.cwiseAbs() * passed;
  row_errors(split_layer, carried.data(), 1 + 2 * split_layer.sum_gamma, largest, error.data());
}

void LpEngine::Worker::range_on_box(const Eigen::VectorXd& w, double c, double& lo, double& hi) const {
  const Domain& domain = engine_.domain_;
  lo = c + (w.array() > 0).select(w.array() * domain.lo.array(), w.array() * domain.hi.array()).sum();
  hi = c + (w.array() > 0).select(w.array() * domain.hi.array(), w.array() * domain.lo.array()).sum();
}

bool LpEngine::Worker::untrusted(const Eigen::VectorXd& w, double error) const {
  const double norm = w.norm();
  return !(norm > 0) || !(2 * error <= engine_.tol_ * norm);
}

void LpEngine::Worker::emit() {
  // The witness keeps a margin from every hyperplane but may lie on the box's boundary. Moving it
  // a little towards the box centre makes it strictly interior: by lambda = s / (2 (s + m)), where
  // s is its smallest slack and m the largest violation of a row at the centre, every row keeps at
  // least half its slack.
  const Domain& domain = engine_.domain_;
  const Eigen::VectorXd centre = (domain.lo + domain.hi) / 2;
  double slack = std::numeric_limits<double>::infinity(), violation = 0;
  for (const Row& row : rows_) {
    slack = std::min(slack, row.b - row.a.dot(witness_));
    violation = std::max(violation, row.a.dot(centre) - row.b);
  }
  const double lambda = rows_.empty() ? 0.5 : slack / (2 * (slack + violation));
  interior_ = witness_ + lambda * (centre - witness_);
  Leaf leaf;
  leaf.pattern = pattern_.data();
  leaf.interior_point = interior_.data();
  leaf.depth = depth_;
  leaf.near_degenerate = thin_;
  if (sink_->wants_constraints()) {
    for (int k = 0; k < 2 * engine_.domain_.dim(); ++k) leaf.constraints.push_back(domain_code(k));
    for (const Row& row : rows_) leaf.constraints.push_back(row.code);
  }
  sink_->leaf(leaf);
}

void LpEngine::Worker::snapshot(int layer, int neuron) {
  Task task;
  task.pattern = pattern_;
  task.layer = layer;
  task.neuron = neuron;
  task.rows = rows_;
  task.witness = witness_;
  task.depth = depth_;
  task.thin = thin_;
  if (margin_lp_.usable(state_)) task.lp = std::make_shared<const MarginLp::State>(margin_lp_.saved(state_));
  if (layer >= 0) {
    task.weight = weight_[layer];
    task.bias = bias_[layer];
    task.error = error_[layer];
  }
  frontier_->push_back(std::move(task));
}

void LpEngine::Worker::descend(int layer, int neuron, int splits) {
  const FlatNetwork& flat = engine_.flat_;
  const int num_layers = static_cast<int>(flat.layers.size());
  if (at_cut(splits)) return snapshot(layer, neuron);
  if (layer < 0 || neuron == flat.layers[layer].num_entries()) {
    if (layer + 1 == num_layers) return cutting() ? snapshot(layer, neuron) : emit();
    enter_layer(++layer);
    return descend(layer, 0, splits);
  }
  if (flat.layers[layer].is_max) return descend_max(layer, neuron, splits);
  const int global = flat.layers[layer].offset + neuron;
  const int row = flat.layers[layer].entry_out[neuron];
  Eigen::VectorXd w = weight_[layer].row(row).transpose();
  double c = bias_[layer][row];
  double norm = w.norm();
  const double error = error_[layer][row];
  if (untrusted(w, error)) {
    // The row may have cancelled to zero, or to the order of its rounding error, in the rounded
    // products of the layers before it: unless its values on the box keep one sign by more than
    // the error, only its exact value says whether the neuron is constant on the region (then its
    // sign decides; z = 0 is inactive, as in the other engines) or splits it along a tiny but real
    // hyperplane.
    double lo = 0, hi = 0;
    range_on_box(w, c, lo, hi);
    const double eps = engine_.tol_ * norm + error;
    if (lo > eps || hi < -eps) {
      pattern_[global] = lo > eps;
      return descend(layer, neuron + 1, splits);
    }
    const ExactNetwork::RowOnRegion exact = engine_.exact_.network().row_on_region(pattern_, layer, row,
                                                                                 engine_.centre_, engine_.scale_);
    if (exact.rational) ++counters.exact_decisions;
    if (exact.decided) {
      pattern_[global] = exact.sign > 0;
      return descend(layer, neuron + 1, splits);
    }
    w = exact.w;
    c = exact.c;
    norm = w.stableNorm();
  }
  // Interval bounds of the pre-activation over the whole box decide many neurons for free.
  double lo = 0, hi = 0;
  range_on_box(w, c, lo, hi);
  const double eps = engine_.tol_ * norm;
  if (lo > eps || hi < -eps) {
    pattern_[global] = lo > eps;
    return descend(layer, neuron + 1, splits);
  }
  Row sides[2] = {{w / norm, -c / norm, neuron_code(global, false)},
                  {-w / norm, c / norm, neuron_code(global, true)}};
  Side side[2];
  const double at_witness = (w.dot(witness_) + c) / norm;
  for (int k = 0; k < 2; ++k) {
    side[k].state = state_;  // the node's tableau: the new row is pending
    const bool witness_here = k == 1 ? at_witness > engine_.tol_ : at_witness < -engine_.tol_;
    if (witness_here) {
      side[k].feasible = true;
      side[k].point = witness_;
      side[k].margin = std::abs(at_witness);
      continue;
    }
    side[k].from_lp = true;  // (or across(): its margin is also from all rows)
    // (Only near the cut: from a witness farther than 4 depths from it, a ray almost never clears
    // the old rows: 1.2% of 162 k tries on 64x10x10, against 27% nearer.)
    if (!engine_.max_margin_points_ && std::abs(at_witness) < 4 * depth_ &&
        across(sides[k], side[k].point, side[k].margin)) {
      side[k].feasible = true;
      continue;
    }
    side[k].margin = max_margin(&sides[k], 1, side[k].point, free_slot_ + k, stop_above());
    side[k].state = child_state(free_slot_ + k);
    side[k].feasible = side[k].margin > engine_.tol_;
    // Within the tolerance of 0 (or unsolved), floating point cannot tell a sliver from nothing.
    if (!side[k].feasible && !(side[k].margin < -engine_.tol_)) {
      side[k].feasible = exact_side(&sides[k], 1, side[k].point);
      side[k].margin = 0;  // thin: a region found here is near-degenerate
    }
  }
  if (!(side[0].feasible && side[1].feasible)) {  // the region stays as it is
    const int k = side[1].feasible ? 1 : 0;
    pattern_[global] = static_cast<std::uint8_t>(k);
    const Eigen::VectorXd saved = witness_;
    const double saved_depth = depth_;
    if (side[k].feasible) {
      witness_ = side[k].point;
      if (!engine_.max_margin_points_ && side[k].from_lp) depth_ = side[k].margin;
    }
    descend(layer, neuron + 1, splits);
    witness_ = saved;
    depth_ = saved_depth;
    return;
  }
  for (int k = 0; k < 2; ++k) judge(side[k], &sides[k], 1, free_slot_ + k);
  const Eigen::VectorXd saved_witness = witness_;
  const double saved_depth = depth_;
  const bool saved_thin = thin_;
  const int saved_state = state_, saved_free_slot = free_slot_;
  free_slot_ += 2;
  for (int k = 0; k < 2; ++k) {
    pattern_[global] = static_cast<std::uint8_t>(k);
    rows_.push_back(sides[k]);
    enter(side[k], saved_depth);
    descend(layer, neuron + 1, splits + 1);
    rows_.pop_back();
  }
  free_slot_ = saved_free_slot;
  witness_ = saved_witness;
  depth_ = saved_depth;
  thin_ = saved_thin;
  state_ = saved_state;
}

void LpEngine::Worker::judge(Side& side, const Row* extra, int num_extra, int to) {
  const double threshold = engine_.near_degenerate_depth_;
  if (side.from_lp) {  // its margin is the optimum unless above the threshold
    side.thin = thin_ || side.margin < threshold;
    return;
  }
  // The witness proves a margin of min(depth_, distance to the new rows); below the threshold, an
  // LP decides.
  side.thin = thin_;
  if (thin_ || std::min(depth_, side.margin) >= threshold) return;
  Eigen::VectorXd x;
  double margin = 0;
  side.thin = !reaches_threshold(extra, num_extra, x, margin, to);
  // Exports keep the witness (and the depth along the path); else the LP's point, whose margin
  // is certified against all rows.
  if (!side.thin && !engine_.max_margin_points_) {
    side.point = std::move(x);
    side.margin = margin;
    side.from_lp = true;
    side.state = child_state(to);
  }
}

void LpEngine::Worker::enter(const Side& side, double saved_depth) {
  witness_ = side.point;
  state_ = side.state;
  thin_ = side.thin;
  // The exported depth: the least margin along the path; else the LP's point's own margin.
  depth_ = engine_.max_margin_points_ || !side.from_lp ? std::min(saved_depth, side.margin) : side.margin;
}

bool LpEngine::Worker::across(const Row& row, Eigen::VectorXd& x, double& margin) {
  const Domain& domain = engine_.domain_;
  const double threshold = std::max(engine_.near_degenerate_depth_, engine_.tol_);
  const int n = domain.dim();
  // The points w + s u, s in [from, to]: each row's residual b - a·w - s a·u is above the threshold
  // on an interval of s, as is the box. Along -a, the new row clears it at s = `need`; coordinates
  // with less room than 2 need towards their bound are held (the witness is often on the box).
  ray_ = -row.a;
  const double need = threshold - (row.b - row.a.dot(witness_));
  double from = 0, to = std::numeric_limits<double>::infinity();
  for (int j = 0; j < n; ++j) {
    const double room = ray_[j] > 0 ? domain.hi[j] - witness_[j] : witness_[j] - domain.lo[j];
    if (!(room > 2 * need * std::abs(ray_[j]))) ray_[j] = 0;
    else to = std::min(to, room / std::abs(ray_[j]));
  }
  const auto clears = [&](const Row& r) {  // narrows [from, to] to where r's residual clears
    const double p = r.b - r.a.dot(witness_), q = -r.a.dot(ray_);
    if (q > 0) from = std::max(from, (threshold - p) / q);
    else if (q < 0) to = std::min(to, (p - threshold) / -q);
    else if (!(p > threshold)) return false;
    return from < to;
  };
  if (!clears(row)) return false;
  for (const Row& r : rows_)
    if (!clears(r)) return false;
  if (!std::isfinite(to)) return false;
  x = (witness_ + (from + to) / 2 * ray_).cwiseMax(domain.lo).cwiseMin(domain.hi);
  margin = row.b - row.a.dot(x);
  for (const Row& r : rows_) margin = std::min(margin, r.b - r.a.dot(x));
  return margin > threshold;
}

double LpEngine::Worker::stop_above() const {
  return engine_.max_margin_points_ ? std::numeric_limits<double>::infinity() : engine_.near_degenerate_depth_;
}

void LpEngine::Worker::descend_max(int layer, int entry, int splits) {
  const SplitLayer& L = engine_.flat_.layers[layer];
  const int global = L.offset + entry;
  const int first = L.out_row[L.entry_out[entry]], k = L.out_rows[L.entry_out[entry]];
  const double tol = engine_.tol_;
  // The piece of state s is {z_s >= z_j for all j}: rows (w_j - w_s)·x <= c_s - c_j.
  std::vector<std::vector<Row>> sides(k);
  std::vector<char> possible(k, 1);
  const SplitLayer* prev = layer > 0 ? &engine_.flat_.layers[layer - 1] : nullptr;
  for (int s = 0; s < k; ++s)
    for (int j = 0; j < k && possible[s]; ++j) {
      if (j == s) continue;
      const int known = L.difference_sign(first + s, first + j, prev, pattern_.data());
      if (known != SplitLayer::kUnknownSign) {
        // A tie (the lower index is the state) or one row above the other on the whole region.
        possible[s] = known > 0 || (known == 0 && j > s);
        continue;
      }
      const Eigen::VectorXd a = weight_[layer].row(first + j).transpose() - weight_[layer].row(first + s).transpose();
      const double b = bias_[layer][first + s] - bias_[layer][first + j];
      const double norm = a.norm();
      if (norm > tol && !untrusted(a, error_[layer][first + j] + error_[layer][first + s])) {
        sides[s].push_back({a / norm, b / norm, max_code(global, s, j)});
        continue;
      }
      // Within the tolerance of a constant, or of its rounding error: the exact difference decides,
      // equal rows (the lower index is the state, they do not split) or a constant (its sign), or
      // cuts like any other row.
      const ExactNetwork::RowOnRegion exact = engine_.exact_.network().row_on_region(
          pattern_, layer, first + s, engine_.centre_, engine_.scale_, first + j);
      if (exact.rational) ++counters.exact_decisions;
      if (exact.decided) {
        possible[s] = exact.sign > 0 || (exact.sign == 0 && j > s);
        continue;
      }
      // z_s - z_j = w·u + c >= 0  <=>  -w·u <= c
      const double scaled = exact.w.norm();
      sides[s].push_back({-exact.w / scaled, exact.c / scaled, max_code(global, s, j)});
    }
  std::vector<int> feasible;
  std::vector<Side> side(k);
  for (int s = 0; s < k; ++s) {
    if (!possible[s]) continue;
    side[s].state = state_;
    double slack = std::numeric_limits<double>::infinity();
    for (const Row& row : sides[s]) slack = std::min(slack, row.b - row.a.dot(witness_));
    if (slack > tol) {  // the witness is inside the piece
      feasible.push_back(s);
      side[s].feasible = true;
      side[s].point = witness_;
      side[s].margin = slack;
      continue;
    }
    side[s].from_lp = true;
    side[s].margin = max_margin(sides[s].data(), static_cast<int>(sides[s].size()), side[s].point, free_slot_ + s,
                                stop_above());
    side[s].state = child_state(free_slot_ + s);
    bool inside = side[s].margin > tol;
    // Within the tolerance of 0 (or unsolved), floating point cannot tell a sliver from nothing.
    if (!inside && !(side[s].margin < -tol)) {
      inside = exact_side(sides[s].data(), static_cast<int>(sides[s].size()), side[s].point);
      side[s].margin = 0;
    }
    if (inside) feasible.push_back(s);
  }
  if (feasible.empty())  // the region has interior points, and some piece holds a part of them
    throw UncertifiedError("no piece of Max unit " + std::to_string(global) +
                           " was found to have interior points: floating point went astray");
  if (feasible.size() == 1) {  // the region lies in the one piece: no row needed
    const int s = feasible[0];
    pattern_[global] = static_cast<std::uint8_t>(s);
    const Eigen::VectorXd saved = witness_;
    const double saved_depth = depth_;
    witness_ = side[s].point;
    if (!engine_.max_margin_points_ && side[s].from_lp) depth_ = side[s].margin;
    descend(layer, entry + 1, splits);
    witness_ = saved;
    depth_ = saved_depth;
    return;
  }
  for (int s : feasible) judge(side[s], sides[s].data(), static_cast<int>(sides[s].size()), free_slot_ + s);
  const Eigen::VectorXd saved_witness = witness_;
  const double saved_depth = depth_;
  const bool saved_thin = thin_;
  const int saved_state = state_, saved_free_slot = free_slot_;
  const std::size_t saved_rows = rows_.size();
  free_slot_ += k;
  for (int s : feasible) {
    pattern_[global] = static_cast<std::uint8_t>(s);
    rows_.insert(rows_.end(), sides[s].begin(), sides[s].end());
    enter(side[s], saved_depth);
    descend(layer, entry + 1, splits + 1);
    rows_.resize(saved_rows);
  }
  free_slot_ = saved_free_slot;
  witness_ = saved_witness;
  depth_ = saved_depth;
  thin_ = saved_thin;
  state_ = saved_state;
}

bool LpEngine::Worker::exact_side(const Row* extra, int num_extra, Eigen::VectorXd& point) {
  ++counters.exact_decisions;
  const ExactNetwork& network = engine_.exact_.network();
  const Domain& domain = engine_.exact_.domain();
  std::vector<ConstraintCode> codes;
  for (const Row& row : rows_)
    if (row.code >= 0) codes.push_back(row.code);
  for (int r = 0; r < num_extra; ++r) codes.push_back(extra[r].code);
  ExactNetwork::Matrix a;
  ExactNetwork::Vector b;
  network.side_rows(pattern_, codes, a, b);
  const int d = domain.dim();
  for (const Halfspace& h : domain.extra) {
    a.emplace_back(h.a.data(), h.a.data() + d);
    b.emplace_back(h.b);
  }
  const ExactNetwork::Vector lo(domain.lo.data(), domain.lo.data() + d), hi(domain.hi.data(), domain.hi.data() + d);
  const ExactInterior answer = exact_interior(a, b, lo, hi);
  if (!answer.solved)
    throw UncertifiedError("an LP within the floating-point tolerance (neuron " + std::to_string(code_entry(extra[0].code)) +
                           ") did not finish in exact arithmetic within its pivot limit");
  if (!answer.nonempty) return false;
  point.resize(d);
  for (int i = 0; i < d; ++i)
    point[i] = mpq_class((answer.point[i] - mpq_class(engine_.centre_[i])) / mpq_class(engine_.scale_[i])).get_d();
  return true;
}

void LpEngine::Worker::run(const Task& task, LeafSink& sink) {
  sink_ = &sink;
  pattern_ = task.pattern;
  rows_ = task.rows;
  witness_ = task.witness;
  state_ = -1;
  free_slot_ = 0;
  if (task.lp) {  // the tableau the search from the root had here
    margin_lp_.load(*task.lp, 0);
    state_ = 0;
    free_slot_ = 1;
  }
  depth_ = task.depth;
  thin_ = task.thin;
  if (task.layer >= 0) {
    weight_[task.layer] = task.weight;
    bias_[task.layer] = task.bias;
    error_[task.layer] = task.error;
  }
  if (engine_.flat_.layers.empty()) return cutting() ? snapshot(-1, 0) : emit();
  descend(task.layer, task.neuron, 0);
}

}  // namespace relutope::detail
