#include "relutope/estimate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "relutope/error.h"
#include "relutope/random_network.h"

namespace {

using relutope::Domain;
using relutope::Engine;
using relutope::EstimateOptions;
using relutope::Network;
using relutope::RegionEstimate;

std::uint64_t exact_count(const Network& net, const Domain& box, Engine engine) {
  relutope::EnumerateOptions options;
  options.engine = engine;
  options.num_threads = 1;
  return relutope::count_regions(net, box, options).num_regions;
}

RegionEstimate estimate(const Network& net, const Domain& box, Engine engine, int probes, std::uint64_t seed,
                        int threads = 2, int strata = 0) {
  EstimateOptions options;
  options.strata = strata;
  options.run.engine = engine;
  options.run.num_threads = threads;
  options.num_probes = probes;
  options.seed = seed;
  return relutope::estimate_regions(net, box, options);
}

// Knuth's estimator is unbiased: the mean of many probes is within a few standard errors of the
// count. The standard error is the probes' own (sample standard deviation / sqrt(n)), and 4 of them
// leave a chance of 6e-5 per case of failing by bad luck (z-test; with these fixed seeds, none). A
// wrong weight (a Max unit's k-way split counted as 2, a leaf's subtree not counted, a stratum
// counted twice) moves the mean by far more. Checked from the root alone (1 stratum: every probe
// walks the whole depth) and over 8 strata; the automatic choice walks these small trees whole.
void expect_unbiased(const Network& net, const Domain& box, Engine engine, int probes, std::uint64_t seed) {
  const std::uint64_t truth = exact_count(net, box, engine);
  for (int strata : {1, 8}) {
    const RegionEstimate e = estimate(net, box, engine, probes, seed, 2, strata);
    ASSERT_EQ(e.num_probes, probes);
    ASSERT_EQ(e.strata, strata);
    ASSERT_EQ(e.engine, engine);
    EXPECT_NEAR(e.regions, static_cast<double>(truth), 4 * e.std_error)
        << net.source << " (" << relutope::engine_name(engine) << ", " << strata << " strata): " << truth
        << " regions, estimate " << e.regions << " +- " << e.std_error;
    EXPECT_GE(e.tree_nodes, e.regions * 0.5);  // a tree has at least as many nodes as leaves, roughly
    EXPECT_GT(e.count_seconds, 0);
  }
  // Automatic strata: these trees are small enough to be walked whole, so the estimate is the count.
  const RegionEstimate whole = estimate(net, box, engine, probes, seed);
  if (whole.strata == 0) {
    EXPECT_EQ(whole.regions, static_cast<double>(truth)) << net.source;
    EXPECT_EQ(whole.low, whole.high);
  }
}

// A 2-D network whose hidden layer is Max units of 3 rows: splits with up to three children.
Network max_net(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  Network net;
  relutope::Layer first;
  first.weight = Eigen::MatrixXd::NullaryExpr(6, 2, [&] { return normal(rng); });
  first.bias = Eigen::VectorXd::NullaryExpr(6, [&] { return 0.3 * normal(rng); });
  first.activation = relutope::Activation::kRelu;
  relutope::Layer max;
  max.weight = Eigen::MatrixXd::NullaryExpr(9, 6, [&] { return normal(rng); });
  max.bias = Eigen::VectorXd::NullaryExpr(9, [&] { return 0.3 * normal(rng); });
  max.activation = relutope::Activation::kMax;
  max.unit_rows = {3, 3, 3};
  relutope::Layer out;
  out.weight = Eigen::MatrixXd::NullaryExpr(1, 3, [&] { return normal(rng); });
  out.bias = Eigen::VectorXd::Zero(1);
  out.activation = relutope::Activation::kNone;
  net.layers = {first, max, out};
  net.source = "max_net(" + std::to_string(seed) + ")";
  net.validate();
  return net;
}

TEST(Estimate, MeanOfProbesConvergesToTheCountVertexEngine) {
  for (std::uint64_t seed : {1, 2, 3, 4})
    expect_unbiased(relutope::random_network(2, {8, 8, 8}, 1, seed), Domain::cube(2, -1, 1), Engine::kVertex, 20000,
                    seed);
  expect_unbiased(relutope::random_network(3, {12, 12}, 1, 5), Domain::cube(3, -2, 2), Engine::kVertex, 20000, 5);
}

TEST(Estimate, MeanOfProbesConvergesToTheCountLpEngine) {
  for (std::uint64_t seed : {6, 7})
    expect_unbiased(relutope::random_network(3, {8, 8}, 1, seed), Domain::cube(3, -1, 1), Engine::kLp, 5000, seed);
}

TEST(Estimate, MeanOfProbesConvergesToTheCountExactEngine) {
  expect_unbiased(relutope::random_network(2, {6, 6}, 1, 8), Domain::cube(2, -1, 1), Engine::kExact, 3000, 8);
}

TEST(Estimate, MaxUnitsSplitIntoMoreThanTwoChildren) {
  for (std::uint64_t seed : {9, 10}) {
    const Network net = max_net(seed);
    for (Engine engine : {Engine::kVertex, Engine::kLp}) expect_unbiased(net, Domain::cube(2, -2, 2), engine, 10000, seed);
  }
}

TEST(Estimate, SameSeedSameProbesForAnyThreadCount) {
  const Network net = relutope::random_network(2, {8, 8}, 1, 11);
  const RegionEstimate one = estimate(net, Domain::cube(2, -1, 1), Engine::kVertex, 300, 42, 1, 4);
  const RegionEstimate three = estimate(net, Domain::cube(2, -1, 1), Engine::kVertex, 300, 42, 3, 4);
  EXPECT_EQ(one.probes, three.probes);
  EXPECT_EQ(one.regions, three.regions);
  const RegionEstimate other = estimate(net, Domain::cube(2, -1, 1), Engine::kVertex, 300, 43, 1, 4);
  EXPECT_NE(one.probes, other.probes);  // the seed matters
}

TEST(Estimate, ASmallTreeIsWalkedWholeAndCountedExactly) {
  const Network net = relutope::random_network(2, {8, 8}, 1, 15);
  const std::uint64_t truth = exact_count(net, Domain::cube(2, -1, 1), Engine::kVertex);
  const RegionEstimate e = estimate(net, Domain::cube(2, -1, 1), Engine::kVertex, 10000, 0);
  EXPECT_EQ(e.strata, 0);
  EXPECT_EQ(e.num_probes, 0);
  EXPECT_EQ(e.regions, static_cast<double>(truth));
  EXPECT_EQ(e.low, e.regions);
  EXPECT_EQ(e.high, e.regions);
}

TEST(Estimate, ATreeWithoutSplitsIsCountedExactly) {
  // One neuron that never changes sign in the box: one region, every probe says 1.
  Network net = relutope::random_network(2, {1}, 1, 12);
  net.layers[0].bias[0] = 100;
  const RegionEstimate e = estimate(net, Domain::cube(2, -1, 1), Engine::kVertex, 10, 0);
  EXPECT_EQ(e.regions, 1);
  EXPECT_EQ(e.std_error, 0);
  EXPECT_EQ(e.low, 1);
  EXPECT_EQ(e.high, 1);
}

TEST(Estimate, TimeBudgetStopsEarlyWithAtLeastTwoProbes) {
  const Network net = relutope::random_network(3, {16, 16}, 1, 13);
  EstimateOptions options;
  options.num_probes = 1000000;
  options.time_budget = 1e-6;
  const RegionEstimate e = relutope::estimate_regions(net, Domain::cube(3, -1, 1), options);
  EXPECT_GE(e.num_probes, 2);
  EXPECT_LT(e.num_probes, 1000000);
  EXPECT_EQ(e.probes.size(), static_cast<std::size_t>(e.num_probes));
}

TEST(Estimate, BadOptionsAreNamed) {
  const Network net = relutope::random_network(2, {4}, 1, 14);
  EstimateOptions options;
  options.num_probes = 1;
  try {
    relutope::estimate_regions(net, Domain::cube(2, -1, 1), options);
    FAIL() << "num_probes 1 was accepted";
  } catch (const relutope::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("num_probes"), std::string::npos) << e.what();
  }
  options.num_probes = 10;
  options.strata = 6;  // more than num_probes / 2: a stratum needs two probes
  try {
    relutope::estimate_regions(net, Domain::cube(2, -1, 1), options);
    FAIL() << "strata 6 with 10 probes was accepted";
  } catch (const relutope::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("strata"), std::string::npos) << e.what();
  }
  options.strata = 0;
  options.time_budget = -1;
  EXPECT_THROW(relutope::estimate_regions(net, Domain::cube(2, -1, 1), options), relutope::InputError);
  options.time_budget = 0;
  EXPECT_THROW(relutope::estimate_regions(net, Domain::cube(3, -1, 1), options), relutope::InputError);  // dimensions
}

