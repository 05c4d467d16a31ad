#include "relutope/slice.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <functional>
#include <random>
#include <utility>

#include "detail/exact_network.h"
#include "relutope/counting_domain.h"
#include "relutope/enumerate.h"
#include "relutope/error.h"
#include "relutope/graph.h"
#include "relutope/io.h"
#include "relutope/random_network.h"
#include "support/brute_force.h"
#include "support/data_path.h"
#include "support/exact_reference.h"
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

// ---------------------------------------------------------------------------------------------
// Exact slices (issue 9): units exactly at their breakpoints at a data point, and Max units whose
// rows are equal there, meet a slice through that point exactly at its corner or end. compose()
// rounds the slice into the first layer; counts must still be those of the network as stored on
// the slice through the points as stored (tests/support/exact_reference.h, in its own coordinates).

using Rational = mpq_class;
using RationalRow = std::vector<Rational>;

// The network's value after `layers` layers at x, exactly.
std::vector<Rational> exact_forward(const Network& net, const std::vector<Rational>& x, std::size_t layers) {
  std::vector<Rational> h = x;
  for (std::size_t l = 0; l < layers; ++l) {
    const relutope::Layer& layer = net.layers[l];
    std::vector<Rational> z(layer.num_rows());
    for (int i = 0; i < layer.num_rows(); ++i) {
      z[i] = layer.bias[i];
      for (int k = 0; k < layer.num_in(); ++k) z[i] += Rational(layer.weight(i, k)) * h[k];
    }
    if (layer.activation == relutope::Activation::kMax) {
      h.clear();
      for (std::size_t u = 0, first = 0; u < layer.unit_rows.size(); first += layer.unit_rows[u++])
        h.push_back(*std::max_element(z.begin() + first, z.begin() + first + layer.unit_rows[u]));
    } else {
      h = z;
      if (layer.activation != relutope::Activation::kNone)
        for (Rational& v : h) v = std::max(v, Rational(0));
    }
  }
  return h;
}

std::vector<Rational> rational(const Eigen::VectorXd& v) { return {v.data(), v.data() + v.size()}; }

// A 4-input network whose units are exactly at their breakpoints at the three points: ReLUs through
// each point in several directions (dyadic weights, so w·p + b = 0 holds exactly), Max units over two
// ReLUs that are both 0 at a point, and a last ReLU layer through the points after both.
Network tied_network(const Eigen::VectorXd p[3]) {
  const double directions[6][4] = {{1, 0.5, -0.25, 0.75},  {-0.5, 1, 0.125, -1}, {0.25, -0.75, 1, 0.5},
                                   {1, -1, 0.5, 0.25},     {-0.75, 0.25, -1, 1}, {0.5, 0.5, 0.5, -1.25}};
  Network net;
  net.source = "tied";
  relutope::Layer first;
  first.weight.resize(20, 4);
  first.bias.resize(20);
  for (int j = 0; j < 3; ++j)
    for (int k = 0; k < 6; ++k) {
      const int r = 6 * j + k;
      for (int i = 0; i < 4; ++i) first.weight(r, i) = directions[(k + 2 * j) % 6][i] * (k < 3 ? 1 : -1);
      first.bias[r] = -first.weight.row(r).dot(p[j]);
    }
  first.weight.row(18) << 0.375, -0.625, 0.875, 0.25;
  first.bias[18] = 0.3125;
  first.weight.row(19) << -1.125, 0.5, 0.25, 0.625;
  first.bias[19] = -0.1875;
  relutope::Layer pool;  // Max of two ReLUs tied at the same point, and of a tied one and a generic one
  pool.activation = relutope::Activation::kMax;
  const std::vector<std::pair<int, int>> pairs = {{0, 1}, {3, 4}, {6, 8}, {9, 11}, {12, 13}, {16, 17}, {2, 18}, {10, 19}};
  pool.weight = Eigen::MatrixXd::Zero(16, 20);
  pool.bias = Eigen::VectorXd::Zero(16);
  for (std::size_t u = 0; u < pairs.size(); ++u) {
    pool.weight(2 * u, pairs[u].first) = 1;
    pool.weight(2 * u + 1, pairs[u].second) = 1;
    pool.unit_rows.push_back(2);
  }
  relutope::Layer last;  // ReLUs through the points after the first two layers
  last.weight.resize(6, 8);
  for (int r = 0; r < 6; ++r)
    for (int i = 0; i < 8; ++i) last.weight(r, i) = ((r + 3 * i) % 5 - 2) * 0.5;
  last.bias.resize(6);
  net.layers = {first, pool, last};
  for (int r = 0; r < 6; ++r) {
    const std::vector<Rational> h = exact_forward(net, rational(p[r % 3]), 2);
    Rational z = 0;
    for (int i = 0; i < 8; ++i) z += Rational(last.weight(r, i)) * h[i];
    net.layers[2].bias[r] = -z.get_d();
    EXPECT_EQ(Rational(net.layers[2].bias[r]), -z) << "the tie must be exact";
  }
  relutope::Layer out;
  out.weight = Eigen::MatrixXd::Ones(1, 6);
  out.bias = Eigen::VectorXd::Zero(1);
  out.activation = relutope::Activation::kNone;
  net.layers.push_back(out);
  net.validate();
  return net;
}

