#include "detail/margin_lp.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace relutope::detail {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
enum Status { kBasic, kAtLower, kAtUpper };
enum DualEnd { kOptimal, kStopped, kFailed, kReached };

// A basic variable this far outside its bounds is infeasible for the dual simplex; the answer's
// certificates do not depend on it (the margin is recomputed from the point).
constexpr double kFeasibility = 1e-9;
// The smallest |pivot| either simplex accepts.
constexpr double kPivot = 1e-9;

// The pivot's loop takes most of the time: it is written over raw rows so that the compiler
// vectorises it, and built twice where GCC can pick the variant at load time, for AVX2 with FMA
// and for any x86-64 (the sanitizer builds keep one). Each entry is computed alone (no sums), so
// the result does not depend on where a row starts in memory.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define RELUTOPE_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define RELUTOPE_CLONES
#endif

// Gauss-Jordan step on the rows x cols tableau at `t` (row-major, `stride` apart) and on the
// reduced costs `d`: column `column` becomes the unit vector of `row`.
RELUTOPE_CLONES void eliminate(double* t, long stride, int rows, int cols, int row, int column, double* d) {
  double* __restrict pivot_row = t + row * stride;
  const double pivot = pivot_row[column];
  for (int j = 0; j < cols; ++j) pivot_row[j] /= pivot;
  for (int i = 0; i < rows; ++i) {
    double* __restrict r = t + i * stride;
    const double f = r[column];
    if (i == row || f == 0) continue;
    for (int j = 0; j < cols; ++j) r[j] -= f * pivot_row[j];
  }
  const double f = d[column];
  double* __restrict reduced = d;
  for (int j = 0; j < cols; ++j) reduced[j] -= f * pivot_row[j];
}

// r[i] /= g[i] for i < n.
RELUTOPE_CLONES void divide(double* __restrict r, const double* __restrict g, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) r[i] /= g[i];
}

// The index of the first least of r[0..n) (n >= 1, no NaN): the least by four running minima
// (no branch, no chain of dependent compares), then its first index: the index a single scan
// with `<` gives.
std::size_t first_least(const double* r, std::size_t n) {
  double least[4] = {r[0], r[0], r[0], r[0]};
  std::size_t c = 0;
  for (; c + 4 <= n; c += 4)
    for (int l = 0; l < 4; ++l) least[l] = r[c + l] < least[l] ? r[c + l] : least[l];
  for (; c < n; ++c) least[0] = r[c] < least[0] ? r[c] : least[0];
  const double m = std::min(std::min(least[0], least[1]), std::min(least[2], least[3]));
  c = 0;
  while (r[c] != m) ++c;
  return c;
}

}  // namespace

MarginLp::MarginLp(const Eigen::VectorXd& lo, const Eigen::VectorXd& hi) : lo_(lo), hi_(hi) {}

MarginLp::State& MarginLp::slot(int k, int rows, int columns) {
  if (static_cast<int>(slots_.size()) <= k) slots_.resize(k + 1);
  State& s = slots_[k];
  if (s.tableau.rows() < rows || s.tableau.cols() < columns) {
    // Room for a few more rows, so that a path's slots do not grow at every level.
    const int r = std::max<int>(rows + 8, static_cast<int>(s.tableau.rows()));
    const int c = std::max<int>(columns + 8, static_cast<int>(s.tableau.cols()));
    s.tableau.resize(r, c);
    s.basis.resize(r);
    s.status.resize(c);
    s.z.resize(c);
    s.lower.resize(c);
    s.upper.resize(c);
    s.d.resize(c);
    s.direction.resize(c);
  }
  return s;
}

bool MarginLp::usable(int k) const {
  return k >= 0 && k < static_cast<int>(slots_.size()) && slots_[k].dual_feasible;
}

int MarginLp::num_rows(int k) const { return slots_[k].m; }

MarginLp::State MarginLp::saved(int k) const {
  const State& s = slots_[k];
  const int cols = static_cast<int>(lo_.size()) + 1 + s.m;
  State out;
  out.m = s.m;
  out.optimal = s.optimal;
  out.dual_feasible = s.dual_feasible;
  out.tableau = s.tableau.topLeftCorner(s.m, cols);
  out.basis.assign(s.basis.begin(), s.basis.begin() + s.m);
  out.status.assign(s.status.begin(), s.status.begin() + cols);
  out.z = s.z.head(cols);
  out.lower = s.lower.head(cols);
  out.upper = s.upper.head(cols);
  out.d = s.d.head(cols);
  out.direction = s.direction.head(cols);
  return out;
}