TEST(Estimate, OptionsAreCheckedUnderTheCallersNames) {
  EstimateOptions options;
  options.num_probes = 10;
  options.strata = 6;
  relutope::EstimateOptionNames names;
  names.num_probes = "--probes";
  names.strata = "--strata";
  EXPECT_THAT([&] { relutope::check_estimate_options(options, names); },
              testing::ThrowsMessage<relutope::InputError>(
                  testing::StrEq("--strata: expected 0 (automatic) or a number from 1 to --probes / 2 = 5, got 6")));
  EXPECT_THAT([&] { relutope::check_estimate_options(options); },
              testing::ThrowsMessage<relutope::InputError>(testing::StartsWith("strata: ")));
  options.strata = 5;
  EXPECT_NO_THROW(relutope::check_estimate_options(options));
}

TEST(Estimate, StudentQuantiles) {
  EXPECT_NEAR(relutope::student_t975(1), 12.7062, 1e-4);
  EXPECT_NEAR(relutope::student_t975(30), 2.0423, 1e-4);
  EXPECT_NEAR(relutope::student_t975(31), 2.0395, 1e-4);
  EXPECT_NEAR(relutope::student_t975(60), 2.0003, 1e-4);
  EXPECT_NEAR(relutope::student_t975(1000), 1.9623, 1e-4);
  EXPECT_NEAR(relutope::student_t975(1000000), 1.96, 1e-4);
}

}  // namespace
