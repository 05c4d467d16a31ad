#include "detail/margin_lp.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace relutope::detail {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
enum Status { kBasic, kAtLower, kAtUpper };

}  // namespace

MarginLp::MarginLp(const Eigen::VectorXd& lo, const Eigen::VectorXd& hi) : lo_(lo), hi_(hi) {}

MarginLp::Answer MarginLp::solve(const Eigen::MatrixXd& a, const Eigen::VectorXd& b, const Eigen::VectorXd& start) {
  const int m = static_cast<int>(a.rows()), n = static_cast<int>(a.cols());
  // Columns: x_0..x_{n-1}, t, slacks s_0..s_{m-1};  A x + t + s = b,  s >= 0.
  const int cols = n + 1 + m, t_col = n;
  Eigen::VectorXd lower(cols), upper(cols);
  lower.head(n) = lo_;
  upper.head(n) = hi_;
  // Start with x at the bound nearer `start` and t low enough that every slack is positive.
  Eigen::VectorXd z = Eigen::VectorXd::Zero(cols);
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
  tableau_.resize(m, cols);
  tableau_.leftCols(n) = a;
  tableau_.col(t_col).setOnes();
  tableau_.rightCols(m).setIdentity();
  basis_.resize(m);
  status_.assign(cols, kAtLower);
  for (int j = 0; j < n; ++j) status_[j] = z[j] == lo_[j] ? kAtLower : kAtUpper;
  for (int i = 0; i < m; ++i) basis_[i] = n + 1 + i, status_[n + 1 + i] = kBasic;
  // +1 for a nonbasic variable at its lower bound (it may rise), -1 at its upper, 0 when basic: the
  // improving reduced costs are those with d * direction > 0.
  Eigen::VectorXd direction(cols);
  for (int j = 0; j < cols; ++j) direction[j] = status_[j] == kBasic ? 0 : status_[j] == kAtLower ? 1 : -1;
  // Reduced costs of max t: d = c - c_B^T T; with slacks basic, c_B = 0.
  Eigen::VectorXd d = Eigen::VectorXd::Zero(cols);
  d[t_col] = 1;

  const double eps = 1e-11;
  int degenerate = 0;
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
    if (enter < 0) break;
    const double dir = status_[enter] == kAtLower ? 1 : -1;
    // Ratio test: basic variable i moves by -dir * T(i, enter) per unit step.
    double step = upper[enter] - lower[enter];
    int leave = -1;
    for (int i = 0; i < m; ++i) {
      const double rate = -dir * tableau_(i, enter);
      if (std::abs(rate) < 1e-12) continue;
      const int v = basis_[i];
      const double room = rate > 0 ? (upper[v] - z[v]) / rate : (lower[v] - z[v]) / rate;
      if (room < step) step = std::max(room, 0.0), leave = i;
    }
    if (!std::isfinite(step)) break;  // unbounded cannot happen (t is capped); be safe
    degenerate = step < 1e-14 ? degenerate + 1 : 0;
    z[enter] += dir * step;
    for (int i = 0; i < m; ++i) z[basis_[i]] -= dir * step * tableau_(i, enter);
    if (leave < 0) {  // the entering variable just crossed to its other bound
      status_[enter] = status_[enter] == kAtLower ? kAtUpper : kAtLower;
      direction[enter] = -direction[enter];
      continue;
    }
    const int out = basis_[leave];
    const double pivot = tableau_(leave, enter);
    tableau_.row(leave) /= pivot;
    for (int i = 0; i < m; ++i)
      if (i != leave && tableau_(i, enter) != 0) tableau_.row(i) -= tableau_(i, enter) * tableau_.row(leave);
    d -= d[enter] * tableau_.row(leave).transpose();
    basis_[leave] = enter;
    status_[enter] = kBasic;
    direction[enter] = 0;
    const double rate = -dir * pivot;
    status_[out] = rate > 0 ? kAtUpper : kAtLower;
    direction[out] = status_[out] == kAtUpper ? -1 : 1;
    z[out] = status_[out] == kAtUpper ? upper[out] : lower[out];
  }

  Answer answer;
  // Primal certificate: recompute the margin of x from the data.
  answer.x = z.head(n).cwiseMax(lo_).cwiseMin(hi_);
  answer.lower = (b - a * answer.x).minCoeff();
  // Dual certificate: y from the slack columns of the reduced costs (d_s = -y), projected onto the
  // simplex; any such y bounds t from above.
  Eigen::VectorXd y = (-d.tail(m)).cwiseMax(0.0);
  const double total = y.sum();
  if (total > 0) {
    y /= total;
    const Eigen::VectorXd g = a.transpose() * y;  // t <= y·b - min_x g·x over the box
    double bound = y.dot(b);
    for (int j = 0; j < n; ++j) bound -= std::min(g[j] * lo_[j], g[j] * hi_[j]);
    answer.upper = bound;
  }
  return answer;
}

}  // namespace relutope::detail