std::vector<std::string> slice_patterns(const relutope::CountingDomain& where, relutope::Engine engine, int threads) {
  relutope::EnumerateOptions options;
  options.engine = engine;
  options.num_threads = threads;
  options.serial_start_seconds = 0;  // the threads share the work from the start: the parallel path
  options.with_geometry = false;
  std::vector<std::string> out;
  relutope::enumerate_regions(where.net, where.domain, options, [&](const relutope::Region& r) {
    std::string p;
    for (auto state : r.pattern) p += static_cast<char>('0' + state);
    out.push_back(p);
  });
  return out;
}

class ExactSlice : public testing::Test {
 protected:
  void SetUp() override {
    // Not dyadic in their plane's coordinates (a centroid, an irrational basis): rounded when composed.
    p_[0] = (Eigen::VectorXd(4) << 0.375, -1.25, 2.5, 0.75).finished();
    p_[1] = (Eigen::VectorXd(4) << 1.5, 0.625, -0.5, 1.25).finished();
    p_[2] = (Eigen::VectorXd(4) << -0.875, 1.75, 0.25, -1.5).finished();
    net_ = tied_network(p_);
    points_.resize(3, 4);
    for (int j = 0; j < 3; ++j) points_.row(j) = p_[j].transpose();
  }
  // The reference's own parametrisation of the plane: x = p0 + s (p1 - p0) + r (p2 - p0).
  std::vector<RationalRow> affine_through(int k) const {
    std::vector<RationalRow> rows;
    for (int i = 0; i < 4; ++i) {
      RationalRow row;
      for (int j = 1; j <= k; ++j) row.push_back(Rational(p_[j][i]) - Rational(p_[0][i]));
      row.push_back(p_[0][i]);
      rows.push_back(row);
    }
    return rows;
  }
  void expect_reference(const relutope::CountingDomain& where, const std::set<std::string>& truth) const {
    for (relutope::Engine engine : {relutope::Engine::kVertex, relutope::Engine::kLp, relutope::Engine::kExact}) {
      const std::vector<std::string> one = slice_patterns(where, engine, 1);
      EXPECT_EQ(std::set<std::string>(one.begin(), one.end()), truth) << relutope::engine_name(engine);
      EXPECT_EQ(one.size(), truth.size()) << relutope::engine_name(engine) << ": a region found twice";
      EXPECT_EQ(slice_patterns(where, engine, 3), one) << relutope::engine_name(engine) << ": depends on the threads";
    }
  }
  Eigen::VectorXd p_[3];
  Eigen::MatrixXd points_;
  Network net_;
};

TEST_F(ExactSlice, APlaneWithTiesAtItsCornersCountsAsTheExactReference) {
  const std::set<std::string> truth =
      reference::patterns_on(net_, {{0, 0}, {1, 0}, {0, 1}}, affine_through(2));
  const relutope::CountingDomain plane = relutope::on_plane(net_, points_, {0, 1, 2});
  expect_reference(plane, truth);
  EXPECT_GT(truth.size(), 20u);
  // The test can fail: the exact side started from the rounded composition counts something else.
  relutope::CountingDomain rounded = plane;
  rounded.net.exact.reset();
  std::vector<std::string> wrong = slice_patterns(rounded, relutope::Engine::kExact, 1);
  EXPECT_NE(std::set<std::string>(wrong.begin(), wrong.end()), truth);
}

