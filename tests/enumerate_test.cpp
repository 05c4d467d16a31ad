#include "relutope/enumerate.h"

#include <Eigen/QR>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <random>
#include <set>
#include <thread>

#include "engines/exact_engine.h"
#include "relutope/certify.h"
#include "relutope/error.h"
#include "relutope/io.h"
#include "relutope/random_network.h"
#include "support/networks.h"
#include "support/brute_force.h"
#include "support/exact_reference.h"

namespace {

using relutope::Domain;
using relutope::Engine;
using relutope::EnumerateOptions;
using relutope::Network;

std::string joined(const relutope::ActivationPattern& p) {
  std::string s;
  for (auto state : p) s += static_cast<char>('0' + state);
  return s;
}

std::vector<std::string> patterns(const Network& net, const Domain& domain, Engine engine, int threads) {
  EnumerateOptions options;
  options.engine = engine;
  options.num_threads = threads;
  options.serial_start_seconds = 0;  // the threads share the work from the start: the parallel path
  options.with_geometry = false;
  std::vector<std::string> out;
  relutope::enumerate_regions(net, domain, options, [&](const relutope::Region& r) { out.push_back(joined(r.pattern)); });
  return out;
}

std::uint64_t count(const Network& net, const Domain& domain, Engine engine, int threads = 0) {
  EnumerateOptions options;
  options.engine = engine;
  options.num_threads = threads;
  options.serial_start_seconds = 0;  // the threads share the work from the start: the parallel path
  return relutope::count_regions(net, domain, options).num_regions;
}

// One hidden layer of n neurons in R^d with Gaussian weights (general position with probability 1).
Network one_layer(int n, int d, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0.0, 1.0);
  Network net;
  relutope::Layer hidden;
  hidden.weight.resize(n, d);
  hidden.bias.resize(n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < d; ++j) hidden.weight(i, j) = g(rng);
    hidden.bias[i] = g(rng);
  }
  relutope::Layer out;
  out.weight = Eigen::MatrixXd::Ones(1, n);
  out.bias = Eigen::VectorXd::Zero(1);
  out.activation = relutope::Activation::kNone;
  net.layers = {hidden, out};
  return net;
}

// A box holding every vertex of the arrangement (every point where d hyperplanes meet), with margin.
Domain box_around_vertices(const Network& net) {
  const Eigen::MatrixXd& w = net.layers[0].weight;
  const Eigen::VectorXd& b = net.layers[0].bias;
  const int n = static_cast<int>(w.rows()), d = static_cast<int>(w.cols());
  Eigen::VectorXd lo = Eigen::VectorXd::Constant(d, -1), hi = Eigen::VectorXd::Constant(d, 1);
  // With fewer hyperplanes than dimensions, the point where all of them meet stands in for the vertices.
  const int m = std::min(n, d);
  std::vector<int> pick(m);
  std::function<void(int, int)> choose = [&](int start, int k) {
    if (k == m) {
      Eigen::MatrixXd a(m, d);
      Eigen::VectorXd rhs(m);
      for (int i = 0; i < m; ++i) {
        a.row(i) = w.row(pick[i]);
        rhs[i] = -b[pick[i]];
      }
      const Eigen::VectorXd x = a.completeOrthogonalDecomposition().solve(rhs);
      lo = lo.cwiseMin(x);
      hi = hi.cwiseMax(x);
      return;
    }
    for (int i = start; i < n; ++i) {
      pick[k] = i;
      choose(i + 1, k + 1);
    }
  };
  choose(0, 0);
  const Eigen::VectorXd margin = Eigen::VectorXd::Constant(d, 1.0) + 0.1 * (hi - lo);
  return Domain::box(lo - margin, hi + margin);
}

std::uint64_t zaslavsky(int n, int d) {
  std::uint64_t sum = 0, binom = 1;
  for (int i = 0; i <= d && i <= n; ++i) {
    sum += binom;
    binom = binom * (n - i) / (i + 1);
  }
  return sum;
}

class Zaslavsky : public testing::TestWithParam<std::tuple<int, int, Engine>> {};

TEST_P(Zaslavsky, OneLayerInGeneralPositionHasTheMaximalCount) {
  const auto [n, d, engine] = GetParam();
  for (unsigned seed = 1; seed <= 3; ++seed) {
    const Network net = one_layer(n, d, seed);
    EXPECT_EQ(count(net, box_around_vertices(net), engine), zaslavsky(n, d)) << "n=" << n << " d=" << d << " seed=" << seed;
  }
}

INSTANTIATE_TEST_SUITE_P(Enumerate, Zaslavsky,
                         testing::Combine(testing::Values(3, 6, 9), testing::Values(1, 2, 3, 4),
                                          testing::Values(Engine::kVertex, Engine::kLp)));

struct NetCase {
  int input_dim;
  std::vector<int> widths;
  std::uint64_t seed;
};

void PrintTo(const NetCase& c, std::ostream* os) {
  *os << c.input_dim << " inputs, widths";
  for (int w : c.widths) *os << " " << w;
  *os << ", seed " << c.seed;
}

std::string case_name(const testing::TestParamInfo<NetCase>& info) {
  std::string name = "d" + std::to_string(info.param.input_dim);
  for (int w : info.param.widths) name += "x" + std::to_string(w);
  return name + "_seed" + std::to_string(info.param.seed);
}

class RandomDeepNet : public testing::TestWithParam<NetCase> {
 protected:
  Network net() const { return relutope::random_network(GetParam().input_dim, GetParam().widths, 2, GetParam().seed); }
  Domain domain() const { return Domain::cube(GetParam().input_dim, -1, 1); }
};

TEST_P(RandomDeepNet, BothEnginesFindTheSamePatternsForAnyThreadCount) {
  const auto reference = patterns(net(), domain(), Engine::kVertex, 1);
  ASSERT_TRUE(std::is_sorted(reference.begin(), reference.end()));
  EXPECT_EQ(patterns(net(), domain(), Engine::kVertex, 2), reference);
  EXPECT_EQ(patterns(net(), domain(), Engine::kVertex, 3), reference);
  EXPECT_EQ(patterns(net(), domain(), Engine::kLp, 1), reference);
  EXPECT_EQ(patterns(net(), domain(), Engine::kLp, 2), reference);
}

// A run stays on the calling thread for its first serial_start_seconds (waking threads costs more
// than a small run): the same regions, all visited from this thread when the run ends within it.
TEST_P(RandomDeepNet, ARunStaysOnTheCallingThreadUntilItIsWorthSharing) {
  const auto reference = patterns(net(), domain(), Engine::kVertex, 1);
  const std::thread::id caller = std::this_thread::get_id();
  std::uint64_t tasks_when_shared_at_once = 0;
  for (const double serial_start : {0.0, 5e-4, 1e9}) {
    EnumerateOptions options;
    options.engine = Engine::kVertex;
    options.num_threads = 2;
    options.serial_start_seconds = serial_start;
    options.with_geometry = false;
    std::vector<std::string> found;
    std::set<std::thread::id> visitors;
    const auto stats = relutope::enumerate_regions(net(), domain(), options, [&](const relutope::Region& r) {
      found.push_back(joined(r.pattern));
      visitors.insert(std::this_thread::get_id());
    });
    EXPECT_EQ(found, reference) << "serial_start_seconds " << serial_start;
    if (serial_start == 0) tasks_when_shared_at_once = stats.num_tasks;
    EXPECT_EQ(stats.num_tasks, tasks_when_shared_at_once) << "the cut does not depend on when the threads share it";
    if (serial_start == 1e9) {
      EXPECT_EQ(visitors, std::set<std::thread::id>{caller});
    }
  }
}

