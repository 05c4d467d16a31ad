#include "relutope/slice.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <random>

#include "relutope/enumerate.h"
#include "relutope/error.h"
#include "relutope/io.h"
#include "relutope/random_network.h"
#include "support/brute_force.h"
#include "support/data_path.h"
#include "support/lp_reference.h"

namespace {

using relutope::Domain;
using relutope::Network;

std::string example_path(const std::string& name) { return data_path("../../examples/" + name); }

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

TEST(Slice, ComposedNetworkEqualsTheNetworkOnTheSlice) {
  const Network net = relutope::random_network(5, {6, 6}, 3, 80);
  std::mt19937_64 rng(1);
  std::normal_distribution<double> g;
  Eigen::VectorXd p[3];
  for (auto& q : p) q = Eigen::VectorXd::NullaryExpr(5, [&] { return g(rng); });
  const relutope::Slice plane = relutope::plane_through(p[0], p[1], p[2]);
  const relutope::Slice line = relutope::line_through(p[0], p[1]);
  EXPECT_NEAR((plane.basis.transpose() * plane.basis - Eigen::Matrix2d::Identity()).norm(), 0, 1e-12);
  for (const relutope::Slice& s : {plane, line}) {
    const Network composed = relutope::compose(net, s);
    for (int k = 0; k < 20; ++k) {
      const Eigen::VectorXd u = Eigen::VectorXd::NullaryExpr(s.dim(), [&] { return g(rng); });
      EXPECT_LT((composed.evaluate(u) - net.evaluate(s.to_input(u))).norm(), 1e-12);
    }
  }
  EXPECT_THAT([&] { relutope::plane_through(p[0], p[1], 2 * p[1] - p[0]); },
              testing::ThrowsMessage<relutope::InputError>(testing::HasSubstr("collinear")));
}

TEST(Slice, APlaneThroughThreePointsOfA2DNetworkCountsLikeTheTriangle) {
  // In 2-D the plane is the input plane itself: the slice's triangle and the same triangle given as
  // an H-polytope in input coordinates must hold the same regions.
  const Network net = relutope::random_network(2, {8, 8}, 1, 81);
  const Eigen::Vector2d a(-0.9, -0.7), b(0.8, -0.5), c(0.1, 0.9);
  const relutope::Slice plane = relutope::plane_through(a, b, c);
  const Domain on_plane = relutope::triangle_domain(plane, a, b, c);
  const auto sliced = relutope::count_regions(relutope::compose(net, plane), on_plane).num_regions;
  Domain triangle = Domain::box(a.cwiseMin(b).cwiseMin(c), a.cwiseMax(b).cwiseMax(c));
  for (const auto& [p, q, r] : {std::tuple{a, b, c}, std::tuple{b, c, a}, std::tuple{c, a, b}}) {
    relutope::Halfspace h;
    h.a = Eigen::Vector2d(q.y() - p.y(), p.x() - q.x());
    h.b = h.a.dot(p);
    if (h.a.dot(r) > h.b) h.a = -h.a, h.b = -h.b;
    triangle.extra.push_back(h);
  }
  for (relutope::Engine engine : {relutope::Engine::kVertex, relutope::Engine::kLp}) {
    relutope::EnumerateOptions options;
    options.engine = engine;
    EXPECT_EQ(relutope::count_regions(net, triangle, options).num_regions, sliced);
  }
  EXPECT_GT(sliced, 10u);
}

TEST(Slice, AlongALineThePiecesAreTheSignChangesOfTheNeurons) {
  const Network net = relutope::random_network(6, {8, 8, 8}, 1, 82);
  const Eigen::VectorXd a = Eigen::VectorXd::Constant(6, -1.5), b = Eigen::VectorXd::LinSpaced(6, 2, 0.5);
  const relutope::Slice line = relutope::line_through(a, b);
  const Network along = relutope::compose(net, line);
  relutope::EnumerateOptions options;
  options.with_vertices = true;
  std::vector<double> breaks;
  const auto regions = relutope::enumerate_regions(along, Domain::cube(1, 0, 1), options);
  for (const auto& r : regions)
    for (const auto& v : r.vertices)
      if (v[0] > 0 && v[0] < 1) breaks.push_back(v[0]);
  std::sort(breaks.begin(), breaks.end());
  breaks.erase(std::unique(breaks.begin(), breaks.end()), breaks.end());
  ASSERT_EQ(breaks.size() + 1, regions.size());
  // Dense sampling of the patterns along the segment, then bisection of every change to 1e-13.
  const int samples = 200000;
  std::vector<double> changes;
  std::string previous = brute_force::pattern_at(along, Eigen::VectorXd::Zero(1));
  for (int s = 1; s <= samples; ++s) {
    const double t = static_cast<double>(s) / samples;
    const std::string now = brute_force::pattern_at(along, Eigen::VectorXd::Constant(1, t));
    if (now == previous) continue;
    double lo = t - 1.0 / samples, hi = t;
    while (hi - lo > 1e-13) {
      const double mid = (lo + hi) / 2;
      (brute_force::pattern_at(along, Eigen::VectorXd::Constant(1, mid)) == previous ? lo : hi) = mid;
    }
    changes.push_back((lo + hi) / 2);
    previous = now;
  }
  ASSERT_EQ(changes.size(), breaks.size());
  for (std::size_t i = 0; i < breaks.size(); ++i) EXPECT_NEAR(breaks[i], changes[i], 1e-9);
}

TEST(Slice, HighDimensionalCountAgreesWithAPlainLpReferenceAndSampling) {
  const Network net = relutope::random_network(64, {5, 4}, 2, 83);
  const Domain box = Domain::cube(64, 0, 1);
  std::set<std::string> found;
  relutope::enumerate_regions(net, box, {}, [&](const relutope::Region& r) {
    std::string p;
    for (auto bit : r.pattern) p += bit ? '1' : '0';
    found.insert(p);
  });
  EXPECT_EQ(found, lp_reference::patterns(net, box));
  for (const std::string& p : brute_force::sampled_patterns(net, box, 20000, 5)) EXPECT_TRUE(found.count(p)) << p;
}

TEST(Points, CsvAndNpyGiveTheSameDigits) {
  const Eigen::MatrixXd csv = relutope::load_points(example_path("digits_test.csv"));
  const Eigen::MatrixXd npy = relutope::load_points(example_path("digits_test.npy"));
  EXPECT_EQ(csv.rows(), 20);
  EXPECT_EQ(csv.cols(), 64);
  EXPECT_EQ(csv, npy);
  EXPECT_THAT([] { relutope::load_points(write_temp("ragged.csv", "1,2\n3\n")); },
              testing::ThrowsMessage<relutope::InputError>(testing::HasSubstr("ragged.csv:2: expected 2 values, got 1")));
  EXPECT_THAT([] { relutope::load_points(write_temp("word.csv", "x,y\n1,2\n3,z\n")); },
              testing::ThrowsMessage<relutope::InputError>(testing::HasSubstr("word.csv:3: field 1 is not a number")));
  EXPECT_EQ(relutope::load_points(write_temp("header.csv", "x,y\n1,2\n3,4\n")).rows(), 2);
}

// Issue 8: points files. Each bad file has one defect; before, some loaded silently wrong (an empty CSV
// field vanished), one threw std::bad_alloc (an absurd .npy shape), one allocated 4 GB (a header length).
std::function<void()> loading_points(const std::string& name) {
  return [name] { relutope::load_points(data_path(name)); };
}

testing::Matcher<std::function<void()>> PointsErrorNaming(const std::string& name, const std::string& part) {
  return testing::ThrowsMessage<relutope::InputError>(testing::AllOf(testing::HasSubstr(data_path(name)), testing::HasSubstr(part)));
}

TEST(Issue8Points, NpyInFortranOrderBigEndianAndCsvAgree) {
  const Eigen::MatrixXd c_order = relutope::load_points(data_path("points.npy"));
  ASSERT_EQ(c_order.rows(), 5);
  ASSERT_EQ(c_order.cols(), 3);
  EXPECT_EQ(relutope::load_points(data_path("points_fortran.npy")), c_order);
  EXPECT_EQ(relutope::load_points(data_path("points_big_endian.npy")), c_order);
  EXPECT_EQ(relutope::load_points(data_path("points.csv")), c_order);  // repr() round-trips exactly
}

TEST(Issue8Points, CsvDefectsAreNamedByLineAndField) {
  EXPECT_THAT(loading_points("bad/points_nan.csv"), PointsErrorNaming("bad/points_nan.csv", "points_nan.csv:3: field 0 is NaN"));
  EXPECT_THAT(loading_points("bad/points_empty_field.csv"), PointsErrorNaming("bad/points_empty_field.csv", "points_empty_field.csv:1: field 1 is empty"));
  EXPECT_THAT(loading_points("bad/points_half_header.csv"),
              PointsErrorNaming("bad/points_half_header.csv", "points_half_header.csv:1: field 2 is not a number: \"x\""));
}

TEST(Issue8Points, CsvSkipsCommentsBlankLinesAndAHeaderAndReadsSpaces) {
  const Eigen::MatrixXd m = relutope::load_points(write_temp("spaces.csv", "# made by np.savetxt\nx y\n\n1 2\n  3\t4 \n"));
  EXPECT_EQ(m, (Eigen::MatrixXd(2, 2) << 1, 2, 3, 4).finished());
  EXPECT_THAT([] { relutope::load_points(write_temp("inf.csv", "1;1e999\n")); },
              testing::ThrowsMessage<relutope::InputError>(testing::HasSubstr("inf.csv:1: field 1 is infinite")));
  EXPECT_THAT([] { relutope::load_points(write_temp("only_header.csv", "x,y\n")); },
              testing::ThrowsMessage<relutope::InputError>(testing::HasSubstr("only_header.csv: no points")));
}

TEST(Issue8Points, NpyDefectsAreNamed) {
  EXPECT_THAT(loading_points("bad/points_nan.npy"), PointsErrorNaming("bad/points_nan.npy", "point 1, coordinate 0 is NaN"));
  EXPECT_THAT(loading_points("bad/points_3d.npy"), PointsErrorNaming("bad/points_3d.npy", "expected a 2-D array (points x coordinates), got shape (2, 2, 2)"));
  EXPECT_THAT(loading_points("bad/points_complex.npy"), PointsErrorNaming("bad/points_complex.npy", ".npy dtype '<c16' is not supported"));
  EXPECT_THAT(loading_points("bad/points_object.npy"), PointsErrorNaming("bad/points_object.npy", ".npy dtype '|O' is not supported"));
  EXPECT_THAT(loading_points("bad/points_structured.npy"), PointsErrorNaming("bad/points_structured.npy", "a structured dtype is not supported"));
  EXPECT_THAT(loading_points("bad/points_truncated.npy"),
              PointsErrorNaming("bad/points_truncated.npy", "shape (4, 2) of '<f8' needs 64 bytes of data, the file holds 59 (truncated file?)"));
}

TEST(Issue8Points, AbsurdNpyShapesAndHeaderLengthsAreCheckedBeforeAllocating) {
  EXPECT_THAT(loading_points("bad/points_huge_shape.npy"),
              PointsErrorNaming("bad/points_huge_shape.npy", "shape (1000000000000, 1000000000000) of '<f8' needs more than 2^64 bytes"));
  EXPECT_THAT(loading_points("bad/points_huge_header.npy"),
              PointsErrorNaming("bad/points_huge_header.npy", "the header says it is 4294967280 bytes long, the file has 146 bytes"));
}

// Found by fuzzing (tests/fuzz, points_npy): before, both headers ended in std::stol's std::invalid_argument,
// "internal error: stol" and exit 3 from the CLI.
TEST(Issue8Points, NpyHeadersFoundByFuzzingAreInputErrors) {
  EXPECT_THAT(loading_points("bad/points_no_shape.npy"),
              PointsErrorNaming("bad/points_no_shape.npy", "not a valid .npy header (unexpected key 'sahpe')"));
  EXPECT_THAT(loading_points("bad/points_shape_not_numbers.npy"),
              PointsErrorNaming("bad/points_shape_not_numbers.npy", "shape: expected a non-negative integer at byte 51"));
}

// Issue 8: polytope domains. Every problem in one message, keys checked as in models.
std::function<void()> loading_domain(const std::string& name) {
  return [name] { relutope::load_polytope_domain(data_path(name)); };
}

TEST(Issue8PolytopeDomain, DefectsAreNamedByField) {
  EXPECT_THAT(loading_domain("bad/domain_unknown_key.json"),
              PointsErrorNaming("bad/domain_unknown_key.json", "top level: unknown key \"B\" (did you mean \"b\"?); allowed keys: A, b, lo, hi"));
  EXPECT_THAT(loading_domain("bad/domain_unknown_key.json"), testing::ThrowsMessage<relutope::InputError>(testing::Not(testing::HasSubstr("missing"))));
  EXPECT_THAT(loading_domain("bad/domain_empty.json"), PointsErrorNaming("bad/domain_empty.json", "A: expected a non-empty array of non-empty rows"));
  EXPECT_THAT(loading_domain("bad/domain_zero_columns.json"), PointsErrorNaming("bad/domain_zero_columns.json", "A: expected a non-empty array of non-empty rows, got [[]]"));
  EXPECT_THAT(loading_domain("bad/domain_string.json"), PointsErrorNaming("bad/domain_string.json", "A[1][1]: expected a number, got \"0\""));
  EXPECT_THAT(loading_domain("bad/domain_nan.json"), PointsErrorNaming("bad/domain_nan.json", "domain_nan.json:1: not valid JSON (JSON has no NaN or Infinity"));
  EXPECT_THAT(loading_domain("bad/domain_lo_only.json"), PointsErrorNaming("bad/domain_lo_only.json", "\"lo\" and \"hi\" go together"));
}

TEST(Digits, TheTrainedClassifierReproducesPyTorchsLogits) {
  const Network net = relutope::load_network(example_path("digits_64_10_10.onnx"));
  const Eigen::MatrixXd x = relutope::load_points(example_path("digits_test.csv"));
  const Eigen::MatrixXd logits = relutope::load_points(example_path("digits_test_logits.csv"));
  for (Eigen::Index i = 0; i < x.rows(); ++i)
    EXPECT_LT((net.evaluate(x.row(i).transpose()) - logits.row(i).transpose()).cwiseAbs().maxCoeff(), 1e-4);
}

TEST(PolytopeDomain, IsBoundedByLpAndRejectsEmptyOrUnboundedOnes) {
  const Domain d = relutope::load_polytope_domain(write_temp("tri.json", R"({"A": [[-1,0],[0,-1],[1,1]], "b": [0,0,1]})"));
  EXPECT_NEAR((d.lo - Eigen::Vector2d(0, 0)).norm(), 0, 1e-12);
  EXPECT_NEAR((d.hi - Eigen::Vector2d(1, 1)).norm(), 0, 1e-12);
  const Network net = relutope::random_network(2, {4}, 1, 1);
  EXPECT_GE(relutope::count_regions(net, d).num_regions, 1u);
  EXPECT_THAT([] { relutope::load_polytope_domain(write_temp("open.json", R"({"A": [[-1,0],[0,-1]], "b": [0,0]})")); },
              testing::ThrowsMessage<relutope::InputError>(testing::HasSubstr("unbounded in coordinate 0")));
  EXPECT_THAT([] { relutope::load_polytope_domain(write_temp("none.json", R"({"A": [[1,0],[-1,0]], "b": [0,-1]})")); },
              testing::ThrowsMessage<relutope::InputError>(testing::HasSubstr("empty")));
  EXPECT_THAT([] { relutope::load_polytope_domain(write_temp("short.json", R"({"A": [[1,0]], "b": [0, 1]})")); },
              testing::ThrowsMessage<relutope::InputError>(testing::HasSubstr("b: expected 1 numbers, got 2")));
}

}  // namespace
