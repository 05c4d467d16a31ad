// The LP engine's dense simplex (src/detail/margin_lp.h) against GLPK on random instances.
#include "detail/margin_lp.h"

#include <gtest/gtest.h>

#include <limits>
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

namespace {

// A search path's LPs in [-0.5, 0.5]^n: the dense simplex, and the rows so far for it and for GLPK.
struct Path {
  explicit Path(int dim) : n(dim), box(relutope::Domain::cube(dim, -0.5, 0.5)), lp(box.lo, box.hi), a(0, dim), b(0) {}
  int n;
  relutope::Domain box;
  relutope::detail::MarginLp lp;
  Eigen::MatrixXd a;
  Eigen::VectorXd b;
  std::vector<lp_reference::Constraint> rows;
  // The rows and row·x <= offset (a1, b1, rows1), and GLPK's largest margin for them.
  double extended(const Eigen::VectorXd& row, double offset, Eigen::MatrixXd& a1, Eigen::VectorXd& b1,
                  std::vector<lp_reference::Constraint>& rows1) const {
    a1.resize(a.rows() + 1, n);
    b1.resize(b.size() + 1);
    a1 << a, row.transpose();
    b1 << b, offset;
    rows1 = rows;
    rows1.push_back({-row, offset});
    return lp_reference::margin(rows1, box);
  }
};

// A search path as the LP engine walks it: rows are added one at a time (a random hyperplane's side
// through the box), each LP warm-started from the tableau of the last LP kept on the path; a side
// with interior points joins the path. Every answer must certify GLPK's optimum (computed from
// scratch), and where the dual simplex ran to its end, reach it.
TEST(MarginLp, WarmStartsAlongAPathCertifyTheSameOptimumAsGlpk) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> g;
  int warm = 0, feasible = 0, infeasible = 0, stopped = 0;
  for (int trial = 0; trial < 60; ++trial) {
    Path path(2 + trial % 37);
    auto& [n, box, lp, a, b, rows] = path;
    int state = -1, next_slot = 0;
    for (int step = 0; step < 25 && a.rows() < 18; ++step) {
      Eigen::VectorXd row = Eigen::VectorXd::NullaryExpr(n, [&] { return g(rng); });
      row.normalize();
      const double offset = 0.15 * g(rng);
      Eigen::MatrixXd a1;
      Eigen::VectorXd b1;
      std::vector<lp_reference::Constraint> rows1;
      const double truth = path.extended(row, offset, a1, b1, rows1);
      const int to = next_slot++;
      relutope::detail::MarginLp::Answer answer;
      // Half the LPs may stop once their bound is below 0, as the engine's do below -tol.
      const double stop = step % 2 ? 0.0 : -std::numeric_limits<double>::infinity();
      if (lp.usable(state) && lp.resolve(state, to, a1, b1, stop, answer)) {
        ++warm;
      } else {
        answer = lp.solve(a1, b1, Eigen::VectorXd::Zero(n), to);
      }
      const bool capped = truth >= 1 - 1e-12;  // GLPK's t is capped at 1: the optimum is at least 1
      EXPECT_GE(answer.upper, truth - 1e-9) << trial << " " << step;
      if (!capped) {
        EXPECT_LE(answer.lower, truth + 1e-9) << trial << " " << step;
      }
      EXPECT_LE((b1 - a1 * answer.x).minCoeff(), answer.lower + 1e-12);
      if (lp.usable(to) && capped) {
        EXPECT_GE(answer.lower, 1 - 1e-9) << trial << " " << step;
      }
      if (lp.usable(to) && !capped) {
        EXPECT_NEAR(answer.lower, truth, 1e-9) << trial << " " << step;
        EXPECT_NEAR(answer.upper, truth, 1e-9) << trial << " " << step;
      }
      if (truth < -1e-6) {
        EXPECT_LT(answer.upper, 0) << trial << " " << step;
        ++infeasible;
        if (!lp.usable(to)) ++stopped;
        continue;
      }
      if (truth > 1e-6) {
        EXPECT_GT(answer.lower, 0) << trial << " " << step;
        ++feasible;
        a = a1;
        b = b1;
        rows = rows1;
        if (lp.usable(to)) state = to;  // else the next LP adds this row too, from the old tableau
      }
    }
  }
  EXPECT_GT(warm, 500);
  EXPECT_GT(feasible, 300);
  EXPECT_GT(infeasible, 50);
  EXPECT_GT(stopped, 20);
}