// issue 11: the threads of a count share its last tasks (SearchWorker::run_giving_away): its only one (a
// count is not cut, min_tasks 0) or the last of a cut (min_tasks 8): the same counts as on one thread, for
// both float engines and 2 and 3 threads, many times over.
TEST_P(RandomDeepNet, issue11_TheThreadsOfACountShareItsLastTasks) {
  for (Engine engine : {Engine::kVertex, Engine::kLp}) {
    EnumerateOptions options;
    options.engine = engine;
    options.num_threads = 1;
    const auto one = relutope::count_regions(net(), domain(), options);
    for (int threads : {2, 3}) {
      for (int min_tasks : {0, 8}) {
        for (int run = 0; run < 8; ++run) {
          options.num_threads = threads;
          options.min_tasks = min_tasks;
          options.serial_start_seconds = run % 2 ? 0.0 : 5e-4;
          const auto many = relutope::count_regions(net(), domain(), options);
          const std::string what = std::string(relutope::engine_name(engine)) + ", " + std::to_string(threads) +
                                   " threads, min_tasks " + std::to_string(min_tasks);
          EXPECT_EQ(many.num_regions, one.num_regions) << what;
          EXPECT_EQ(many.num_near_degenerate, one.num_near_degenerate) << what;
          EXPECT_TRUE(many.complete) << what;
        }
      }
    }
  }
}

// A visitor may enumerate too, on whichever thread it runs (its own helpers, or the calling thread's
// while their run is open: then alone), on 2 threads from the start.
TEST(Enumerate, AVisitorMayEnumerateOnTheThreads) {
  const Network outer = relutope::random_network(2, {8, 8}, 1, 3);
  const Network inner = relutope::random_network(2, {4, 4}, 1, 1);
  const Domain box = Domain::box(Eigen::Vector2d(-4, -4), Eigen::Vector2d(4, 4));
  EnumerateOptions options;
  options.num_threads = 2;
  options.serial_start_seconds = 0;
  options.with_geometry = false;
  const std::uint64_t inner_count = relutope::count_regions(inner, box, options).num_regions;
  std::uint64_t visited = 0;
  const auto stats = relutope::enumerate_regions(outer, box, options, [&](const relutope::Region&) {
    EXPECT_EQ(relutope::count_regions(inner, box, options).num_regions, inner_count);
    ++visited;
  });
  EXPECT_EQ(visited, stats.num_regions);
  EXPECT_GT(stats.num_tasks, 1u);
}

TEST_P(RandomDeepNet, EverySampledPatternIsFound) {
  const auto found = patterns(net(), domain(), Engine::kAuto, 0);
  const std::set<std::string> all(found.begin(), found.end());
  EXPECT_EQ(all.size(), found.size()) << "a pattern was reported twice";
  const auto sampled = brute_force::sampled_patterns(net(), domain(), 20000, 7);
  for (const std::string& p : sampled) EXPECT_TRUE(all.count(p)) << "sampled pattern " << p << " not enumerated";
  EXPECT_GE(found.size(), sampled.size());
}