void MarginLp::load(const State& state, int k) {
  const int cols = static_cast<int>(lo_.size()) + 1 + state.m;
  State& s = slot(k, state.m, cols);
  s.m = state.m;
  s.optimal = state.optimal;
  s.dual_feasible = state.dual_feasible;
  s.tableau.topLeftCorner(state.m, cols) = state.tableau;
  std::copy(state.basis.begin(), state.basis.end(), s.basis.begin());
  std::copy(state.status.begin(), state.status.end(), s.status.begin());
  s.z.head(cols) = state.z;
  s.lower.head(cols) = state.lower;
  s.upper.head(cols) = state.upper;
  s.d.head(cols) = state.d;
  s.direction.head(cols) = state.direction;
}

// Basis change: `column` enters in `row`. The caller sets the leaving column's status, direction
// and value.
void MarginLp::pivot(State& s, int row, int column) const {
  const int cols = static_cast<int>(lo_.size()) + 1 + s.m;
  eliminate(s.tableau.data(), s.tableau.outerStride(), s.m, cols, row, column, s.d.data());
  s.d[column] = 0;
  s.basis[row] = column;
  s.status[column] = kBasic;
  s.direction[column] = 0;
}

MarginLp::Answer MarginLp::solve(const Matrix& a, const Vector& b, const Eigen::VectorXd& start,
                                 int to, double enough) {
  const int m = static_cast<int>(a.rows()), n = static_cast<int>(a.cols());
  const int cols = n + 1 + m, t_col = n;
  State& s = slot(to, m, cols);
  s.m = m;
  s.optimal = s.dual_feasible = false;
  auto lower = s.lower.head(cols), upper = s.upper.head(cols), z = s.z.head(cols);
  auto d = s.d.head(cols), direction = s.direction.head(cols);
  auto tableau = s.tableau.topLeftCorner(m, cols);
  std::vector<int>& basis = s.basis;
  std::vector<int>& status = s.status;
  lower.head(n) = lo_;
  upper.head(n) = hi_;
  // Start with x at the bound nearer `start` and t low enough that every slack is positive.
  z.setZero();
  for (int j = 0; j < n; ++j) z[j] = start[j] - lo_[j] <= hi_[j] - start[j] ? lo_[j] : hi_[j];
  const Eigen::VectorXd rest = b - a * z.head(n);
  const double t0 = rest.minCoeff() - 1;
  lower[t_col] = t0;
  upper[t_col] = (hi_ - lo_).norm() + std::abs(t0) + 1;
  z[t_col] = t0;
  for (int i = 0; i < m; ++i) {
    lower[n + 1 + i] = 0;
    upper[n + 1 + i] = kInf;
    z[n + 1 + i] = rest[i] - t0;
  }
  tableau.leftCols(n) = a;
  tableau.col(t_col).setOnes();
  tableau.rightCols(m).setIdentity();
  for (int j = 0; j < cols; ++j) status[j] = kAtLower;
  for (int j = 0; j < n; ++j) status[j] = z[j] == lo_[j] ? kAtLower : kAtUpper;
  for (int i = 0; i < m; ++i) basis[i] = n + 1 + i, status[n + 1 + i] = kBasic;
  // +1 for a nonbasic variable at its lower bound (it may rise), -1 at its upper, 0 when basic: the
  // improving reduced costs are those with d * direction > 0.
  for (int j = 0; j < cols; ++j) direction[j] = status[j] == kBasic ? 0 : status[j] == kAtLower ? 1 : -1;
  // Reduced costs of max t: d = c - c_B^T T; with slacks basic, c_B = 0.
  d.setZero();
  d[t_col] = 1;

  const double eps = 1e-11;
  int degenerate = 0;
  bool optimal = false;
  for (int iteration = 0; iteration < 50 * (m + n + 1); ++iteration) {
    // Entering column: the largest improving reduced cost (Bland's smallest index after a run of
    // degenerate steps, which rules out cycling).
    int enter = -1;
    if (degenerate > 20) {
      for (int j = 0; j < cols && enter < 0; ++j)
        if (d[j] * direction[j] > eps) enter = j;
    } else {
      Eigen::Index best = 0;
      if (d.cwiseProduct(direction).maxCoeff(&best) > eps) enter = static_cast<int>(best);
    }
    if (enter < 0) {
      optimal = true;
      break;
    }
    const double dir = status[enter] == kAtLower ? 1 : -1;
    // Ratio test: basic variable i moves by -dir * T(i, enter) per unit step.
    double step = upper[enter] - lower[enter];
    int leave = -1;
    for (int i = 0; i < m; ++i) {
      const double rate = -dir * tableau(i, enter);
      if (std::abs(rate) < 1e-12) continue;
      const int v = basis[i];
      const double room = rate > 0 ? (upper[v] - z[v]) / rate : (lower[v] - z[v]) / rate;
      if (room < step) step = std::max(room, 0.0), leave = i;
    }
    if (!std::isfinite(step)) break;  // unbounded cannot happen (t is capped); be safe
    degenerate = step < 1e-14 ? degenerate + 1 : 0;
    z[enter] += dir * step;
    for (int i = 0; i < m; ++i) z[basis[i]] -= dir * step * tableau(i, enter);
    if (leave < 0) {  // the entering variable just crossed to its other bound
      status[enter] = status[enter] == kAtLower ? kAtUpper : kAtLower;
      direction[enter] = -direction[enter];
      continue;
    }
    const int out = basis[leave];
    const double rate = -dir * tableau(leave, enter);
    pivot(s, leave, enter);
    status[out] = rate > 0 ? kAtUpper : kAtLower;
    direction[out] = status[out] == kAtUpper ? -1 : 1;
    z[out] = status[out] == kAtUpper ? upper[out] : lower[out];
  }
  // With t basic, its lower bound t0 (a start, not a constraint) can go: rows added later may
  // push the optimum below it.
  if (optimal && status[t_col] == kBasic) {
    lower[t_col] = -kInf;
    s.optimal = s.dual_feasible = true;
  }
  return certify(s, a, b, enough, -kInf);
}

