// The plane walker against truths it shares no code with: the exact rational polygon clipping of
// tests/support/exact_reference.h over the lowered (dense) network, and counts of the dense engines.
#include "relutope/plane_walk.h"

#include <gmpxx.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <string>

#include "detail/affine_dd.h"
#include "relutope/counting_domain.h"
#include "relutope/enumerate.h"
#include "relutope/error.h"
#include "relutope/graph.h"
#include "relutope/network.h"
#include "relutope/slice.h"
#include "support/exact_reference.h"
#include "support/graphs.h"

namespace relutope {
namespace {

using Q = mpq_class;

const std::string kData = std::string(RELUTOPE_TEST_DATA_DIR) + "/segment/";
const std::string kExamples = std::string(RELUTOPE_TEST_DATA_DIR) + "/../../examples/";

// The exact count on x = p0 + s (p1 - p0) + t (p2 - p0), s, t >= 0, s + t <= scale, of the lowered network.
std::size_t exact_count(const Network& net, const Eigen::VectorXd& p0, const Eigen::VectorXd& p1, const Eigen::VectorXd& p2,
                        double scale = 1) {
  const reference::Polygon shape = {{Q(0), Q(0)}, {Q(scale), Q(0)}, {Q(0), Q(scale)}};
  std::vector<std::vector<Q>> input;
  for (Eigen::Index k = 0; k < p0.size(); ++k) input.push_back({Q(p1[k]) - Q(p0[k]), Q(p2[k]) - Q(p0[k]), Q(p0[k])});
  return reference::patterns_on(net, shape, input).size();
}

Eigen::VectorXd row(const Eigen::MatrixXd& points, int i, Eigen::Index dim) { return points.row(i).head(dim).transpose(); }

// The count of the dense engines: the lowered network composed with the plane through three rows of
// `points` (on_plane), on the triangle, vertex engine.
std::int64_t dense_count(const Network& net, const Eigen::MatrixXd& points, std::array<Eigen::Index, 3> rows) {
  const CountingDomain where = on_plane(net, points, rows);
  EnumerateOptions options;
  options.engine = Engine::kVertex;
  return static_cast<std::int64_t>(count_regions(where.net, where.domain, options).num_regions);
}

// Against the dense engines on whole triangles, and against the exact rational reference on small
// triangles near a point (its rational polygon clipping is too slow for whole ones).
void expect_matches_references(const std::string& model, const std::vector<std::array<int, 3>>& triangles) {
  const Graph graph = load_graph_onnx(kData + model);
  const Network net = lower_to_network(graph);
  const Eigen::MatrixXd all = load_points(kData + "points.npy");
  const Eigen::MatrixXd points = all.leftCols(graph.input_dim());
  std::int64_t total = 0;
  for (auto [i, j, k] : triangles) {
    SCOPED_TRACE(model + " triangle " + std::to_string(i) + "," + std::to_string(j) + "," + std::to_string(k));
    const Eigen::VectorXd a = row(points, i, graph.input_dim()), b = row(points, j, graph.input_dim()),
                          c = row(points, k, graph.input_dim());
    const PlaneRegions walked = regions_in_triangle(graph, a, b, c);
    EXPECT_TRUE(walked.complete);
    EXPECT_GT(walked.least_margin, 1.0);
    EXPECT_EQ(walked.regions, dense_count(net, points, {i, j, k}));
    const double scale = 1.0 / 32;
    const PlaneRegions near = regions_in_triangle(graph, a, b, c, scale);
    EXPECT_EQ(near.regions, static_cast<std::int64_t>(exact_count(net, a, b, c, scale)));
    EXPECT_GT(near.regions, 3);
    total += walked.regions;
  }
  EXPECT_GT(total, 10000 * static_cast<std::int64_t>(triangles.size()))
      << "triangles this large cross many units; the test would be weak otherwise";
}

TEST(PlaneWalk, ResidualCnnWithBatchNormMaxPoolAndHardtanhMatchesTheReferences) {
  expect_matches_references("cnn_residual.onnx", {{0, 1, 2}, {3, 6, 7}});
}

TEST(PlaneWalk, OverlappingMaxPoolAndRelu6MatchTheReferences) { expect_matches_references("cnn_pool3.onnx", {{3, 6, 7}}); }

// The digits CNN of the README on the triangles through test images: the counts of the dense engines
// (vertex, on the lowered network; the README's picture) and of the exact reference.
TEST(PlaneWalk, DigitsCnnMatchesTheDenseEnginesAndTheExactReference) {
  const Graph graph = load_graph_onnx(kExamples + "digits_cnn.onnx");
  const Eigen::MatrixXd points = load_points(kExamples + "digits_test.csv");
  const Eigen::VectorXd p0 = points.row(0).transpose(), p5 = points.row(5).transpose(), p17 = points.row(17).transpose();
  const PlaneRegions walked = regions_in_triangle(graph, p0, p5, p17);
  EXPECT_EQ(walked.regions, 7005);
  const Network net = lower_to_network(graph);
  EXPECT_EQ(walked.regions, dense_count(net, points, {0, 5, 17}));
  const double scale = 1.0 / 64;
  EXPECT_EQ(regions_in_triangle(graph, p0, p5, p17, scale).regions,
            static_cast<std::int64_t>(exact_count(net, p0, p5, p17, scale)));
  EXPECT_EQ(regions_in_triangle(graph, p0, points.row(1).transpose(), points.row(2).transpose()).regions, 3858);
}

TEST(PlaneWalk, SameCountForAnyNumberOfThreads) {
  const Graph graph = load_graph_onnx(kData + "cnn_residual.onnx");
  const Eigen::MatrixXd points = load_points(kData + "points.npy");
  const Eigen::VectorXd a = row(points, 2, graph.input_dim()), b = row(points, 5, graph.input_dim()),
                        c = row(points, 1, graph.input_dim());
  PlaneOptions one, two, three;
  one.threads = 1;
  two.threads = 2;
  three.threads = 3;
  const PlaneRegions single = regions_in_triangle(graph, a, b, c, 0.5, one);
  EXPECT_GT(single.regions, 1000);
  EXPECT_EQ(regions_in_triangle(graph, a, b, c, 0.5, two).regions, single.regions);
  EXPECT_EQ(regions_in_triangle(graph, a, b, c, 0.5, three).regions, single.regions);
}

using graphs::max_of_matmul;
using graphs::relu_of_matmul;

// z = x1 - x2 through the corner (1, 1) of the triangle, where 1 - 1 is exactly 0 but within the
// error bound of a computed dot product: the exact value at the corner decides (a unit at its
// breakpoint at a data point is no tie).
TEST(PlaneWalk, AUnitExactlyAtItsBreakpointAtACornerIsDecidedExactly) {
  Eigen::MatrixXd w(2, 1);
  w << 1, -1;
  const Graph g = relu_of_matmul(w);
  const Eigen::Vector2d corner(1, 1);
  // z >= 0 on the whole triangle, 0 at the corner only: one region.
  EXPECT_EQ(regions_in_triangle(g, corner, Eigen::Vector2d(2, 1), Eigen::Vector2d(2, 0)).regions, 1);
  // z < 0 on the whole triangle but the corner.
  EXPECT_EQ(regions_in_triangle(g, corner, Eigen::Vector2d(1, 2), Eigen::Vector2d(0, 2)).regions, 1);
  // The line z = 0 leaves the corner into the triangle: two regions.
  EXPECT_EQ(regions_in_triangle(g, corner, Eigen::Vector2d(2, 1), Eigen::Vector2d(1, 2)).regions, 2);
  // The line z = 0 is an edge of the triangle (through two corners): one region either side.
  EXPECT_EQ(regions_in_triangle(g, corner, Eigen::Vector2d(2, 2), Eigen::Vector2d(2, 0)).regions, 1);
  EXPECT_EQ(regions_in_triangle(g, corner, Eigen::Vector2d(2, 2), Eigen::Vector2d(0, 2)).regions, 1);
}

// relu(W x + b) then Max windows over its outputs: where several ReLUs are 0 on a whole cell their
// lines are identical (all zero) and must not split it; the lowest index is the state.
Graph max_over_relus() {
  Eigen::MatrixXd w(2, 5);
  w << 1, -1, 0.5, 2, -0.25,  //
      0.3, 1, -1, -0.5, 0.7;
  Eigen::VectorXd b(5);
  b << 0.1, -0.2, 0.05, -0.6, 0.3;
  Graph g = relu_of_matmul(w, b);
  GraphNode max;
  max.kind = OpKind::kMax;
  max.name = "pool";
  max.op_type = "MaxPool";
  max.inputs = {2};
  // Windows {0, 1, 2}, {1, 2, 3, 4}, {0, 3}, {2, 4}.
  max.rows.start = {0, 3, 7, 9, 11};
  max.rows.index = {0, 1, 2, 1, 2, 3, 4, 0, 3, 2, 4};
  max.shape = {1, 4};
  // An elementwise Max of the pool with itself: its inputs are identical everywhere.
  GraphNode same;
  same.kind = OpKind::kMax;
  same.name = "max_same";
  same.op_type = "Max";
  same.inputs = {3, 3};
  same.rows.start = {0, 2, 4, 6, 8};
  same.rows.index = {0, 4, 1, 5, 2, 6, 3, 7};
  same.shape = {1, 4};
  g.nodes.push_back(max);
  g.nodes.push_back(same);
  g.output = 4;
  return g;
}

TEST(PlaneWalk, MaxOfTiedInputsMatchesExactReference) {
  const Graph g = max_over_relus();
  const Network net = lower_to_network(g);
  const Eigen::Vector2d a(-1.5, -1.25), b(1.75, -1), c(0.25, 1.5);
  const PlaneRegions walked = regions_in_triangle(g, a, b, c);
  EXPECT_EQ(walked.regions, static_cast<std::int64_t>(exact_count(net, a, b, c)));
  EXPECT_GT(walked.regions, 10);
  // A domain given as a polygon directly: the square [-1, 1]^2 of the input plane.
  const PlaneRegions square = regions_on_plane(g, Eigen::Vector2d(0, 0), Eigen::Matrix2d::Identity(), Eigen::MatrixXd(),
                                               {Eigen::Vector2d(-1, -1), Eigen::Vector2d(1, -1), Eigen::Vector2d(1, 1),
                                                Eigen::Vector2d(-1, 1)});
  EXPECT_EQ(square.regions, static_cast<std::int64_t>(reference::patterns(net, {-1, -1}, {1, 1}).size()));
}

// z1 = a x1 and z2 = a x1 + 2^-200 x2 (a = 1 + 2^-52), then one Max window over them: the window
// changes state where x2 = 0, but 2^-200 x2 is lost in the rounding of the low word of a x1, so the
// two are computed to the same bits on the whole plane. Taken as one function (a tie) they would give
// one region, silently wrong; the bounds cannot separate them: no count. With duplicated weights they
// are one function, proven from the graph: one region.
TEST(PlaneWalk, IdenticalBitsOfTwoFunctionsAreNoTieUnlessProven) {
  Eigen::MatrixXd w(2, 2);
  w << 1 + 0x1p-52, 1 + 0x1p-52,  //
      0, 0x1p-200;
  const Eigen::Vector2d a(0.1, -0.3), b(0.7, 0.9), c(-0.5, 0.6);
  for (const bool twins : {false, true}) {
    SCOPED_TRACE(twins ? "duplicated weights" : "different functions");
    if (twins) w(1, 1) = 0;
    const Graph g = max_of_matmul(w);
    detail::DdFamily x, y;
    x.hi.resize(2, 3);
    x.hi << a, b - a, c - a;
    x.lo = Eigen::MatrixXd::Zero(2, 3);
    detail::apply_affine_dd(g.nodes[1], {&x}, y);
    ASSERT_TRUE(y.hi.row(0) == y.hi.row(1) && y.lo.row(0) == y.lo.row(1)) << "the test needs the same bits";
    const std::size_t exact = exact_count(lower_to_network(g), a, b, c);
    EXPECT_EQ(exact, twins ? 1u : 2u);
    if (twins)
      EXPECT_EQ(regions_in_triangle(g, a, b, c).regions, 1);
    else
      EXPECT_THROW(regions_in_triangle(g, a, b, c), UncertifiedError);
  }
}

// PRelu (one slope per value) or LeakyRelu (one slope) of W x + b, then Max windows over its outputs.
// The zero lines of values 0 and 1 cross inside the triangle, and the line where window {0, 1} changes
// state, a_0 z_0 = a_1 z_1 on the slope sides, passes exactly through that crossing, where floating
// point cannot tell its value from zero: the walk must know that a_i z_i vanishes where z_i does
// (before, it exited with "cannot certify", even after recomputing in triple-double).
Graph max_over_prelus(const Eigen::VectorXd& slope) {
  Eigen::MatrixXd w(2, 3);
  w << 0.3, -0.45, 0.35,  //
      0.7, 0.6, -0.9;
  Eigen::VectorXd b(3);
  b << -0.11, 0.05, 0.13;
  Graph g = relu_of_matmul(w, b);
  g.nodes[2].op_type = slope.size() == 1 ? "LeakyRelu" : "PRelu";
  g.nodes[2].slope = slope;
  GraphNode max;
  max.kind = OpKind::kMax;
  max.name = "pool";
  max.op_type = "MaxPool";
  max.inputs = {2};
  // Windows {0, 1}, {0, 1, 2}, {1, 2}.
  max.rows.start = {0, 2, 5, 7};
  max.rows.index = {0, 1, 0, 1, 2, 1, 2};
  max.shape = {1, 3};
  g.nodes.push_back(max);
  g.output = 3;
  return g;
}

TEST(PlaneWalk, MaxOfPReluAndLeakyReluOutputsMeetingAtTheirZeroCrossingIsDecidedExactly) {
  const Eigen::Vector2d a(-2, -2.5), b(3.25, -1.5), c(-0.75, 3);
  const std::vector<Eigen::VectorXd> slopes = {Eigen::Vector3d(0.25, 0.1, 0.3), Eigen::VectorXd::Constant(1, 0.01),
                                               Eigen::Vector3d(-0.5, 0.2, 2)};
  for (const Eigen::VectorXd& slope : slopes) {
    SCOPED_TRACE("slopes " + std::to_string(slope[0]));
    const Graph g = max_over_prelus(slope);
    const Network net = lower_to_network(g);
    const PlaneRegions walked = regions_in_triangle(g, a, b, c);
    EXPECT_EQ(walked.regions, static_cast<std::int64_t>(exact_count(net, a, b, c)));
    EXPECT_GT(walked.regions, 6);
    for (int threads : {1, 2}) {
      PlaneOptions options;
      options.threads = threads;
      EXPECT_EQ(regions_on_plane(g, Eigen::Vector2d(0, 0), Eigen::Matrix2d::Identity(), Eigen::MatrixXd(),
                                 {Eigen::Vector2d(-1, -1), Eigen::Vector2d(1, -1), Eigen::Vector2d(1, 1), Eigen::Vector2d(-1, 1)},
                                 options)
                    .regions,
                static_cast<std::int64_t>(reference::patterns(net, {-1, -1}, {1, 1}).size()));
    }
  }
}

// relu(W x) with a first clean line z0 = x_last - 1/4 = s - 1/4, so that the second is tested at
// vertices that are no corners of the domain (at the corners, exact values decide).
PlaneRegions two_lines(const Eigen::VectorXd& second, const Eigen::VectorXd& origin, const Eigen::MatrixXd& directions) {
  const Eigen::Index d = second.size() + 1;
  Eigen::MatrixXd w = Eigen::MatrixXd::Zero(d, 2);
  w(d - 1, 0) = 1;
  w.col(1).head(d - 1) = second;
  Eigen::VectorXd x0(d);
  x0 << origin, 0;
  Eigen::MatrixXd dirs = Eigen::MatrixXd::Zero(d, 2);
  dirs.topRows(d - 1) = directions;
  dirs(d - 1, 0) = 1;
  PlaneOptions options;
  options.threads = 1;
  return regions_on_plane(relu_of_matmul(w, Eigen::Vector2d(-0.25, 0)), x0, dirs, Eigen::MatrixXd(),
                          {Eigen::Vector2d(0, 0), Eigen::Vector2d(1, 0), Eigen::Vector2d(0, 1)}, options);
}

TEST(PlaneWalk, TripleDoubleDecidesWhereDoubleDoubleBoundsCannot) {
  // z = 1e33 x1 + x2 - 1e33 x3 at (1, 0.5 - s + t / 4, 1) is 0.5 - s + t / 4: its double-double bound
  // (about 25) covers the vertices (1/4, 0) and (1/4, 3/4) that s = 1/4 makes; in triple-double the
  // cut (from (0.5, 0) to (0.6, 0.4)) is certain: 3 regions, one recomputation.
  Eigen::Vector3d w(1e33, 1, -1e33);
  Eigen::MatrixXd directions = Eigen::MatrixXd::Zero(3, 2);
  directions(1, 0) = -1;
  directions(1, 1) = 0.25;
  const PlaneRegions walked = two_lines(w, Eigen::Vector3d(1, 0.5, 1), directions);
  EXPECT_EQ(walked.regions, 3);
  EXPECT_EQ(walked.refinements, 1);
}

TEST(PlaneWalk, ZeroWithinTheErrorBoundIsUncertifiedNotGuessed) {
  // As in the segment walk's test: 1e-6 (0.5 - s) computed through sums that cancel so deeply that even
  // the triple-double bound covers the vertices at s = 1/4: no count, and the message says how far it was.
  Eigen::VectorXd w(7);
  w << 1e50, 1e30, 1e10, -1e50, -1e30, -1e10, 1e-6;
  Eigen::VectorXd origin(7);
  origin << 1, 1, 1, 1, 1, 1, 0.5;
  Eigen::MatrixXd directions = Eigen::MatrixXd::Zero(7, 2);
  directions(6, 0) = -1;
  directions(0, 1) = 1;
  directions(3, 1) = 1;
  EXPECT_THAT([&] { two_lines(w, origin, directions); },
              testing::ThrowsMessage<UncertifiedError>(testing::AllOf(
                  testing::HasSubstr("unit node \"relu\""), testing::HasSubstr(", error bound "),
                  testing::HasSubstr("also with every value before the unit recomputed in triple-double"))));
  // With weights that do not cancel the same line is certain.
  w << 1, 1, 1, -1, -1, -1, 1;
  EXPECT_EQ(two_lines(w, origin, directions).regions, 3);
}

// A walk stopped early returns the regions finished, each certified: fewer than the whole, and the
// share of the area they cover.
TEST(PlaneWalk, StoppedWalkGivesACertifiedPartialCount) {
  const Graph graph = load_graph_onnx(kData + "cnn_residual.onnx");
  const Eigen::MatrixXd points = load_points(kData + "points.npy");
  const Eigen::VectorXd a = row(points, 0, graph.input_dim()), b = row(points, 1, graph.input_dim()),
                        c = row(points, 2, graph.input_dim());
  const PlaneRegions all = regions_in_triangle(graph, a, b, c, 0.5);
  ASSERT_TRUE(all.complete);
  EXPECT_EQ(all.area_done, 1.0);
  for (int threads : {1, 2}) {
    std::atomic<bool> stop{false};
    PlaneOptions options;
    options.threads = threads;
    options.stop = &stop;
    double last_share = 0;
    options.progress = [&](double share, std::int64_t regions) {
      EXPECT_GE(share, last_share);
      last_share = share;
      if (regions >= 20) stop = true;
    };
    const PlaneRegions part = regions_in_triangle(graph, a, b, c, 0.5, options);
    SCOPED_TRACE(std::to_string(threads) + " threads");
    EXPECT_FALSE(part.complete);
    EXPECT_GE(part.regions, 20);
    EXPECT_LT(part.regions, all.regions);
    EXPECT_GT(part.area_done, 0.0);
    EXPECT_LT(part.area_done, 1.0);
  }
  PlaneOptions timed;
  timed.time_limit = 1e-9;
  const PlaneRegions none = regions_in_triangle(graph, a, b, c, 1, timed);
  EXPECT_FALSE(none.complete);
  EXPECT_EQ(none.regions, 0);
  EXPECT_EQ(none.area_done, 0.0);
}

TEST(PlaneWalk, BadInputAndCancel) {
  Eigen::MatrixXd w(2, 1);
  w << 1, -1;
  const Graph g = relu_of_matmul(w);
  const std::vector<Eigen::Vector2d> triangle = {Eigen::Vector2d(0, 0), Eigen::Vector2d(1, 0), Eigen::Vector2d(0, 1)};
  const Eigen::Vector2d a(0, 0), b(1, 0), c(0, 1);
  EXPECT_THAT([&] { regions_in_triangle(g, Eigen::Vector3d(0, 0, 0), Eigen::Vector3d(1, 0, 0), Eigen::Vector3d(0, 1, 0)); },
              testing::ThrowsMessage<InputError>(testing::HasSubstr("the network 2 inputs")));
  EXPECT_THAT([&] { regions_in_triangle(g, a, b, Eigen::Vector2d(2, 0)); },
              testing::ThrowsMessage<InputError>(testing::HasSubstr("collinear")));
  EXPECT_THAT([&] { regions_in_triangle(g, a, b, c, 0); }, testing::ThrowsMessage<InputError>(testing::HasSubstr("scale")));
  EXPECT_THAT([&] { regions_in_triangle(g, a, b, c, 1.5); }, testing::ThrowsMessage<InputError>(testing::HasSubstr("scale")));
  EXPECT_THAT([&] { regions_in_triangle(g, a, b, Eigen::Vector2d(0, NAN)); },
              testing::ThrowsMessage<InputError>(testing::HasSubstr("not all finite")));
  const std::vector<Eigen::Vector2d> clockwise = {triangle[0], triangle[2], triangle[1]};
  EXPECT_THAT([&] { regions_on_plane(g, a, Eigen::Matrix2d::Identity(), Eigen::MatrixXd(), clockwise); },
              testing::ThrowsMessage<InputError>(testing::HasSubstr("convex and counter-clockwise")));
  EXPECT_THAT([&] { regions_on_plane(g, a, Eigen::Matrix2d::Identity(), Eigen::MatrixXd(), {triangle[0], triangle[1]}); },
              testing::ThrowsMessage<InputError>(testing::HasSubstr("at least 3 vertices")));
  std::atomic<bool> cancel{true};
  PlaneOptions cancelled;
  cancelled.cancel = &cancel;
  EXPECT_THROW(regions_in_triangle(g, a, b, c, 1, cancelled), Cancelled);
}

}  // namespace
}  // namespace relutope