TEST_P(RandomDeepNet, RegionsAreConsistentWithTheForwardPass) {
  for (Engine engine : {Engine::kVertex, Engine::kLp}) {
    EnumerateOptions options;
    options.engine = engine;
    const auto regions = relutope::enumerate_regions(net(), domain(), options);
    ASSERT_FALSE(regions.empty());
    for (const relutope::Region& r : regions) {
      const Eigen::VectorXd& x = r.interior_point;
      EXPECT_EQ(brute_force::pattern_at(net(), x), joined(r.pattern)) << "interior point outside its region";
      const Eigen::VectorXd y = net().evaluate(x);
      EXPECT_LT((r.map_weight * x + r.map_bias - y).norm(), 1e-9 * (1 + y.norm()));
      ASSERT_FALSE(r.halfspaces.empty());
      for (const relutope::Halfspace& h : r.halfspaces) EXPECT_LT(h.violation(x), 0) << "interior point on or outside a facet";
      EXPECT_GT(r.depth, 0);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Enumerate, RandomDeepNet,
                         testing::Values(NetCase{1, {6, 6, 6}, 1}, NetCase{1, {10, 10}, 2}, NetCase{2, {8, 8, 8}, 3},
                                         NetCase{2, {12, 12}, 4}, NetCase{2, {5, 5, 5, 5}, 5}, NetCase{3, {8, 8}, 6},
                                         NetCase{3, {6, 6, 6}, 7}, NetCase{4, {6, 6}, 8}, NetCase{5, {5, 5}, 9},
                                         NetCase{6, {6, 5}, 10}, NetCase{7, {6, 4}, 11}, NetCase{8, {5, 4}, 12}),
                         case_name);

class ExactReference : public testing::TestWithParam<NetCase> {};

TEST_P(ExactReference, CountEqualsRationalPolygonClipping) {
  const NetCase& c = GetParam();
  Network net = relutope::random_network(c.input_dim, c.widths, 1, c.seed);
  // Float32 weights, as PyTorch stores them, so the rational reference sees typical inputs.
  for (auto& layer : net.layers) {
    layer.weight = layer.weight.cast<float>().cast<double>();
    layer.bias = layer.bias.cast<float>().cast<double>();
  }
  const Domain domain = Domain::cube(c.input_dim, -1, 1);
  const std::set<std::string> exact =
      reference::patterns(net, std::vector<double>(c.input_dim, -1), std::vector<double>(c.input_dim, 1));
  const auto found = patterns(net, domain, Engine::kVertex, 0);
  EXPECT_EQ(std::set<std::string>(found.begin(), found.end()), exact);
  EXPECT_EQ(found.size(), exact.size());
  EXPECT_EQ(count(net, domain, Engine::kLp), exact.size());
  // the rational engine, on two threads, against the rational clipping reference
  const auto rational = patterns(net, domain, Engine::kExact, 2);
  EXPECT_EQ(std::set<std::string>(rational.begin(), rational.end()), exact);
  EXPECT_EQ(rational, patterns(net, domain, Engine::kExact, 1));
}

INSTANTIATE_TEST_SUITE_P(Enumerate, ExactReference,
                         testing::Values(NetCase{1, {8, 8, 8}, 11}, NetCase{1, {16, 16}, 12}, NetCase{2, {6, 6}, 13},
                                         NetCase{2, {8, 8, 8}, 14}, NetCase{2, {10, 6, 4}, 15}, NetCase{2, {4, 4, 4, 4}, 16}),
                         case_name);

using networks::lines;

// A product below the range of doubles rounds to 0, so the folded row of a ReLU is zero in floating
// point while in rationals it is 1e-400 x_0: a real cut of the box in two.
TEST(Enumerate, RowThatVanishesInDoublesIsDecidedExactly) {
  const Domain box = Domain::cube(2, -1, 1);
  Network net;
  relutope::Layer linear;  // folded into the ReLU layer
  linear.activation = relutope::Activation::kNone;
  linear.weight = Eigen::MatrixXd{{1e-200, 0}};
  linear.bias = Eigen::VectorXd::Zero(1);
  relutope::Layer relu;
  relu.weight = Eigen::MatrixXd{{1e-200}};
  relu.bias = Eigen::VectorXd::Zero(1);
  net.layers = {linear, relu};
  for (Engine engine : {Engine::kVertex, Engine::kLp, Engine::kExact}) {
    SCOPED_TRACE(static_cast<int>(engine));
    EXPECT_EQ(patterns(net, box, engine, 1), (std::vector<std::string>{"0", "1"}));
  }
  // The same cut behind a ReLU: on the region where the first unit is active, the second one's row
  // (1e-400 x_0 in rationals) is positive, not the 0 of its rounded product.
  relutope::Layer first = linear;
  first.activation = relutope::Activation::kRelu;
  net.layers = {first, relu};
  for (Engine engine : {Engine::kVertex, Engine::kLp, Engine::kExact}) {
    SCOPED_TRACE(static_cast<int>(engine));
    auto found = patterns(net, box, engine, 1);
    std::sort(found.begin(), found.end());
    EXPECT_EQ(found, (std::vector<std::string>{"00", "11"}));
  }
}

// A later layer's row that cancels in the rounded sum of the layer before while its bias does not:
// with a = 1 + 2^-52, b = a and c = 1 + 2^-51, the second layer reads z = b h_1 - h_2 + beta with
// h_1 = a (x_0 + 2) and h_2 = c (x_0 + 2) (both active on [-1,1]^2), so z = 2^-104 (x_0 + 2) + beta
// exactly, while b a rounds to c and the rounded row is 0. The rounded bias is beta (the 2 a b - 2 c
// cancels too): a tiny nonzero number that says nothing about the sign of z. By hand: beta =
// -5 * 2^-105 puts the cut at x_0 = 1/2, 2 regions (11|0 left of it, 11|1 right); beta = -2^-110
// leaves z > 0 on the whole box, 1 region, 11|1.
TEST(Enumerate, RowThatCancelsInDoublesBesideATinyBiasIsDecidedExactly) {
  const Domain box = Domain::cube(2, -1, 1);
  const double a = 1 + std::ldexp(1.0, -52), c = 1 + std::ldexp(1.0, -51);
  ASSERT_EQ(a * a, c);  // the product that rounds
  const double cut = -5 * std::ldexp(1.0, -105), no_cut = -std::ldexp(1.0, -110);
  Network net;
  relutope::Layer first;
  first.weight = Eigen::MatrixXd{{a, 0}, {c, 0}};
  first.bias = Eigen::VectorXd{{2 * a, 2 * c}};
  relutope::Layer relu;
  relu.weight = Eigen::MatrixXd{{a, -1}};
  // The same row against a zero row in a Max unit, max(a h_1 - h_2 + beta, 0): its state is 1 left
  // of the cut and 0 right of it, or 0 on the whole box.
  relutope::Layer max;
  max.activation = relutope::Activation::kMax;
  max.unit_rows = {2};
  max.weight = Eigen::MatrixXd{{a, -1}, {0, 0}};
  struct Case {
    const relutope::Layer& second;
    double beta;
    std::vector<std::string> by_hand;
  };
  const Case cases[] = {{relu, cut, {"110", "111"}}, {relu, no_cut, {"111"}},
                        {max, cut, {"110", "111"}}, {max, no_cut, {"110"}}};
  for (const Case& test : cases) {
    SCOPED_TRACE(std::string(test.second.activation == relutope::Activation::kMax ? "max, " : "relu, ") +
                 (test.beta == cut ? "cut" : "no cut"));
    net.layers = {first, test.second};
    net.layers[1].bias = Eigen::VectorXd::Zero(net.layers[1].num_rows());
    net.layers[1].bias[0] = test.beta;
    for (Engine engine : {Engine::kExact, Engine::kVertex, Engine::kLp}) {
      for (int threads : {1, 2}) {
        SCOPED_TRACE(static_cast<int>(engine) * 10 + threads);
        auto found = patterns(net, box, engine, threads);
        std::sort(found.begin(), found.end());
        EXPECT_EQ(found, test.by_hand);
      }
    }
  }
}

// A row that cancels in the rounded sums to a small number that is not zero, its rounding error as
// large as itself: h = relu(x_0 + x_1 + 4), relu(x_0 + 4), relu(x_0 + x_1 + 4), relu(x_1 + 4), all
// active on [-1,1]^2, read by z = -h_1 - 2^-60 h_2 + h_3 + 2^-60 h_4 = 2^-60 (x_1 - x_0) exactly: 2
// regions, cut along x_0 = x_1. In doubles -h_1 - 2^-60 h_2 rounds to -h_1 in the coefficients of
// x_0 and x_1 but not in the constant (-4 - 2^-58), so the rounded row is a constant of the order of
// its rounding error that says nothing about the sign of z: the floating-point engines once counted
// 1 region. The same row against a zero row in a Max unit, max(z, 0), has state 0 above x_0 = x_1
// and 1 below it: the same patterns.
TEST(Enumerate, RowThatCancelsToItsRoundingErrorIsDecidedExactly) {
  const Domain box = Domain::cube(2, -1, 1);
  const double tiny = std::ldexp(1.0, -60);
  Network net;
  relutope::Layer hidden;
  hidden.weight = Eigen::MatrixXd{{1, 1}, {1, 0}, {1, 1}, {0, 1}};
  hidden.bias = Eigen::VectorXd::Constant(4, 4);
  relutope::Layer relu;
  relu.weight = Eigen::MatrixXd{{-1, -tiny, 1, tiny}};
  relu.bias = Eigen::VectorXd::Zero(1);
  relutope::Layer max;
  max.activation = relutope::Activation::kMax;
  max.unit_rows = {2};
  max.weight = Eigen::MatrixXd{{-1, -tiny, 1, tiny}, {0, 0, 0, 0}};
  max.bias = Eigen::VectorXd::Zero(2);
  for (const relutope::Layer* second : {&relu, &max}) {
    SCOPED_TRACE(second == &max ? "max" : "relu");
    net.layers = {hidden, *second};
    for (Engine engine : {Engine::kExact, Engine::kVertex, Engine::kLp}) {
      for (int threads : {1, 2}) {
        SCOPED_TRACE(static_cast<int>(engine) * 10 + threads);
        auto found = patterns(net, box, engine, threads);
        std::sort(found.begin(), found.end());
        EXPECT_EQ(found, (std::vector<std::string>{"11110", "11111"}));
      }
    }
  }
  // The same cancellation in the fold of an affine first layer into the ReLU (FlatNetwork's
  // products in doubles): one neuron, cut along x_0 = x_1.
  relutope::Layer affine = hidden;
  affine.activation = relutope::Activation::kNone;
  net.layers = {affine, relu};
  for (Engine engine : {Engine::kExact, Engine::kVertex, Engine::kLp}) {
    SCOPED_TRACE(static_cast<int>(engine));
    auto found = patterns(net, box, engine, 1);
    std::sort(found.begin(), found.end());
    EXPECT_EQ(found, (std::vector<std::string>{"0", "1"}));
  }
}

// The floating-point engines' exact arithmetic folds the network in rationals once: the exact
// engine it starts shares the network its exact LPs and rows read, whichever is asked first.
TEST(Enumerate, ExactFallbackFoldsTheNetworkOnce) {
  const Network net = relutope::random_network(2, {4, 4}, 1, 5);
  const Domain box = Domain::cube(2, -1, 1);
  const relutope::detail::ExactFallback engine_first(net, box);
  const relutope::detail::ExactNetwork* from_engine = &engine_first.engine().network();
  EXPECT_EQ(from_engine, &engine_first.network());
  const relutope::detail::ExactFallback network_first(net, box);
  const relutope::detail::ExactNetwork* network = &network_first.network();
  EXPECT_EQ(&network_first.engine().network(), network);
}

TEST(Enumerate, LowerDimensionalPiecesDoNotCount) {
  const Domain box = Domain::cube(2, -1, 1);
  // Two neurons with the same hyperplane: the pattern (0,1) would be the line itself.
  for (Engine engine : {Engine::kVertex, Engine::kLp}) {
    EXPECT_EQ(count(lines({{1, 0, 0}, {1, 0, 0}}), box, engine), 2u);
    // Three lines through one point: 6 regions, not 7.
    EXPECT_EQ(count(lines({{1, 0, 0}, {0, 1, 0}, {1, 1, 0}}), box, engine), 6u);
    // A line through a corner of the box only touches it.
    EXPECT_EQ(count(lines({{1, 1, 2}}), box, engine), 1u);
    // A dead neuron (zero weights, negative bias) and a line outside the box change nothing.
    EXPECT_EQ(count(lines({{0, 0, -1}, {1, 0, 5}, {0, 1, 0.25}}), box, engine), 2u);
  }
}

TEST(Enumerate, ReportsNearDegenerateRegions) {
  const Domain box = Domain::cube(2, -1, 1);
  // Three lines that nearly meet: a triangle of size ~1e-7 exists and is counted, but flagged.
  const Network small = lines({{1, 0, 0}, {0, 1, 0}, {1, 1, 1e-7}});
  // The triangle shrinks below the tolerance (2.8e-9): floating point cannot see it, so exact
  // arithmetic decides that cut, and the triangle is counted (issue 8: it used to be dropped).
  const Network sliver = lines({{1, 0, 0}, {0, 1, 0}, {1, 1, 1e-12}});
  for (Engine engine : {Engine::kVertex, Engine::kLp}) {
    EnumerateOptions options;
    options.engine = engine;
    const auto with_triangle = relutope::count_regions(small, box, options);
    EXPECT_EQ(with_triangle.num_regions, 7u);
    EXPECT_GE(with_triangle.num_near_degenerate, 1u);
    EXPECT_EQ(with_triangle.num_exact_decisions, 0u);
    const auto thin = relutope::count_regions(sliver, box, options);
    EXPECT_EQ(thin.num_regions, 7u);
    EXPECT_GE(thin.num_exact_decisions, 1u);
  }
}

TEST(Enumerate, LeakyAndParametricReluSplitLikeRelu) {
  Network net = relutope::random_network(2, {6, 6}, 1, 21);
  net.layers[0].activation = relutope::Activation::kLeakyRelu;
  net.layers[0].negative_slope = Eigen::VectorXd::Constant(1, 0.1);
  net.layers[1].activation = relutope::Activation::kPRelu;
  net.layers[1].negative_slope = Eigen::VectorXd::LinSpaced(6, 0.05, 0.3);
  const auto leaky = patterns(net, Domain::cube(2, -1, 1), Engine::kVertex, 1);
  EXPECT_EQ(patterns(net, Domain::cube(2, -1, 1), Engine::kLp, 1), leaky);
  const auto sampled = brute_force::sampled_patterns(net, Domain::cube(2, -1, 1), 20000, 3);
  for (const std::string& p : sampled) EXPECT_TRUE(std::count(leaky.begin(), leaky.end(), p)) << p;
  EXPECT_GT(leaky.size(), 1u);
}

TEST(Enumerate, HighDimensionalNetUsesTheLpEngine) {
  const Network net = relutope::random_network(64, {6, 4}, 3, 5);
  const Domain box = Domain::cube(64, 0, 1);
  EnumerateOptions options;
  const auto stats = relutope::count_regions(net, box, options);
  EXPECT_EQ(stats.engine, Engine::kLp);
  const auto found = patterns(net, box, Engine::kAuto, 2);
  EXPECT_EQ(found.size(), stats.num_regions);
  const std::set<std::string> all(found.begin(), found.end());
  for (const std::string& p : brute_force::sampled_patterns(net, box, 20000, 11)) EXPECT_TRUE(all.count(p)) << p;
  EXPECT_EQ(patterns(net, box, Engine::kLp, 1), found);
}

TEST(Enumerate, ALpCountFindsPointsAcrossACutWithoutAnLp) {
  // Without interior points to report, a side the witness is not in may be shown non-empty by a
  // point on a ray from the witness: the same regions and near-degenerate ones, fewer LPs.
  const Network net = relutope::random_network(16, {10, 8}, 1, 3);
  const Domain box = Domain::cube(16, 0, 1);
  EnumerateOptions options;
  options.engine = Engine::kLp;
  options.num_threads = 1;
  const auto counted = relutope::count_regions(net, box, options);
  const auto listed = relutope::enumerate_regions(net, box, options, [](const relutope::Region&) {});
  EXPECT_GT(counted.num_regions, 100u);
  EXPECT_EQ(counted.num_regions, listed.num_regions);
  EXPECT_EQ(counted.num_near_degenerate, listed.num_near_degenerate);
  EXPECT_LT(counted.num_lps, listed.num_lps);
  options.num_threads = 2;
  options.serial_start_seconds = 0;
  const auto two = relutope::count_regions(net, box, options);
  EXPECT_EQ(two.num_regions, counted.num_regions);
  EXPECT_EQ(two.num_near_degenerate, counted.num_near_degenerate);
}

TEST(Enumerate, HPolytopeDomainsClipTheBox) {
  // The triangle x >= -1, y >= -1, x + y <= 0 inside [-1,1]^2, cut by the two axes: 3 regions.
  Domain domain = Domain::cube(2, -1, 1);
  relutope::Halfspace h;
  h.a = Eigen::Vector2d(1, 1);
  h.b = 0;
  domain.extra.push_back(h);
  for (Engine engine : {Engine::kVertex, Engine::kLp}) EXPECT_EQ(count(lines({{1, 0, 0}, {0, 1, 0}}), domain, engine), 3u);
  domain.extra[0].b = -3;  // x + y <= -3 misses the box
  for (Engine engine : {Engine::kVertex, Engine::kLp})
    EXPECT_THROW(count(lines({{1, 0, 0}}), domain, engine), relutope::InputError);
}

TEST(Enumerate, RejectsMismatchedInputs) {
  const Network net = relutope::random_network(3, {4}, 1, 1);
  EXPECT_THAT([&] { relutope::count_regions(net, Domain::cube(2, -1, 1)); },
              testing::ThrowsMessage<relutope::InputError>(testing::HasSubstr("has 3 inputs")));
  EXPECT_THAT([&] { relutope::count_regions(net, Domain::box(Eigen::Vector3d(0, 0, 1), Eigen::Vector3d(1, 1, 0))); },
              testing::ThrowsMessage<relutope::InputError>(testing::HasSubstr("dimension 2")));
  EnumerateOptions bad;
  bad.tolerance = -1;
  EXPECT_THROW(relutope::count_regions(net, Domain::cube(3, -1, 1), bad), relutope::InputError);
  for (const double seconds : {-1.0, std::nan("")}) {
    EnumerateOptions wrong;
    wrong.serial_start_seconds = seconds;
    EXPECT_THAT([&] { relutope::count_regions(net, Domain::cube(3, -1, 1), wrong); },
                testing::ThrowsMessage<relutope::InputError>(
                    testing::HasSubstr("serial_start_seconds: expected a number of seconds >= 0")));
  }
}

}  // namespace

namespace {

class Volumes : public testing::TestWithParam<NetCase> {};

TEST_P(Volumes, RegionVolumesSumToTheDomainVolume) {
  const NetCase& c = GetParam();
  const Network net = relutope::random_network(c.input_dim, c.widths, 1, c.seed);
  const Domain box = Domain::box(Eigen::VectorXd::LinSpaced(c.input_dim, -1, -0.5), Eigen::VectorXd::Constant(c.input_dim, 1));
  EnumerateOptions options;
  options.engine = Engine::kVertex;
  options.with_volume = true;
  double sum = 0;
  std::size_t count = 0;
  relutope::enumerate_regions(net, box, options, [&](const relutope::Region& r) {
    ASSERT_TRUE(r.volume);
    EXPECT_GT(*r.volume, 0);
    sum += *r.volume;
    ++count;
  });
  EXPECT_GT(count, 1u);
  EXPECT_NEAR(sum, box.box_volume(), 1e-9 * box.box_volume());
}

INSTANTIATE_TEST_SUITE_P(Enumerate, Volumes,
                         testing::Values(NetCase{1, {8, 8}, 31}, NetCase{2, {8, 8, 8}, 32}, NetCase{3, {6, 6}, 33},
                                         NetCase{4, {5, 5}, 34}),
                         case_name);

}  // namespace

// ------------------------------------------------------------------------------------- issue 8
// Counts do not depend on the units of the input, and no cut within the floating-point tolerance
// is decided by guesswork: the float engines hand it to exact arithmetic.

namespace issue8 {

// The network with its first layer reading x / scale: in the box scale * B it has the regions the
// original has in B.
Network in_units(Network net, double scale) {
  net.layers.front().weight /= scale;
  return net;
}

const Engine kEngines[] = {Engine::kVertex, Engine::kLp, Engine::kExact};

TEST(Issue8, CountsAreTheSameInEveryUnitOfTheInput) {
  for (int d : {2, 3}) {
    const Network net = relutope::random_network(d, {8, 8}, 1, 80 + d, relutope::RandomInit::kHe, 0.1);
    EnumerateOptions exact;
    exact.engine = Engine::kExact;
    const std::uint64_t truth = relutope::count_regions(net, Domain::cube(d, -1, 1), exact).num_regions;
    ASSERT_GT(truth, 20u);
    for (double scale : {1e-6, 1.0, 1e6, 1e12})
      for (Engine engine : kEngines)
        EXPECT_EQ(count(in_units(net, scale), Domain::cube(d, -scale, scale), engine), truth)
            << "d=" << d << " scale=" << scale << " engine " << relutope::engine_name(engine);
  }
}

TEST(Issue8, LargeBoxesGiveTheExactCount) {
  // Beyond +-1e6 the box holds every vertex of the arrangement, so every larger box has the same
  // count. The float engines used to give 29-34 here (thin regions dropped as slivers), 1 from
  // +-1e154 on (the diameter overflowed), and the LP engine did not finish at +-1e15.
  const Network net = relutope::random_network(2, {8, 8}, 1, 7, relutope::RandomInit::kHe, 0.5);
  EnumerateOptions exact;
  exact.engine = Engine::kExact;
  const std::uint64_t truth = relutope::count_regions(net, Domain::cube(2, -1e6, 1e6), exact).num_regions;
  for (double size : {1e6, 1e12, 1e15, 1e50, 1e100, 1e155, 1e200, 1e300})
    for (Engine engine : kEngines) {
      EnumerateOptions options;
      options.engine = engine;
      const auto stats = relutope::count_regions(net, Domain::cube(2, -size, size), options);
      EXPECT_EQ(stats.num_regions, truth) << "box +-" << size << " engine " << relutope::engine_name(engine);
    }
}

TEST(Issue8, AnAnisotropicBoxFarFromTheOriginGivesTheExactCount) {
  const Network net = relutope::random_network(2, {6, 6}, 1, 9, relutope::RandomInit::kHe, 0.5);
  // The same network, shifted and stretched: x = c + diag(s) u.
  Network moved = net;
  const Eigen::Vector2d c(1e7, -3e5), s(1e-3, 1e4);
  moved.layers.front().bias -= moved.layers.front().weight * s.cwiseInverse().asDiagonal() * c;
  moved.layers.front().weight = moved.layers.front().weight * s.cwiseInverse().asDiagonal();
  EnumerateOptions exact;
  exact.engine = Engine::kExact;
  const Domain moved_box = Domain::box(c - s, c + s);
  const std::uint64_t truth = relutope::count_regions(moved, moved_box, exact).num_regions;
  EXPECT_EQ(truth, relutope::count_regions(net, Domain::cube(2, -1, 1), exact).num_regions);
  for (Engine engine : {Engine::kVertex, Engine::kLp})
    EXPECT_EQ(count(moved, moved_box, engine), truth) << relutope::engine_name(engine);
}

TEST(Issue8, DegenerateCutsInAPolytopeDomainAreDecidedExactly) {
  // A triangle whose corners are corners of its bounding box, and lines through those corners and
  // through one point: every cut touches a vertex exactly. 6 regions in the triangle.
  Domain triangle = Domain::cube(2, 0, 1);
  relutope::Halfspace edge;
  edge.a = Eigen::Vector2d(1, 1);
  edge.b = 1;
  triangle.extra.push_back(edge);
  const Network net = lines({{1, -1, 0}, {1, 0, -0.25}, {0, 1, -0.25}, {1, 1, -0.5}});
  // x = y through the corner (0,0); x = 1/4 and y = 1/4 and x + y = 1/2 cross pairwise; x + y = 1/2
  // and x = y meet at (1/4, 1/4), where x = 1/4 and y = 1/4 also meet: all four through one point.
  for (Engine engine : kEngines) EXPECT_EQ(count(net, triangle, engine), 8u) << relutope::engine_name(engine);
}

TEST(Issue8, TheLpEngineDecidesDegenerateCutsExactlyInAnyDimension) {
  // Two neurons on the same hyperplane in 16 inputs: once one is decided, the other's far side has
  // margin exactly 0, which floating point cannot tell from a sliver; an exact LP decides it. The
  // duplicate adds nothing: the count is that of the network without it.
  const int d = 16;
  Network net = relutope::random_network(d, {5}, 1, 5);
  Network without = net;
  without.layers[0].weight = net.layers[0].weight.topRows(4);
  without.layers[0].bias = net.layers[0].bias.head(4);
  without.layers[1].weight = net.layers[1].weight.leftCols(4);
  net.layers[0].weight.row(4) = net.layers[0].weight.row(0);
  net.layers[0].bias[4] = net.layers[0].bias[0];
  const Domain box = Domain::cube(d, -1, 1);
  EnumerateOptions options;
  options.engine = Engine::kLp;
  const auto stats = relutope::count_regions(net, box, options);
  EXPECT_EQ(stats.num_regions, relutope::count_regions(without, box, options).num_regions);
  EXPECT_GE(stats.num_exact_decisions, 1u);
}

TEST(Issue8, WithoutExactArithmeticAnUndecidableCutIsAnErrorNotACount) {
  // The vertex engine in 13 inputs (forced; auto would take the LP engine) is beyond its exact
  // fallback. A hyperplane through a corner of the box only touches it, but floating point cannot
  // tell that from a sliver cut off the corner: the run stops with UncertifiedError rather than
  // print a number.
  const int d = relutope::detail::kMaxExactDim + 1;
  Network net = relutope::random_network(d, {3}, 1, 5);
  net.layers[0].weight.row(1).setOnes();
  net.layers[0].bias[1] = d;  // sum(x) + d = 0 at the corner (-1, ..., -1)
  EnumerateOptions options;
  options.engine = Engine::kVertex;
  EXPECT_THROW(relutope::count_regions(net, Domain::cube(d, -1, 1), options), relutope::UncertifiedError);
}

TEST(Issue8, AHyperplaneEqualToAFacetIsDecidedExactlyWithoutTheExactEngine) {
  // A duplicated neuron, and relu(relu(z)) (a second layer passing units through): the cut lies
  // exactly on a facet of the cell, which an exact comparison of the two hyperplanes decides, in
  // 13 inputs too. The count is that of the network without the repeats.
  const int d = relutope::detail::kMaxExactDim + 1;
  Network net = relutope::random_network(d, {4}, 1, 5);
  net.layers[0].weight.row(1) = net.layers[0].weight.row(0);
  net.layers[0].bias[1] = net.layers[0].bias[0];
  EnumerateOptions options;
  options.engine = Engine::kVertex;
  const Domain box = Domain::cube(d, -1, 1);
  Network three = net;  // the network with the duplicate removed
  three.layers[0].weight.row(1).setZero();
  three.layers[0].bias[1] = -1;  // dead
  EXPECT_EQ(relutope::count_regions(net, box, options).num_regions, relutope::count_regions(three, box, options).num_regions);

  // relu(relu(z)) in 2 inputs: 8 units, then a layer passing each through (identity) and one more.
  Network pass = relutope::random_network(2, {8, 9}, 1, 3);
  pass.layers[1].weight.topRows(8).setIdentity();
  pass.layers[1].bias.head(8).setZero();
  Network plain = relutope::random_network(2, {8, 1}, 1, 3);
  plain.layers[0] = pass.layers[0];
  plain.layers[1].weight = pass.layers[1].weight.bottomRows(1);
  plain.layers[1].bias = pass.layers[1].bias.tail(1);
  const Domain square = Domain::cube(2, -1, 1);
  EXPECT_EQ(count(pass, square, Engine::kVertex), count(plain, square, Engine::kExact));
  EXPECT_EQ(count(pass, square, Engine::kLp), count(plain, square, Engine::kExact));
}

}  // namespace issue8

// Issue 10 (the Python module's Ctrl-C): a flag set from outside stops every engine with Cancelled,
// whether it is set before the call or while regions are coming in.
TEST(Enumerate, CancelFlagStopsEveryEngine) {
  const Network net = relutope::random_network(2, {16, 16}, 1, 7);
  const Domain box = Domain::cube(2, -1, 1);
  for (Engine engine : {Engine::kVertex, Engine::kLp, Engine::kExact}) {
    std::atomic<bool> cancel{true};
    EnumerateOptions options;
    options.engine = engine;
    options.num_threads = 2;
    options.serial_start_seconds = 0;  // the threads share the work from the start: the parallel path
    options.cancel = &cancel;
    EXPECT_THROW(relutope::count_regions(net, box, options), relutope::Cancelled) << engine_name(engine);
  }
}

// Issue 11: a cancel the visitor set was seen only at the workers' next region or task; once every task
// had finished (always with one thread: one task, visited at its end; with two, under load), the run
// visited every region and returned. The visiting stops at the region after the cancel, with Cancelled.
TEST(Enumerate, issue11_ACancelFromTheVisitorStopsTheVisitingAtOnce) {
  const Network net = relutope::random_network(2, {16, 16}, 1, 7);
  const Domain box = Domain::cube(2, -1, 1);
  for (Engine engine : {Engine::kVertex, Engine::kLp, Engine::kExact}) {
    for (int threads : {1, 2}) {
      std::atomic<bool> cancel{false};
      EnumerateOptions options;
      options.engine = engine;
      options.num_threads = threads;
      options.serial_start_seconds = 0;  // the threads share the work from the start: the parallel path
      options.cancel = &cancel;
      std::uint64_t seen = 0;
      EXPECT_THROW(relutope::enumerate_regions(net, box, options,
                                               [&](const relutope::Region&) {
                                                 if (++seen == 5) cancel = true;
                                               }),
                   relutope::Cancelled)
          << engine_name(engine) << ", threads " << threads;
      EXPECT_EQ(seen, 5u) << engine_name(engine) << ", threads " << threads;
    }
  }
}

// Issue 10: a visitor that throws (a caller stopping early) made the library call std::terminate, as the
// exception left an OpenMP critical section. It must reach the caller instead.
TEST(Enumerate, AnExceptionFromTheVisitorReachesTheCaller) {
  const Network net = relutope::random_network(2, {16, 16}, 1, 7);
  const Domain box = Domain::cube(2, -1, 1);
  for (int threads : {1, 2}) {
    EnumerateOptions options;
    options.num_threads = threads;
    options.serial_start_seconds = 0;  // the threads share the work from the start: the parallel path
    int seen = 0;
    EXPECT_THAT([&] {
      relutope::enumerate_regions(net, box, options, [&](const relutope::Region&) {
        if (++seen == 3) throw std::runtime_error("stop here");
      });
    }, testing::ThrowsMessage<std::runtime_error>(testing::StrEq("stop here")));
  }
}

// Issue 12: long runs stop early with a lower bound, save their state and resume to the same result.
namespace issue12 {

using relutope::EnumerateStats;
using relutope::RunState;
using relutope::StopReason;

struct Visited {
  std::vector<std::string> patterns;
  EnumerateStats stats;
};

Visited visit(const Network& net, const Domain& box, const EnumerateOptions& options) {
  Visited out;
  out.stats = relutope::enumerate_regions(net, box, options,
                                          [&](const relutope::Region& r) { out.patterns.push_back(joined(r.pattern)); });
  return out;
}

EnumerateOptions run_options(Engine engine, int threads) {
  EnumerateOptions options;
  options.engine = engine;
  options.num_threads = threads;
  options.serial_start_seconds = 0;  // the threads share the work from the start: the parallel path
  options.with_geometry = false;
  return options;
}

void expect_same_totals(const EnumerateStats& a, const EnumerateStats& b, const std::string& what) {
  EXPECT_TRUE(a.complete && b.complete) << what;
  EXPECT_EQ(a.num_regions, b.num_regions) << what;
  EXPECT_EQ(a.num_near_degenerate, b.num_near_degenerate) << what;
  EXPECT_EQ(a.num_exact_decisions, b.num_exact_decisions) << what;
  EXPECT_EQ(a.num_lps, b.num_lps) << what;
  EXPECT_EQ(a.num_lp_fallbacks, b.num_lp_fallbacks) << what;
  EXPECT_EQ(a.num_tasks, b.num_tasks) << what;
}

// The LP engine stops its LPs once a point clears the near-degenerate depth unless the caller wants the
// max-margin points (a count never does). Which regions exist, and which are near-degenerate, must not
// depend on that nor on the threads; and a stopped LP's point still lies inside its region.
TEST(Enumerate, LpEngineFindsTheSameRegionsWithOrWithoutMaxMarginPoints) {
  struct Case {
    Network net;
    Domain box;
  };
  std::vector<Case> cases = {{lines({{1, 0, 0}, {0, 1, 0}, {1, 1, 1e-7}}), Domain::cube(2, -1, 1)}};
  for (std::uint64_t seed : {3, 4}) cases.push_back({relutope::random_network(8, {8, 8}, 1, seed), Domain::cube(8, -1, 1)});
  for (const Case& c : cases) {
    for (int threads : {1, 2}) {
      const std::string what = std::to_string(c.net.input_dim()) + " inputs, " + std::to_string(threads) + " threads";
      EnumerateOptions options = run_options(Engine::kLp, threads);
      const Visited optimal = visit(c.net, c.box, options);
      options.max_margin_points = false;
      Visited stopped;
      stopped.stats = relutope::enumerate_regions(c.net, c.box, options, [&](const relutope::Region& r) {
        stopped.patterns.push_back(joined(r.pattern));
        EXPECT_EQ(brute_force::pattern_at(c.net, r.interior_point), joined(r.pattern)) << what;
      });
      const EnumerateStats counted = relutope::count_regions(c.net, c.box, options);
      EXPECT_GT(optimal.stats.num_regions, 6u) << what;
      EXPECT_EQ(stopped.patterns, optimal.patterns) << what;
      for (const EnumerateStats& stats : {stopped.stats, counted}) {
        EXPECT_EQ(stats.num_regions, optimal.stats.num_regions) << what;
        EXPECT_EQ(stats.num_near_degenerate, optimal.stats.num_near_degenerate) << what;
      }
    }
  }
  // The first case's triangle is thin: the comparison above covers a near-degenerate region.
  EXPECT_GE(relutope::count_regions(cases[0].net, cases[0].box, run_options(Engine::kLp, 1)).num_near_degenerate, 1u);
}

TEST(LongRuns, AStopFlagEndsTheRunWithWhatWasFound) {
  const Network net = relutope::random_network(2, {16, 16}, 1, 7);
  const Domain box = Domain::cube(2, -1, 1);
  for (Engine engine : {Engine::kVertex, Engine::kLp, Engine::kExact}) {
    const Visited full = visit(net, box, run_options(engine, 2));
    std::atomic<bool> stop{true};
    EnumerateOptions options = run_options(engine, 2);
    options.stop = &stop;
    const EnumerateStats before = relutope::count_regions(net, box, options);
    EXPECT_FALSE(before.complete) << engine_name(engine);
    EXPECT_EQ(before.stopped, StopReason::kStopped) << engine_name(engine);
    EXPECT_EQ(before.num_regions, 0u) << engine_name(engine);
    stop = false;
    Visited part;
    part.stats = relutope::enumerate_regions(net, box, options, [&](const relutope::Region& r) {
      part.patterns.push_back(joined(r.pattern));
      if (part.patterns.size() == 5) stop = true;
    });
    EXPECT_FALSE(part.stats.complete) << engine_name(engine);
    EXPECT_EQ(part.stats.num_regions, part.patterns.size()) << engine_name(engine);
    ASSERT_LT(part.patterns.size(), full.patterns.size()) << engine_name(engine);
    EXPECT_TRUE(std::equal(part.patterns.begin(), part.patterns.end(), full.patterns.begin()))
        << engine_name(engine) << ": the regions visited are the first of the full run's";
  }
}

TEST(LongRuns, MaxRegionsVisitsExactlyThatManyAndCountsAtLeastThatMany) {
  const Network net = relutope::random_network(3, {16, 16}, 1, 3);
  const Domain box = Domain::cube(3, -2, 2);
  const Visited full = visit(net, box, run_options(Engine::kVertex, 2));
  ASSERT_GT(full.patterns.size(), 200u);
  for (int threads : {1, 2}) {
    EnumerateOptions options = run_options(Engine::kVertex, threads);
    options.max_regions = 100;
    const Visited part = visit(net, box, options);
    EXPECT_FALSE(part.stats.complete);
    EXPECT_EQ(part.stats.stopped, StopReason::kRegionLimit);
    ASSERT_EQ(part.patterns.size(), 100u);
    EXPECT_TRUE(std::equal(part.patterns.begin(), part.patterns.end(), full.patterns.begin()));
    const EnumerateStats counted = relutope::count_regions(net, box, options);
    EXPECT_FALSE(counted.complete);
    EXPECT_GE(counted.num_regions, 100u);
    EXPECT_LT(counted.num_regions, full.patterns.size());
    options.max_regions = full.patterns.size();  // as many as there are: nothing is left out
    EXPECT_TRUE(visit(net, box, options).stats.complete);
    EXPECT_EQ(visit(net, box, options).patterns, full.patterns);
  }
}

TEST(LongRuns, TimeLimitStopsTheWorkersSoon) {
  // 4 inputs: the integer exact engine counts the 3-input net of the test below in ~0.3 s.
  const Network net = relutope::random_network(4, {20, 20, 20}, 1, 12);
  const Domain box = Domain::cube(4, -4, 4);
  EnumerateOptions options = run_options(Engine::kExact, 2);  // seconds to the end
  options.time_limit = 0.3;
  const EnumerateStats stats = relutope::count_regions(net, box, options);
  EXPECT_FALSE(stats.complete);
  EXPECT_EQ(stats.stopped, StopReason::kTimeLimit);
  EXPECT_LT(stats.seconds, 1.3);
  // A lower bound of the count (the vertex engine's takes a moment). How many regions the exact
  // engine finds in 0.3 s depends on the machine: under the sanitizers on a loaded one, none.
  EXPECT_LE(stats.num_regions, relutope::count_regions(net, box, run_options(Engine::kVertex, 2)).num_regions);
}

// Issue 12: the cut (step 1 of the driver, serial) heard no stop switch or time limit, so a run asked to
// stop while cutting into many tasks went on cutting. Cutting the exact engine's search into up to
// kMaxTasks tasks and running them takes seconds here (4.2 s at 2 threads, load 3, 2026-11-29; the
// 3x24x24x24 net this test had took 0.3-1.5 s once the exact engine got faster, and its time-limited
// run sometimes finished within the 0.3 s limit).
TEST(LongRuns, AStopDuringTheCutEndsTheRunWithinASecond) {
  const Network net = relutope::random_network(3, {32, 32, 32}, 1, 12);
  const Domain box = Domain::cube(3, -4, 4);
  EnumerateOptions options = run_options(Engine::kExact, 2);
  options.min_tasks = relutope::kMaxTasks;
  std::atomic<bool> stop{false};
  options.stop = &stop;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop = true;
  });
  const EnumerateStats stopped = relutope::count_regions(net, box, options);
  stopper.join();
  EXPECT_FALSE(stopped.complete);
  EXPECT_EQ(stopped.stopped, StopReason::kStopped);
  EXPECT_LT(stopped.seconds, 1.3);
  options.stop = nullptr;
  options.time_limit = 0.3;
  const EnumerateStats timed = relutope::count_regions(net, box, options);
  EXPECT_FALSE(timed.complete);
  EXPECT_EQ(timed.stopped, StopReason::kTimeLimit);
  EXPECT_LT(timed.seconds, 1.3);
}