bool MarginLp::resolve(int from, int to, const Matrix& a, const Vector& b, double stop_below,
                       Answer& answer, double enough, double stop_above, const Eigen::VectorXd* inside) {
  const int m = static_cast<int>(a.rows()), n = static_cast<int>(a.cols());
  const int cols = n + 1 + m;
  slot(std::max(from, to), 0, 0);  // both exist before either is referenced
  State& s = slot(to, m, cols);
  const State& f = slots_[from];
  const int m0 = f.m, cols0 = n + 1 + m0;
  s.m = m;
  s.optimal = s.dual_feasible = false;
  s.tableau.topLeftCorner(m0, cols0) = f.tableau.topLeftCorner(m0, cols0);
  s.tableau.block(0, cols0, m0, m - m0).setZero();
  std::copy(f.basis.begin(), f.basis.begin() + m0, s.basis.begin());
  std::copy(f.status.begin(), f.status.begin() + cols0, s.status.begin());
  s.z.head(cols0) = f.z.head(cols0);
  s.lower.head(cols0) = f.lower.head(cols0);
  s.upper.head(cols0) = f.upper.head(cols0);
  s.d.head(cols0) = f.d.head(cols0);
  s.direction.head(cols0) = f.direction.head(cols0);
  // Each new row a·x + t + s = b, its slack basic at s = b - a·x - t (negative where the old
  // optimum violates it), written in the nonbasic columns: minus the old rows times its
  // coefficients on their basic columns.
  auto tableau = s.tableau.topLeftCorner(m, cols);
  for (int i = m0; i < m; ++i) {
    const int column = n + 1 + i;
    tableau.row(i).setZero();
    tableau.row(i).head(n) = a.row(i);
    tableau(i, n) = 1;
    tableau(i, column) = 1;
    for (int k = 0; k < m0; ++k) {
      const double coefficient = tableau(i, s.basis[k]);
      if (coefficient != 0) tableau.row(i) -= coefficient * tableau.row(k);
    }
    s.basis[i] = column;
    s.status[column] = kBasic;
    s.direction[column] = 0;
    s.d[column] = 0;
    s.lower[column] = 0;
    s.upper[column] = kInf;
    s.z[column] = b[i] - a.row(i).dot(s.z.head(n)) - s.z[n];
  }
  if (!(stop_above < kInf)) inside = nullptr;
  if (inside) residuals_.noalias() = b - a * *inside;
  const DualEnd end = static_cast<DualEnd>(dual(s, a, b, stop_below, stop_above, inside, answer));
  if (end == kFailed) return false;
  if (end == kReached) return true;
  answer = certify(s, a, b, enough, end == kStopped ? stop_below : -kInf);
  return true;
}