TEST_F(ExactSlice, TheSquareAroundTheTriangleUsesTheSameExactMap) {
  // The plane's exact map sends the corners of the triangle, as the rounded edges of triangle_domain
  // define them, to the points; in the square those corners are inside, where tie lines cross.
  const relutope::CountingDomain square = relutope::on_plane(net_, points_, {0, 1, 2}, relutope::PlaneRegion::kSquare, 1.5);
  const relutope::Slice& s = *square.slice;
  const Domain triangle = relutope::triangle_domain(s, p_[0], p_[1], p_[2]);
  ASSERT_EQ(triangle.extra.size(), 3u);
  // The corners: the edges' pairwise intersections (Cramer's rule), matched to the nearest point.
  std::array<std::array<Rational, 2>, 3> v;
  for (int e = 0; e < 3; ++e) {
    const relutope::Halfspace &f = triangle.extra[e], &g = triangle.extra[(e + 1) % 3];
    const Rational det = Rational(f.a[0]) * g.a[1] - Rational(f.a[1]) * g.a[0];
    const std::array<Rational, 2> corner = {(Rational(f.b) * g.a[1] - Rational(g.b) * f.a[1]) / det,
                                            (Rational(f.a[0]) * g.b - Rational(g.a[0]) * f.b) / det};
    int nearest = 0;
    double best = 1e300;
    for (int j = 0; j < 3; ++j) {
      const Eigen::Vector2d c = s.basis.transpose() * (p_[j] - s.origin);
      const double dist = std::hypot(corner[0].get_d() - c[0], corner[1].get_d() - c[1]);
      if (dist < best) best = dist, nearest = j;
    }
    v[nearest] = corner;
  }
  // x(u) = p0 + P V^-1 (u - v0), with P = [p1 - p0, p2 - p0] and V = [v1 - v0, v2 - v0].
  const Rational v00 = v[1][0] - v[0][0], v01 = v[2][0] - v[0][0], v10 = v[1][1] - v[0][1], v11 = v[2][1] - v[0][1];
  const Rational det = v00 * v11 - v01 * v10;
  const Rational inv[2][2] = {{v11 / det, -v01 / det}, {-v10 / det, v00 / det}};
  std::vector<RationalRow> input;
  for (int i = 0; i < 4; ++i) {
    const Rational a = Rational(p_[1][i]) - p_[0][i], b = Rational(p_[2][i]) - p_[0][i];
    const Rational w0 = a * inv[0][0] + b * inv[1][0], w1 = a * inv[0][1] + b * inv[1][1];
    input.push_back({w0, w1, Rational(p_[0][i]) - w0 * v[0][0] - w1 * v[0][1]});
  }
  const Eigen::VectorXd &lo = square.domain.lo, &hi = square.domain.hi;
  const std::set<std::string> truth =
      reference::patterns_on(net_, {{lo[0], lo[1]}, {hi[0], lo[1]}, {hi[0], hi[1]}, {lo[0], hi[1]}}, input);
  expect_reference(square, truth);
}

TEST_F(ExactSlice, ALineBetweenTwoPointsWithTiesAtItsEndsCountsAsTheExactReference) {
  const std::set<std::string> truth = reference::patterns_on(net_, {{0}, {1}}, affine_through(1));
  expect_reference(relutope::on_line(net_, points_, {0, 1}), truth);
}

// A graph node of `kind` reading `inputs`, with output `shape`; a Relu has slope 0.
relutope::GraphNode graph_node(relutope::OpKind kind, const std::string& name, const std::string& op_type,
                               std::vector<int> inputs, relutope::TensorShape shape) {
  relutope::GraphNode node;
  node.kind = kind;
  node.name = name;
  node.op_type = op_type;
  node.inputs = std::move(inputs);
  node.shape = std::move(shape);
  if (kind == relutope::OpKind::kRelu) node.slope = Eigen::VectorXd::Zero(1);
  return node;
}