// Issue 11: asked for many tasks, a small tree was cut round after round until nearly every region was a
// task of its own (1,179 tasks for these 1,605 regions; each round walks the tree again), which made a
// small count slower on 2 threads than on 1. The cut now stops where the tree thins out, the same for
// every thread count.
TEST(LongRuns, ASmallTreeIsNotCutIntoATaskPerRegion) {
  const Network net = relutope::load_network(std::string(RELUTOPE_TEST_DATA_DIR) + "/mpi_2x32x32.json");
  const Domain box = Domain::cube(2, -4, 4);
  EnumerateOptions options = run_options(Engine::kVertex, 1);
  options.min_tasks = 1024;
  const EnumerateStats one = relutope::count_regions(net, box, options);
  EXPECT_EQ(one.num_regions, 1605u);
  EXPECT_LT(one.num_tasks, one.num_regions / 2);
  EXPECT_GE(one.num_tasks, 64u);
  options.num_threads = 2;
  options.serial_start_seconds = 0;  // the threads share the work from the start: the parallel path
  expect_same_totals(one, relutope::count_regions(net, box, options), "2 threads");
}

// A run stopped at a region limit is resumed from its last checkpoint, with another thread count: the
// regions visited up to the checkpoint and those of the resumed run are the full run's, in order, and
// the statistics are the full run's.
TEST(LongRuns, ResumingFromACheckpointGivesTheUninterruptedRun) {
  const Network net = relutope::random_network(3, {16, 16, 16}, 1, 5);
  const Domain box = Domain::cube(3, -2, 2);
  for (Engine engine : {Engine::kVertex, Engine::kLp, Engine::kExact}) {
    for (bool counting : {false, true}) {
      const std::string what = std::string(engine_name(engine)) + (counting ? " counting" : " visiting");
      EnumerateOptions options = run_options(engine, 2);
      options.min_tasks = 200;
      // A count and a visit run the LP engine's LPs differently (a count stops them short of the
      // optimum): each is resumed as it ran.
      const auto run = [&](const EnumerateOptions& o) {
        return counting ? Visited{{}, relutope::count_regions(net, box, o)} : visit(net, box, o);
      };
      const Visited full = run(options);
      ASSERT_GT(full.stats.num_tasks, 50u) << what;
      RunState saved;
      int checkpoints = 0;
      options.num_threads = 1;
      options.max_regions = full.stats.num_regions / 2;
      options.checkpoint_seconds = 0;
      options.on_checkpoint = [&](const RunState& state) {
        saved = state;
        ++checkpoints;
      };
      const Visited first = run(options);
      ASSERT_FALSE(first.stats.complete) << what;
      EXPECT_GT(checkpoints, 1) << what;
      EXPECT_EQ(saved.num_tasks, full.stats.num_tasks) << what;
      EXPECT_EQ(saved.min_tasks, 200) << what;
      std::uint64_t saved_regions = 0;
      for (const auto& entry : saved.done) saved_regions += entry.second.num_regions;
      ASSERT_LE(saved_regions, first.stats.num_regions) << what;
      if (!counting) {  // the checkpoint covers a prefix of the tasks, whose regions were visited
        for (std::uint64_t i = 0; i < saved.done.size(); ++i) EXPECT_TRUE(saved.done.count(i)) << what << " task " << i;
        ASSERT_LE(saved_regions, first.patterns.size());
      }

      EnumerateOptions again = run_options(engine, 2);
      again.min_tasks = 200;
      again.resume = &saved;
      const Visited rest = run(again);
      expect_same_totals(rest.stats, full.stats, what);
      EXPECT_EQ(rest.stats.num_tasks_resumed, saved.done.size()) << what;
      EXPECT_EQ(rest.stats.num_regions_resumed, saved_regions) << what;
      if (!counting) {
        std::vector<std::string> joined_runs(first.patterns.begin(), first.patterns.begin() + saved_regions);
        joined_runs.insert(joined_runs.end(), rest.patterns.begin(), rest.patterns.end());
        EXPECT_EQ(joined_runs, full.patterns) << what;
      }
      again.resume = nullptr;
      again.min_tasks = 100;  // another cut
      again.resume = &saved;
      EXPECT_THAT([&] { relutope::count_regions(net, box, again); },
                  testing::ThrowsMessage<relutope::InputError>(testing::HasSubstr("resume: the saved run cut the search")))
          << what;
    }
  }
}

