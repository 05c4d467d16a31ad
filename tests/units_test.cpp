// The engines on the units of graph models: linear rows (skip connections), clip units and Max units.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

#include "relutope/enumerate.h"
#include "relutope/error.h"
#include "relutope/network.h"
#include "support/brute_force.h"

namespace {

using relutope::Activation;
using relutope::Domain;
using relutope::Engine;
using relutope::EnumerateOptions;
using relutope::Layer;
using relutope::Network;

constexpr Engine kEngines[] = {Engine::kVertex, Engine::kLp, Engine::kExact};

Layer layer(const Eigen::MatrixXd& w, const Eigen::VectorXd& b, Activation activation) {
  Layer l;
  l.weight = w;
  l.bias = b;
  l.activation = activation;
  return l;
}

Eigen::MatrixXd random_matrix(int rows, int cols, std::mt19937_64& rng) {
  std::normal_distribution<double> n(0.0, 1.0);
  return Eigen::MatrixXd::NullaryExpr(rows, cols, [&](Eigen::Index, Eigen::Index) { return n(rng); });
}

std::uint64_t count(const Network& net, const Domain& domain, Engine engine, int threads = 1) {
  EnumerateOptions options;
  options.engine = engine;
  options.num_threads = threads;
  return relutope::count_regions(net, domain, options).num_regions;
}

// A residual block written as layers: y = x + V relu(W x + b), then relu(U y + c) and an output.
// The first layer carries x on `carry` rows; `linear` says how: as linear rows (PReLU slope 1) or
// as ReLU rows shifted to stay active on the box [-1, 1]^2 (relu(x + 10) - 10: the equivalent
// network without carried rows, whose extra neurons never switch).
Network residual_block(bool linear, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int d = 2, h = 4, g = 3;
  const Eigen::MatrixXd w = random_matrix(h, d, rng), v = random_matrix(d, h, rng), u = random_matrix(g, d, rng);
  const Eigen::VectorXd b = 0.5 * random_matrix(h, 1, rng), c = 0.5 * random_matrix(g, 1, rng);
  const double shift = linear ? 0.0 : 10.0;
  Eigen::MatrixXd w1(d + h, d);
  w1 << Eigen::MatrixXd::Identity(d, d), w;
  Eigen::VectorXd b1(d + h);
  b1 << Eigen::VectorXd::Constant(d, shift), b;
  Layer first = layer(w1, b1, Activation::kPRelu);
  first.negative_slope = Eigen::VectorXd::Zero(d + h);
  if (linear) first.negative_slope.head(d).setOnes();
  // y = (carried - shift) + V relu(...), folded into the next layer: relu(U y + c)
  Eigen::MatrixXd w2(g, d + h);
  w2 << u, u * v;
  const Eigen::VectorXd b2 = c - u * Eigen::VectorXd::Constant(d, shift);
  Network net;
  net.layers = {first, layer(w2, b2, Activation::kRelu),
                layer(Eigen::MatrixXd::Ones(1, g), Eigen::VectorXd::Zero(1), Activation::kNone)};
  return net;
}

TEST(LinearRows, AreNotNeuronsAndHaveNoPatternEntry) {
  const Network net = residual_block(true, 1);
  EXPECT_EQ(net.hidden_widths(), (std::vector<int>{4, 3}));
  EXPECT_EQ(net.num_neurons(), 7);
  EXPECT_EQ(residual_block(false, 1).num_neurons(), 9);
  for (const relutope::Region& r : relutope::enumerate_regions(net, Domain::cube(2, -1, 1)))
    EXPECT_EQ(r.pattern.size(), 7u);
}

// Before linear rows were recognised, their breakpoint z = 0 split the box (the rows x_1 = 0 and
// x_2 = 0 cross it), and every engine counted more regions than the equivalent network has.
TEST(LinearRows, ResidualBlockCountsAsTheEquivalentNetworkInEveryEngine) {
  const Domain box = Domain::cube(2, -1, 1);
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const Network carried = residual_block(true, seed), equivalent = residual_block(false, seed);
    const std::uint64_t expected = count(equivalent, box, Engine::kExact);
    std::set<std::string> sampled;
    for (const std::string& p : brute_force::sampled_patterns(carried, box, 5000, static_cast<unsigned>(seed)))
      sampled.insert(p);
    ASSERT_GE(expected, sampled.size());
    for (Engine engine : kEngines) {
      EXPECT_EQ(count(carried, box, engine), expected) << "seed " << seed << ", engine " << relutope::engine_name(engine);
      EXPECT_EQ(count(carried, box, engine, 2), expected) << "seed " << seed << ", 2 threads";
    }
  }
}

TEST(LinearRows, AClipUnitWithALinearRowIsRefused) {
  Network net;
  Layer clip = layer(Eigen::MatrixXd::Ones(2, 1), Eigen::VectorXd::Zero(2), Activation::kPRelu);
  clip.negative_slope = Eigen::Vector2d(0.0, 1.0);
  clip.unit_rows = {2};
  net.layers = {clip, layer(Eigen::MatrixXd::Ones(1, 2), Eigen::VectorXd::Zero(1), Activation::kNone)};
  EXPECT_THAT([&] { net.validate(); }, testing::ThrowsMessage<relutope::InputError>(
                                           testing::HasSubstr("layers[0].unit_rows[0]: a clip unit's rows must not be linear")));
}

}  // namespace