// input (4) -> MatMul -> Scale (BatchNormalization's factors, not dyadic) -> Relu -> MatMul (1 output),
// units 2a and 2a + 1 exactly at their breakpoints at point a: W_j·p_a + b_j = 1 and shift_j = -scale_j.
// lower_to_network folds the Scale into the MatMul in doubles (scale_j W_ij rounded), which moves
// those ties; `pre` receives the Relu's input as exact rational rows of the reference's (s, r).
relutope::Graph scaled_relu_graph(const Eigen::VectorXd p[3], const std::vector<RationalRow>& x, std::vector<RationalRow>& pre) {
  using relutope::GraphNode;
  using relutope::OpKind;
  const GraphNode input = graph_node(OpKind::kInput, "x", "", {}, {1, 4});
  GraphNode matmul = graph_node(OpKind::kMatMul, "gemm", "Gemm", {0}, {1, 6});
  matmul.weight.resize(4, 6);
  matmul.weight << 0.5, -1.25, 0.75, 1, -0.375, 0.25,  //
      1, 0.625, -0.5, 0.25, 1.5, -0.75,                 //
      -0.25, 1, 0.375, -1, 0.5, 1.25,                   //
      0.75, -0.5, 1, 0.5, -1, 0.625;
  matmul.bias.resize(6);
  for (int j = 0; j < 6; ++j) matmul.bias[j] = 1 - matmul.weight.col(j).dot(p[j / 2]);
  GraphNode bn = graph_node(OpKind::kScale, "bn", "BatchNormalization", {1}, {1, 6});
  bn.scale.resize(6);
  bn.scale << 1.0 / 3, 1.0 / 5, 1.0 / 7, 2.0 / 3, 1.0 / 11, 3.0 / 7;
  bn.shift = -bn.scale;
  const GraphNode relu = graph_node(OpKind::kRelu, "relu", "Relu", {2}, {1, 6});
  GraphNode out = graph_node(OpKind::kMatMul, "out", "MatMul", {3}, {1, 1});
  out.weight = Eigen::MatrixXd::Ones(6, 1);
  out.bias = Eigen::VectorXd::Zero(1);
  relutope::Graph g;
  g.nodes = {input, matmul, bn, relu, out};
  g.input = 0;
  g.output = 4;
  g.source = "scaled_relu";
  pre.clear();
  for (int j = 0; j < 6; ++j) {
    RationalRow row(x.front().size(), 0);
    for (int i = 0; i < 4; ++i)
      for (std::size_t c = 0; c < row.size(); ++c) row[c] += Rational(matmul.weight(i, j)) * x[i][c];
    row.back() += matmul.bias[j];
    for (Rational& v : row) v *= bn.scale[j];
    row.back() += bn.shift[j];
    pre.push_back(row);
  }
  return g;
}

TEST_F(ExactSlice, AGraphsFoldedOperationsAreExactOnASlice) {
  // The reference: a ReLU layer on the exact pre-activations.
  Network relus;
  relutope::Layer identity;
  identity.weight = Eigen::MatrixXd::Identity(6, 6);
  identity.bias = Eigen::VectorXd::Zero(6);
  relus.layers = {identity};
  for (int k : {1, 2}) {
    std::vector<RationalRow> pre;
    const relutope::Graph graph = scaled_relu_graph(p_, affine_through(k), pre);
    const Network lowered = relutope::lower_to_network(graph);
    const std::set<std::string> truth =
        k == 1 ? reference::patterns_on(relus, {{0}, {1}}, pre) : reference::patterns_on(relus, {{0, 0}, {1, 0}, {0, 1}}, pre);
    const relutope::CountingDomain where =
        k == 1 ? relutope::on_line(lowered, points_, {0, 1}) : relutope::on_plane(lowered, points_, {0, 1, 2});
    expect_reference(where, truth);
    // The test can fail: exact arithmetic on the folded layers finds other regions.
    Network folded = lowered;
    folded.exact.reset();
    relutope::CountingDomain rounded =
        k == 1 ? relutope::on_line(folded, points_, {0, 1}) : relutope::on_plane(folded, points_, {0, 1, 2});
    const std::vector<std::string> wrong = slice_patterns(rounded, relutope::Engine::kExact, 1);
    EXPECT_NE(std::set<std::string>(wrong.begin(), wrong.end()), truth) << k;
  }
}

TEST(ExactSliceLimits, AGraphTooLargeToFoldInRationalsIsUncertifiedNotRounded) {
  // input (5000) -> Scale -> Relu: its exact lowering would hold 5000 x 5001 rationals. The network's
  // own layers stand in small (never read: the refusal comes first), as the dense ones would be rounded.
  using relutope::GraphNode;
  using relutope::OpKind;
  const GraphNode input = graph_node(OpKind::kInput, "x", "", {}, {1, 5000});
  GraphNode scale = graph_node(OpKind::kScale, "bn", "BatchNormalization", {0}, {1, 5000});
  scale.scale = Eigen::VectorXd::Constant(5000, 1.0 / 3);
  const GraphNode relu = graph_node(OpKind::kRelu, "relu", "Relu", {1}, {1, 5000});
  auto graph = std::make_shared<relutope::Graph>();
  graph->nodes = {input, scale, relu};
  graph->output = 2;
  graph->source = "big.onnx";
  Network net = relutope::random_network(2, {3}, 1, 7);
  auto exact = std::make_shared<relutope::ExactDefinition>();
  exact->graph = graph;
  net.exact = exact;
  EXPECT_THAT([&] { relutope::detail::ExactNetwork folded(net); },
              testing::ThrowsMessage<relutope::UncertifiedError>(testing::AllOf(
                  testing::HasSubstr("big.onnx: a cut within the floating-point tolerance needs exact arithmetic"),
                  testing::HasSubstr("cannot be certified"))));
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
