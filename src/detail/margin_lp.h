#pragma once
// A small dense simplex for the LP engine's one question: how far inside all rows can a point of
// the box be?   max t  s.t.  a_i·x + t <= b_i (|a_i| = 1),  lo <= x <= hi.
// It answers with a certificate either way, so that no answer rests on the simplex having
// converged: a feasible (x, t) checked against the rows, and an upper bound on t from weak duality
// (any y >= 0 with sum y = 1 gives t <= y·b + sum_j max_{x_j in [lo_j, hi_j]} -(A^T y)_j x_j).
// Private to src/.
#include <Eigen/Core>
#include <vector>

namespace relutope::detail {

class MarginLp {
 public:
  MarginLp(const Eigen::VectorXd& lo, const Eigen::VectorXd& hi);

  struct Answer {
    double lower = -1e300;  // a margin reached by `x` (checked)
    double upper = 1e300;   // no point of the box has a larger margin (dual certificate)
    Eigen::VectorXd x;
  };

  // rows: a_i stacked (m x n, unit norm), b: m. `start` is a point of the box to begin from.
  Answer solve(const Eigen::MatrixXd& a, const Eigen::VectorXd& b, const Eigen::VectorXd& start);

 private:
  Eigen::VectorXd lo_, hi_;
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> tableau_;  // rows are what pivots update
  std::vector<int> basis_, status_;
  Eigen::VectorXd value_;
};

}  // namespace relutope::detail
