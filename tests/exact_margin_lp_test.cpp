// The exact LP (src/detail/exact_margin_lp.h) against the certified dense simplex on random
// instances, where the float margin is far from 0, and on degenerate ones where it is exactly 0.
#include "detail/exact_margin_lp.h"

#include <gtest/gtest.h>

#include <random>

#include "detail/margin_lp.h"

namespace {

using Rationals = std::vector<mpq_class>;

TEST(ExactMarginLp, AgreesWithTheFloatSimplexWhereItIsSure) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> g;
  int nonempty = 0, empty = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const int n = 1 + trial % 12, m = 1 + trial % 9;
    Eigen::MatrixXd a(m, n);
    Eigen::VectorXd b(m);
    std::vector<Rationals> qa(m, Rationals(n));
    Rationals qb(m), lo(n, -1), hi(n, 1);
    for (int i = 0; i < m; ++i) {
      Eigen::VectorXd row = Eigen::VectorXd::NullaryExpr(n, [&] { return g(rng); });
      row.normalize();
      a.row(i) = row.transpose();
      b[i] = 0.5 * g(rng) - 0.3;
      for (int j = 0; j < n; ++j) qa[i][j] = a(i, j);
      qb[i] = b[i];
    }
    relutope::detail::MarginLp lp(Eigen::VectorXd::Constant(n, -1), Eigen::VectorXd::Constant(n, 1));
    const auto answer = lp.solve(a, b, Eigen::VectorXd::Zero(n));
    const auto exact = relutope::detail::exact_interior(qa, qb, lo, hi);
    ASSERT_TRUE(exact.solved);
    if (answer.lower > 1e-9) {
      EXPECT_TRUE(exact.nonempty) << "trial " << trial;
      ++nonempty;
    } else if (answer.upper < -1e-9) {
      EXPECT_FALSE(exact.nonempty) << "trial " << trial;
      ++empty;
    }
    if (exact.nonempty) {  // the point is in the box and strictly inside every row
      ASSERT_EQ(static_cast<int>(exact.point.size()), n);
      for (int j = 0; j < n; ++j) EXPECT_TRUE(lo[j] <= exact.point[j] && exact.point[j] <= hi[j]);
      for (int i = 0; i < m; ++i) {
        mpq_class lhs = 0;
        for (int j = 0; j < n; ++j) lhs += qa[i][j] * exact.point[j];
        EXPECT_LT(lhs, qb[i]) << "trial " << trial << " row " << i;
      }
    }
  }
  EXPECT_GT(nonempty, 50);
  EXPECT_GT(empty, 50);
}

TEST(ExactMarginLp, OppositeRowsLeaveNoInterior) {
  // x0 + x1 <= 1/3 and x0 + x1 >= 1/3: a line, no interior; moved by 2^-60 apart, a sliver.
  const Rationals lo{-1, -1}, hi{1, 1};
  const std::vector<Rationals> a{{1, 1}, {-1, -1}};
  EXPECT_FALSE(relutope::detail::exact_interior(a, {mpq_class(1, 3), mpq_class(-1, 3)}, lo, hi).nonempty);
  const mpq_class tiny(1, mpz_class(1) << 60);
  const auto sliver = relutope::detail::exact_interior(a, {mpq_class(1, 3) + tiny, mpq_class(-1, 3)}, lo, hi);
  EXPECT_TRUE(sliver.nonempty);
}

}  // namespace
