#pragma once
// A small dense simplex for the LP engine's one question: how far inside all rows can a point of
// the box be?   max t  s.t.  a_i·x + t <= b_i (|a_i| = 1),  lo <= x <= hi.
// It answers with a certificate either way, so that no answer rests on the simplex having
// converged: a feasible (x, t) checked against the rows, and an upper bound on t from weak duality
// (any y >= 0 with sum y = 1 gives t <= y·b + sum_j max_{x_j in [lo_j, hi_j]} -(A^T y)_j x_j).
//
// The LP engine asks this question down a search tree, one row more per level. So the final
// tableau of a solve is kept in a numbered slot, and a child's LP starts from its parent's: the
// parent's optimal basis, with each new row's slack basic, stays dual feasible (same objective,
// more constraints), and the bounded dual simplex (with the bound-flipping ratio test) needs half
// the pivots of a cold start (64x10x10: 11 against 22 per LP), and ~4 where the new side is empty,
// as it stops once its bound is below the tolerance. Slots are the caller's stack: solve and
// resolve overwrite `to`, and read `from` without changing it.
// Private to src/.
#include <Eigen/Core>
#include <Eigen/LU>
#include <limits>
#include <utility>
#include <vector>

namespace relutope::detail {

class MarginLp {
 public:
  MarginLp(const Eigen::VectorXd& lo, const Eigen::VectorXd& hi);

  using Matrix = Eigen::Ref<const Eigen::MatrixXd>;
  using Vector = Eigen::Ref<const Eigen::VectorXd>;

  struct Answer {
    double lower = -1e300;  // a margin reached by `x` (checked)
    double upper = 1e300;   // no point of the box has a larger margin (dual certificate)
    Eigen::VectorXd x;
  };

  /// Cold start. rows: a_i stacked (m x n, unit norm, m >= 1), b: m. `start` is a point of the box
  /// to begin from. The final tableau goes to slot `to`; it can seed resolve() when it is optimal.
  /// `enough` (finite: the caller wants a decision, not both bounds): when the answer's checked
  /// margin `lower` exceeds it, its `upper` is left at 1e300 (the dual certificate is not computed).
  Answer solve(const Matrix& a, const Vector& b, const Eigen::VectorXd& start, int to = 0,
               double enough = std::numeric_limits<double>::infinity());

  /// Warm start: the first num_rows(from) rows of (a, b) must be those slot `from` was solved
  /// with; the others are added to its basis, and the dual simplex runs from there. `stop_below`:
  /// the dual simplex may stop as soon as its objective, an upper bound on t, falls below it (the
  /// answer's `upper` then certifies that). `enough` as for solve(); finite, it also leaves `lower`
  /// at -1e300 when the dual simplex stopped and `upper` is below `stop_below`.
  /// `stop_above` with `inside` (a point of the box within the first num_rows(from) rows): the
  /// dual simplex may also stop as soon as a point of the segment from `inside` to its basic
  /// solution has a checked margin above `stop_above` (the answer's `lower`; `upper` stays 1e300),
  /// short of the optimum. Slot `to` then holds a dual feasible tableau, not an optimal one, which
  /// resolve() may still start from.
  /// Returns false, with slot `to` not usable, when the dual simplex does not reach an answer
  /// within its limits (call solve() then).
  /// Requires usable(from) and from != to.
  bool resolve(int from, int to, const Matrix& a, const Vector& b, double stop_below,
               Answer& answer, double enough = std::numeric_limits<double>::infinity(),
               double stop_above = std::numeric_limits<double>::infinity(), const Eigen::VectorXd* inside = nullptr);

  /// Whether slot `k` holds a dual feasible tableau with t basic (optimal, or stopped at
  /// `stop_above`), which resolve() may start from.
  bool usable(int k) const;
  /// The number of rows slot `k` was solved with.
  int num_rows(int k) const;

  // Columns: x_0..x_{n-1}, t, then one slack per row (A x + t + s = b, s >= 0). The arrays are
  // allocated with room to spare and reused; only the first m rows and n + 1 + m columns count.
  struct State {
    int m = 0;
    bool optimal = false;
    bool dual_feasible = false;  // with t basic: optimal, or stopped at resolve()'s stop_above
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> tableau;  // B^-1 [A 1 I]
    std::vector<int> basis;   // per row, its basic column
    std::vector<int> status;  // per column: basic, at its lower or at its upper bound
    // Per column: the value, the bounds, the reduced cost of max t, and +1 / -1 / 0 for a nonbasic
    // column at its lower bound (it may rise) / at its upper / a basic one.
    Eigen::VectorXd z, lower, upper, d, direction;
  };
  /// Slot `k`'s tableau, trimmed to its size: a task carries it, so that the search below the
  /// task runs from the tableau the search from the root would have had there, and its answers
  /// (to the last bit) do not depend on how the search was cut into tasks.
  State saved(int k) const;
  /// Puts `state` (saved() of a MarginLp over the same box) into slot `k`.
  void load(const State& state, int k);

 private:
  State& slot(int k, int rows, int columns);  // with room for rows x columns
  void pivot(State& s, int row, int column) const;
  // A DualEnd (margin_lp.cpp). With `inside`, may stop at a point of margin above stop_above,
  // which goes to `answer`.
  int dual(State& s, const Matrix& a, const Vector& b, double stop_below, double stop_above,
           const Eigen::VectorXd* inside, Answer& answer);
  // Whether the best point of the segment from `inside` (its residuals b - a·inside in
  // residuals_) to the basic solution of `s` (clamped to the box) has a checked margin above
  // `stop_above`; if so, the point and its margin go to `answer`.
  bool reach(const State& s, const Matrix& a, const Vector& b, const Eigen::VectorXd& inside, double stop_above,
             Answer& answer);
  // Both certificates, but with `enough` finite, `upper` only where `lower` is not above it, and
  // where the dual simplex stopped below `stopped_below` (-inf: it did not), `upper` first and
  // `lower` only where `upper` is not below it.
  Answer certify(const State& s, const Matrix& a, const Vector& b, double enough, double stopped_below);
  Eigen::VectorXd vertex(const State& s, const Matrix& a, const Vector& b);
  Eigen::VectorXd lo_, hi_;
  std::vector<State> slots_;
  // The dual ratio test's candidates, in arrays of their own (for the vectorised passes): their
  // breakpoints |d_j| / gain, gains and columns.
  std::vector<double> ratio_, gain_;
  std::vector<int> column_;
  std::vector<int> flips_;
  // vertex()'s and certify()'s work space, reused.
  std::vector<int> free_columns_, tight_rows_;
  Eigen::MatrixXd system_;
  Eigen::PartialPivLU<Eigen::MatrixXd> lu_;
  Eigen::VectorXd rhs_, solution_, y_, g_;
  Eigen::VectorXd residuals_, mixed_;  // reach()'s
  std::vector<std::pair<int, double>> moved_;  // reach()'s basic x outside the box: column, clamp
};

}  // namespace relutope::detail