// A path where each LP may stop once a point of the segment from the witness (a point inside the
// earlier rows) to the dual simplex's basic solution reaches `stop_above`: such an answer is a
// checked point above it and below the optimum, its slot (dual feasible, not optimal) seeds the next
// LPs, and every other answer is what the LP gives without the stop.
TEST(MarginLp, StopsAtAPointAboveAMarginAndGoesOnFromThere) {
  std::mt19937_64 rng(23);
  std::normal_distribution<double> g;
  int reached = 0, optimal = 0, from_stopped = 0;
  for (int trial = 0; trial < 40; ++trial) {
    Path path(4 + trial % 35);
    auto& [n, box, lp, a, b, rows] = path;
    Eigen::VectorXd witness = Eigen::VectorXd::Zero(n);
    int state = -1, next_slot = 0;
    bool stopped_state = false;
    for (int step = 0; step < 25 && a.rows() < 18; ++step) {
      const Eigen::VectorXd row = Eigen::VectorXd::NullaryExpr(n, [&] { return g(rng); }).normalized();
      // The side away from the witness, as the engine's LPs are.
      const double at = row.dot(witness), offset = at - 0.1 * std::abs(g(rng));
      Eigen::MatrixXd a1;
      Eigen::VectorXd b1;
      std::vector<lp_reference::Constraint> rows1;
      const double truth = path.extended(row, offset, a1, b1, rows1);
      const double stop_above = 1e-3;
      const int to = next_slot++;
      relutope::detail::MarginLp::Answer answer;
      if (lp.usable(state) && lp.resolve(state, to, a1, b1, -1e-9, answer, 1e-9, stop_above, &witness)) {
        from_stopped += stopped_state;
      } else {
        answer = lp.solve(a1, b1, witness, to);
      }
      if (answer.lower > relutope::detail::MarginLp::Answer().lower) {  // not left out for a dual stop
        EXPECT_LE((b1 - a1 * answer.x).minCoeff(), answer.lower + 1e-12) << trial << " " << step;
        EXPECT_TRUE((answer.x.array() >= box.lo.array()).all() && (answer.x.array() <= box.hi.array()).all());
      }
      if (truth < 1 - 1e-12) {
        EXPECT_LE(answer.lower, truth + 1e-9) << trial << " " << step;
      }
      const bool stopped = lp.usable(to) && !lp.saved(to).optimal;
      if (stopped) {
        EXPECT_GT(answer.lower, stop_above) << trial << " " << step;
        ++reached;
      } else if (answer.lower > 1e-9 && truth < 1 - 1e-12) {
        EXPECT_NEAR(answer.lower, truth, 1e-9) << trial << " " << step;
        ++optimal;
      }
      if (truth < -1e-6) {
        EXPECT_LT(answer.upper, 0) << trial << " " << step;
      }
      if (answer.lower > 1e-9) {
        a = a1;
        b = b1;
        rows = rows1;
        witness = answer.x;
        if (lp.usable(to)) state = to, stopped_state = stopped;
      }
    }
  }
  EXPECT_GT(reached, 50);
  EXPECT_GT(optimal, 20);
  EXPECT_GT(from_stopped, 20);
}