// The bounded dual simplex (Koberstein, The dual simplex method, techniques for a fast and stable
// implementation, PhD thesis, Paderborn 2005, ch. 3): the row of the most infeasible basic
// variable leaves; the bound-flipping ratio test passes the breakpoints of boxed columns while the
// leaving variable stays infeasible after flipping them, so that one pivot does the work of many.
// Returns a DualEnd.
int MarginLp::dual(State& s, const Matrix& a, const Vector& b, double stop_below, double stop_above,
                   const Eigen::VectorXd* inside, Answer& answer) {
  const int n = static_cast<int>(lo_.size()), m = s.m, cols = n + 1 + m, t_col = n;
  auto tableau = s.tableau.topLeftCorner(m, cols);
  for (int iteration = 0; iteration < 50 * (m + n + 1); ++iteration) {
    // Dual steepest edge: the infeasibility squared over the squared norm of the row's B^-1,
    // which the tableau holds in the slack columns (their B was I at the start).
    int row = -1;
    double worst = 0, best = 0;
    moved_.clear();
    for (int i = 0; i < m; ++i) {
      const int v = s.basis[i];
      const double infeasibility = std::max(s.lower[v] - s.z[v], s.z[v] - s.upper[v]);
      if (!(infeasibility > kFeasibility)) continue;
      if (inside && v < n) moved_.push_back({v, s.z[v] < s.lower[v] ? infeasibility : -infeasibility});  // reach()
      // Four running sums in a fixed order: the same result whatever the row's alignment in this
      // slot, and four times the throughput of one.
      const double* b_row = &tableau(i, n + 1);
      double sum[4] = {0, 0, 0, 0};
      int j = 0;
      for (; j + 4 <= m; j += 4)
        for (int l = 0; l < 4; ++l) sum[l] += b_row[j + l] * b_row[j + l];
      for (; j < m; ++j) sum[0] += b_row[j] * b_row[j];
      const double norm = (sum[0] + sum[1]) + (sum[2] + sum[3]);
      const double score = infeasibility * infeasibility / norm;
      if (score > best) best = score, worst = infeasibility, row = i;
    }
    if (row < 0) {
      s.optimal = s.dual_feasible = s.status[t_col] == kBasic;
      return kOptimal;
    }
    // The basis is dual feasible, so t's value is an upper bound on the optimum (weak duality).
    if (s.status[t_col] == kBasic && s.z[t_col] < stop_below) return kStopped;
    // A point good enough, between `inside` and the basic solution (at the first iteration, that
    // is the parent's vertex, most often `inside` itself).
    // (t, an upper bound on the optimum, must still be above stop_above.)
    if (inside && iteration > 0 && s.status[t_col] == kBasic && s.z[t_col] > stop_above &&
        reach(s, a, b, *inside, stop_above, answer)) {
      s.dual_feasible = true;
      return kReached;
    }
    const int v = s.basis[row];
    const bool rise = s.z[v] < s.lower[v];
    double excess = worst;
    // Nonbasic j moving by `direction` changes v by -T(row, j) * direction: the candidates move v
    // towards its bound (basic columns have direction 0). Their breakpoints are |d_j| / gain_j,
    // taken in increasing order (one at a time: most rows pass only a few before one enters).
    // Written without a branch (which half the columns would mispredict): each column is stored,
    // and kept by moving on.
    if (ratio_.size() < static_cast<std::size_t>(cols)) ratio_.resize(cols), gain_.resize(cols), column_.resize(cols);
    const double sign = rise ? 1.0 : -1.0;
    const double* t_row = &tableau(row, 0);
    double* ratio = ratio_.data();
    double* gain = gain_.data();
    int* column = column_.data();
    std::size_t found = 0;
    for (int j = 0; j < cols; ++j) {
      const double g = -t_row[j] * s.direction[j] * sign;
      const double slope = -s.d[j] * s.direction[j];  // >= 0 up to rounding: clipped, (x + |x|) / 2
      ratio[found] = (slope + std::abs(slope)) * 0.5;
      gain[found] = g;
      column[found] = j;
      found += g > kPivot;
    }
    divide(ratio, gain, found);  // the candidates' breakpoints, in one vectorised pass
    flips_.clear();
    int enter = -1;
    for (std::size_t left = found; left > 0; --left) {
      const std::size_t next = first_least(ratio, left);
      const int j = column[next];
      const double room = gain[next] * (s.upper[j] - s.lower[j]);
      ratio[next] = ratio[left - 1];
      gain[next] = gain[left - 1];
      column[next] = column[left - 1];
      if (std::isfinite(room) && excess - room > kFeasibility) {
        flips_.push_back(j);
        excess -= room;
        continue;
      }
      enter = j;
      break;
    }
    if (enter < 0) return kFailed;  // no column can repair the row: not with t free
    for (int j : flips_) {
      const double step = s.direction[j] * (s.upper[j] - s.lower[j]);
      s.z[j] = s.direction[j] > 0 ? s.upper[j] : s.lower[j];
      for (int i = 0; i < m; ++i) s.z[s.basis[i]] -= tableau(i, j) * step;
      s.status[j] = s.status[j] == kAtLower ? kAtUpper : kAtLower;
      s.direction[j] = -s.direction[j];
    }
    const double target = rise ? s.lower[v] : s.upper[v];
    const double theta = (s.z[v] - target) / tableau(row, enter);
    s.z[enter] += theta;
    for (int i = 0; i < m; ++i) s.z[s.basis[i]] -= tableau(i, enter) * theta;
    pivot(s, row, enter);
    s.z[v] = target;
    s.status[v] = rise ? kAtLower : kAtUpper;
    s.direction[v] = rise ? 1 : -1;
  }
  return kFailed;
}

