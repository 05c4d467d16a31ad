// The LP engine's dense simplex (src/detail/margin_lp.h) against GLPK on random instances.
#include "detail/margin_lp.h"

#include <gtest/gtest.h>

#include <random>

#include "support/lp_reference.h"

namespace {

TEST(MarginLp, CertifiesTheSameOptimumAsGlpk) {
  std::mt19937_64 rng(9);
  std::normal_distribution<double> g;
  int feasible = 0, infeasible = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const int n = 1 + trial % 40, m = 1 + trial % 17;
    const relutope::Domain box = relutope::Domain::cube(n, 0, 1);
    Eigen::MatrixXd a(m, n);
    Eigen::VectorXd b(m);
    std::vector<lp_reference::Constraint> rows;
    for (int i = 0; i < m; ++i) {
      Eigen::VectorXd row = Eigen::VectorXd::NullaryExpr(n, [&] { return g(rng); });
      row.normalize();
      a.row(i) = row.transpose();
      b[i] = 0.3 * g(rng) + row.sum() * 0.5;  // hyperplanes through the box, more or less
      rows.push_back({-row, b[i]});           // a·x + t <= b  <=>  -a·x + b >= t
    }
    relutope::detail::MarginLp lp(box.lo, box.hi);
    const auto answer = lp.solve(a, b, Eigen::VectorXd::Constant(n, 0.5));
    const double truth = lp_reference::margin(rows, box);  // GLPK, with t capped at 1
    const bool capped = truth >= 1 - 1e-12;                 // then the true optimum is at least 1
    EXPECT_GE(answer.upper, truth - 1e-9) << trial;
    if (capped) {
      EXPECT_GE(answer.lower, 1 - 1e-9) << trial;
    } else {
      EXPECT_LE(answer.lower, truth + 1e-9) << trial;
    }
    EXPECT_LE((b - a * answer.x).minCoeff(), answer.lower + 1e-12);  // the primal point reaches `lower`
    if (truth > 1e-6 && truth < 1) {
      EXPECT_NEAR(answer.lower, truth, 1e-9) << trial;
      ++feasible;
    }
    if (truth < -1e-6) {
      EXPECT_LT(answer.upper, 0) << trial;
      ++infeasible;
    }
  }
  EXPECT_GT(feasible, 50);
  EXPECT_GT(infeasible, 20);
}

}  // namespace