// resolve() reads its `from` slot without changing it: two siblings started from one parent give
// what a cold start gives.
TEST(MarginLp, SiblingsStartFromTheSameParent) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> g;
  const int n = 12;
  const relutope::Domain box = relutope::Domain::cube(n, -0.5, 0.5);
  relutope::detail::MarginLp lp(box.lo, box.hi), cold(box.lo, box.hi);
  Eigen::MatrixXd a(6, n);
  Eigen::VectorXd b(6);
  for (int i = 0; i < 6; ++i) {
    const Eigen::VectorXd row = Eigen::VectorXd::NullaryExpr(n, [&] { return g(rng); }).normalized();
    a.row(i) = row.transpose();
    b[i] = 0.2;
  }
  lp.solve(a.topRows(5), b.head(5), Eigen::VectorXd::Zero(n), 0);
  ASSERT_TRUE(lp.usable(0));
  for (int sibling = 0; sibling < 2; ++sibling) {
    Eigen::MatrixXd a1 = a;
    Eigen::VectorXd b1 = b;
    if (sibling) a1.row(5) *= -1, b1[5] = -b1[5] + 0.1;
    relutope::detail::MarginLp::Answer answer;
    ASSERT_TRUE(lp.resolve(0, 1 + sibling, a1, b1, -std::numeric_limits<double>::infinity(), answer));
    const auto reference = cold.solve(a1, b1, Eigen::VectorXd::Zero(n));
    EXPECT_NEAR(answer.lower, reference.lower, 1e-9) << sibling;
    EXPECT_NEAR(answer.upper, reference.upper, 1e-9) << sibling;
    EXPECT_EQ(lp.num_rows(0), 5);
  }
}

// With `enough` finite, an answer leaves out the certificate its caller does not need: the dual
// bound of a side whose checked margin exceeds `enough`, the margin of a side the dual stop
// decided. The rest is the full answer, to the bit.
TEST(MarginLp, ADecisionLeavesOutTheCertificateItDoesNotNeed) {
  std::mt19937_64 rng(17);
  std::normal_distribution<double> g;
  const int n = 20;
  const relutope::Domain box = relutope::Domain::cube(n, -0.5, 0.5);
  relutope::detail::MarginLp lp(box.lo, box.hi);
  const double tol = 1e-9, trivial = relutope::detail::MarginLp::Answer().upper;
  Eigen::MatrixXd a(0, n);
  Eigen::VectorXd b(0);
  int state = -1, next_slot = 0, left_dual = 0, left_primal = 0;
  for (int step = 0; step < 60 && a.rows() < 16; ++step) {
    const Eigen::VectorXd row = Eigen::VectorXd::NullaryExpr(n, [&] { return g(rng); }).normalized();
    // Each step, two sides: one no point of the box is on (a·x beyond its largest value), and a
    // random one, which joins the path when it has interior points.
    for (int side = 0; side < 2; ++side) {
      Eigen::MatrixXd a1(a.rows() + 1, n);
      Eigen::VectorXd b1(b.size() + 1);
      a1 << a, (side ? row : -row).transpose();
      b1 << b, side ? 0.15 * g(rng) : -0.5 * row.lpNorm<1>() - 0.01;
      relutope::detail::MarginLp::Answer full, decision;
      const int to = next_slot;
      next_slot += 2;
      if (lp.usable(state)) {
        ASSERT_TRUE(lp.resolve(state, to, a1, b1, -tol, full));
        ASSERT_TRUE(lp.resolve(state, to + 1, a1, b1, -tol, decision, tol));
      } else {
        full = lp.solve(a1, b1, Eigen::VectorXd::Zero(n), to);
        decision = lp.solve(a1, b1, Eigen::VectorXd::Zero(n), to + 1, tol);
      }
      if (full.lower > tol) {
        EXPECT_EQ(decision.lower, full.lower) << step;
        EXPECT_EQ(decision.upper, trivial) << step;
        ++left_dual;
        a = a1;
        b = b1;
        if (lp.usable(to)) state = to;
        continue;
      }
      EXPECT_EQ(decision.upper, full.upper) << step;
      if (decision.lower == -trivial) {
        EXPECT_LT(full.upper, -tol) << step;
        ++left_primal;
      } else {
        EXPECT_EQ(decision.lower, full.lower) << step;
      }
    }
  }
  EXPECT_GT(left_dual, 5);
  EXPECT_GT(left_primal, 5);
}

}  // namespace