// The optimal vertex recomputed from the basis alone: its nonbasic x at their bounds, and the
// others and t from the rows whose slacks are nonbasic (tight), in index order, by one LU. The
// tableau's own values carry the rounding of the pivots that led there, which depend on where the
// simplex started (a warm start from the parent, or cold at the top of a task): recomputed, the
// point does not, so that the witnesses, the depths and the exported interior points are the same
// however the search was cut into tasks (when the optimal basis is unique, as for rows in general
// position).
Eigen::VectorXd MarginLp::vertex(const State& s, const Matrix& a, const Vector& b) {
  const int n = static_cast<int>(lo_.size()), m = s.m;
  Eigen::VectorXd x(n);
  free_columns_.clear();
  tight_rows_.clear();
  for (int j = 0; j < n; ++j) {
    if (s.status[j] == kBasic) {
      free_columns_.push_back(j);
      x[j] = 0;
    } else {
      x[j] = s.status[j] == kAtLower ? lo_[j] : hi_[j];
    }
  }
  for (int i = 0; i < m; ++i)
    if (s.status[n + 1 + i] != kBasic) tight_rows_.push_back(i);
  const int k = static_cast<int>(tight_rows_.size());
  if (k != static_cast<int>(free_columns_.size()) + 1) return s.z.head(n);  // t not basic: keep the tableau's
  system_.resize(k, k);
  rhs_.resize(k);
  for (int r = 0; r < k; ++r) {
    const int i = tight_rows_[r];
    for (int c = 0; c + 1 < k; ++c) system_(r, c) = a(i, free_columns_[c]);
    system_(r, k - 1) = 1;
    rhs_[r] = b[i] - a.row(i).dot(x);  // the free columns of x are 0 here
  }
  lu_.compute(system_);
  solution_ = lu_.solve(rhs_);
  if (!solution_.allFinite()) return s.z.head(n);
  for (int c = 0; c + 1 < k; ++c) x[free_columns_[c]] = solution_[c];
  return x;
}