// What the CLI's export --jsonl relies on: at every checkpoint, the regions visited are exactly those of
// the done tasks, also when max_regions stops the run within a task (the last checkpoint was written
// with the whole task after it, before the regions of that task were visited in part).
TEST(LongRuns, AtEveryCheckpointTheVisitedRegionsAreThoseOfTheDoneTasks) {
  const Network net = relutope::random_network(3, {16, 16, 16}, 1, 5);
  const Domain box = Domain::cube(3, -2, 2);
  for (std::uint64_t limit : {0, 777}) {
    EnumerateOptions options = run_options(Engine::kVertex, 2);
    options.min_tasks = 200;
    options.max_regions = limit;
    options.checkpoint_seconds = 0;
    std::uint64_t visited = 0, checkpoints = 0, last_saved = 0;
    options.on_checkpoint = [&](const RunState& state) {
      std::uint64_t regions = 0;
      for (const auto& entry : state.done) regions += entry.second.num_regions;
      EXPECT_EQ(regions, visited) << "limit " << limit << ", checkpoint " << checkpoints;
      last_saved = regions;
      ++checkpoints;
    };
    const EnumerateStats stats = relutope::enumerate_regions(net, box, options, [&](const relutope::Region&) { ++visited; });
    EXPECT_GT(checkpoints, 2u);
    if (limit) {
      EXPECT_EQ(visited, limit);
      EXPECT_LT(last_saved, limit);
      EXPECT_FALSE(stats.complete);
    } else {
      EXPECT_EQ(last_saved, stats.num_regions);
    }
  }
}

TEST(LongRuns, FunctionsThatNeedEveryRegionRefuseAPartialRun) {
  const Network net = relutope::random_network(2, {16, 16}, 1, 7);
  const Domain box = Domain::cube(2, -1, 1);
  EnumerateOptions options;
  options.max_regions = 5;
  EXPECT_THAT([&] { relutope::certify_count(net, box, options); },
              testing::ThrowsMessage<relutope::Cancelled>(testing::HasSubstr("stopped early (region limit)")));
}

}  // namespace issue12