// The residuals b_i - a_i·x along the segment from `inside` (p_i) to the basic solution clamped to
// the box (r_i) are the lines p_i + l (r_i - p_i), l in [0, 1]. Each keeps above stop_above on an
// interval of l; where the intervals meet, the walk along the lines' lower envelope finds the l of
// the largest least residual, and the point there, checked against the data, answers.
bool MarginLp::reach(const State& s, const Matrix& a, const Vector& b, const Eigen::VectorXd& inside,
                     double stop_above, Answer& answer) {
  const int n = static_cast<int>(lo_.size()), m = s.m;
  const Eigen::VectorXd& p = residuals_;
  // The basic solution's residuals are t + s_i; clamping its few basic x outside the box (moved_,
  // which dual() lists) moves them by -a_i·(clamped - x).
  // First the rows `inside` is not beyond stop_above in (the new ones): the clamped basic solution
  // must be, which most iterations' is not.
  for (int i = 0; i < m; ++i) {
    if (p[i] > stop_above) continue;
    double residual = s.z[n] + s.z[n + 1 + i];
    for (const auto& [j, moved] : moved_) residual -= moved * a(i, j);
    if (!(residual > stop_above)) return false;
  }
  mixed_.resize(m);
  for (int i = 0; i < m; ++i) mixed_[i] = s.z[n] + s.z[n + 1 + i];
  for (const auto& [j, moved] : moved_) mixed_ -= moved * a.col(j);
  const double* r = mixed_.data();
  double from = 0, to = 1;
  for (int i = 0; i < m; ++i) {
    const double above = p[i] - stop_above, slope = r[i] - p[i];  // line i - stop_above
    if (slope > 0) {
      if (above <= 0) from = std::max(from, -above / slope);
    } else if (above <= 0) {
      return false;
    } else if (slope < 0) {
      to = std::min(to, above / -slope);
    }
    if (!(from < to)) return false;
  }
  // Start at l = from on the least line (of the lines as low, the one rising slowest), and follow
  // the envelope right while it rises.
  double l = from;
  int active = 0;
  double least = kInf;
  for (int i = 0; i < m; ++i) {
    const double value = p[i] + l * (r[i] - p[i]);
    if (value < least || (value == least && r[i] - p[i] < r[active] - p[active])) least = value, active = i;
  }
  for (int step = 0; step < m; ++step) {
    const double slope = r[active] - p[active];
    if (!(slope > 0)) break;
    const double value = p[active] + l * slope;
    double next = to;
    int other = -1;
    for (int i = 0; i < m; ++i) {
      const double si = r[i] - p[i];
      if (si >= slope) continue;
      const double cross = l + (p[i] + l * si - value) / (slope - si);
      if (cross < next) next = cross, other = i;
    }
    l = std::max(l, next);
    if (other < 0) break;
    active = other;
  }
  answer.x = ((1 - l) * inside + l * s.z.head(n).cwiseMax(lo_).cwiseMin(hi_)).cwiseMax(lo_).cwiseMin(hi_);
  answer.lower = (b - a * answer.x).minCoeff();
  answer.upper = Answer().upper;
  return answer.lower > stop_above;
}

MarginLp::Answer MarginLp::certify(const State& s, const Matrix& a, const Vector& b, double enough,
                                   double stopped_below) {
  const int n = static_cast<int>(lo_.size()), m = s.m;
  Answer answer;
  answer.x = s.optimal ? vertex(s, a, b) : s.z.head(n);
  answer.x = answer.x.cwiseMax(lo_).cwiseMin(hi_);
  // Dual certificate: y from the slack columns of the reduced costs (d_s = -y), projected onto the
  // simplex; any such y bounds t from above. First when the dual simplex stopped for its bound.
  const auto dual_bound = [&] {
    y_ = (-s.d.segment(n + 1, m)).cwiseMax(0.0);
    const double total = y_.sum();
    if (!(total > 0)) return;
    y_ /= total;
    g_.noalias() = a.transpose() * y_;  // t <= y·b - min_x g·x over the box
    double bound = y_.dot(b);
    for (int j = 0; j < n; ++j) bound -= std::min(g_[j] * lo_[j], g_[j] * hi_[j]);
    answer.upper = bound;
  };
  const bool dual_first = stopped_below > -kInf && enough < kInf;
  if (dual_first) {
    dual_bound();
    if (answer.upper < stopped_below) return answer;  // `lower` stays trivial: the side is decided
  }
  // Primal certificate: recompute the margin of x from the data.
  answer.lower = (b - a * answer.x).minCoeff();
  if (!dual_first && !(answer.lower > enough)) dual_bound();
  return answer;
}

}  // namespace relutope::detail
