#include "relutope/certify.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "detail/compare_passes.h"
#include "detail/enumerate_leaves.h"
#include "engines/exact_engine.h"
#include "relutope/error.h"
#include "relutope/random_network.h"
#include "support/networks.h"

namespace {

using relutope::Domain;

using networks::lines;

TEST(Certify, AgreesWithTheFloatingPointCountOnWellConditionedNets) {
  for (int d = 1; d <= 3; ++d)
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      relutope::Network net = relutope::random_network(d, {6, 5, 4}, 2, seed);
      for (auto& layer : net.layers) layer.weight = layer.weight.cast<float>().cast<double>();  // as PyTorch stores them
      const relutope::Certificate c = relutope::certify_count(net, Domain::cube(d, -1, 1));
      EXPECT_TRUE(c.certified);
      EXPECT_EQ(c.num_regions, c.float_regions) << "d=" << d << " seed=" << seed;
      EXPECT_EQ(c.float_missed, 0u);
      EXPECT_EQ(c.float_invented, 0u);
      EXPECT_EQ(c.float_facets_wrong, 0u);
      EXPECT_GE(c.facets_certified, (d + 1) * c.num_regions);  // a d-polytope has at least d+1 facets
    }
}

TEST(Certify, TheFloatingPointPassKeepsTheSliverBelowItsTolerance) {
  // Three lines nearly through one point: the triangle between them has sides ~1e-12, below the
  // float tolerance (2.8e-9). Exactly, it is a region of positive area; the floating-point pass
  // used to drop it, and now hands the cut it cannot decide to exact arithmetic (issue 8).
  const relutope::Network net = lines({{1, 0, 0}, {0, 1, 0}, {1, 1, 1e-12}});
  const relutope::Certificate c = relutope::certify_count(net, Domain::cube(2, -1, 1));
  EXPECT_EQ(c.num_regions, 7u);
  EXPECT_EQ(c.float_regions, 7u);
  EXPECT_EQ(c.float_missed, 0u);
  EXPECT_EQ(c.float_invented, 0u);
  EXPECT_EQ(c.float_facets_wrong, 0u);
  EXPECT_GE(relutope::count_regions(net, Domain::cube(2, -1, 1)).num_exact_decisions, 1u);
}

TEST(Certify, ExactDegeneraciesCountOnlyPositiveVolume) {
  // Three lines exactly through one point: 6 regions, not 7; a repeated hyperplane adds nothing.
  EXPECT_EQ(relutope::certify_count(lines({{1, 0, 0}, {0, 1, 0}, {1, 1, 0}}), Domain::cube(2, -1, 1)).num_regions, 6u);
  EXPECT_EQ(relutope::certify_count(lines({{1, 0, 0}, {1, 0, 0}}), Domain::cube(2, -1, 1)).num_regions, 2u);
  EXPECT_EQ(relutope::certify_count(lines({{1, 1, 2}}), Domain::cube(2, -1, 1)).num_regions, 1u);
}

// The two passes' leaf keys (detail::leaf_key), as certify_count compares them.
std::vector<std::string> leaf_keys(const relutope::Network& net, const Domain& domain, relutope::Engine engine,
                                   int threads) {
  relutope::EnumerateOptions options;
  options.engine = engine;
  options.num_threads = threads;
  std::vector<std::string> keys;
  const int n = net.num_neurons();
  relutope::detail::enumerate_leaves(
      net, domain, options, [n](const relutope::detail::Leaf& leaf) { return relutope::detail::leaf_key(leaf, n); },
      [&](const std::string& key) { keys.push_back(key); });
  return keys;
}

TEST(Certify, TheLeafComparisonCatchesAWrongFloatingPointPass) {
  // The comparison certify_count runs, on the real leaves of both passes, then on float leaves made
  // wrong in each way it must notice.
  relutope::Network net = relutope::random_network(3, {8, 6}, 1, 4);
  const Domain box = Domain::cube(3, -1, 1);
  const auto exact = leaf_keys(net, box, relutope::Engine::kExact, 2);
  const auto floating = leaf_keys(net, box, relutope::Engine::kVertex, 2);
  const std::size_t n = static_cast<std::size_t>(net.num_neurons());
  ASSERT_GT(exact.size(), 20u);
  ASSERT_EQ(exact.size(), floating.size());
  auto compare = [&](std::vector<std::string> wrong) { return relutope::detail::compare_passes(exact, std::move(wrong), net); };
  const relutope::Certificate right = compare(floating);
  EXPECT_TRUE(right.certified);
  EXPECT_EQ(right.num_regions, exact.size());
  EXPECT_EQ(right.float_missed + right.float_invented + right.float_facets_wrong, 0u);
  EXPECT_GE(right.facets_certified, 4 * right.num_regions);  // a 3-polytope has at least 4 facets

  auto pattern_text = [&](const std::string& key) {
    return relutope::pattern_string(relutope::ActivationPattern(key.begin(), key.begin() + n), net);
  };
  {  // a region left out
    auto wrong = floating;
    const std::string dropped = wrong[7];
    wrong.erase(wrong.begin() + 7);
    const relutope::Certificate c = compare(wrong);
    EXPECT_EQ(c.float_regions, exact.size() - 1);
    EXPECT_EQ(c.float_missed, 1u);
    EXPECT_EQ(c.float_invented, 0u);
    EXPECT_EQ(c.missed_patterns, std::vector<std::string>{pattern_text(dropped)});
  }
  {  // a region reported twice: the second is invented
    auto wrong = floating;
    wrong.push_back(wrong[3]);
    const relutope::Certificate c = compare(wrong);
    EXPECT_EQ(c.float_missed, 0u);
    EXPECT_EQ(c.float_invented, 1u);
    EXPECT_EQ(c.invented_patterns, std::vector<std::string>{pattern_text(floating[3])});
  }
  {  // a pattern that is no region's (neuron 0 flipped where that pattern does not exist)
    auto wrong = floating;
    std::size_t k = 0;
    std::string flipped;
    for (; k < wrong.size(); ++k) {
      flipped = wrong[k];
      flipped[0] ^= 1;
      bool exists = false;
      for (const std::string& e : exact) exists = exists || e.compare(0, n, flipped, 0, n) == 0;
      if (!exists) break;
    }
    ASSERT_LT(k, wrong.size());
    wrong[k] = flipped;
    const relutope::Certificate c = compare(wrong);
    EXPECT_EQ(c.float_missed, 1u);
    EXPECT_EQ(c.float_invented, 1u);
    EXPECT_EQ(c.invented_patterns, std::vector<std::string>{pattern_text(flipped)});
  }
  {  // a facet left out, and one too many, in two regions
    auto wrong = floating;
    wrong[2].resize(wrong[2].size() - sizeof(relutope::detail::ConstraintCode));
    wrong[5] += wrong[5].substr(n, sizeof(relutope::detail::ConstraintCode));
    const relutope::Certificate c = compare(wrong);
    EXPECT_EQ(c.float_missed + c.float_invented, 0u);
    EXPECT_EQ(c.float_facets_wrong, 2u);
  }
  // The exact pass reporting a region twice is no count to certify.
  auto doubled = exact;
  doubled.push_back(exact[0]);
  EXPECT_THROW(relutope::detail::compare_passes(doubled, floating, net), relutope::UncertifiedError);
}

TEST(Certify, LeafKeysComeInTheSameOrderOnAnyNumberOfThreads) {
  const relutope::Network net = relutope::random_network(2, {10, 10}, 1, 9);
  const Domain box = Domain::cube(2, -1, 1);
  ASSERT_GT(leaf_keys(net, box, relutope::Engine::kVertex, 1).size(), 30u);
  for (relutope::Engine engine : {relutope::Engine::kExact, relutope::Engine::kVertex})
    EXPECT_EQ(leaf_keys(net, box, engine, 1), leaf_keys(net, box, engine, 2)) << relutope::engine_name(engine);
}

TEST(Certify, VerticesOnDemandGiveTheSameLeavesAsExactVertices) {
  // certify_count's exact pass keeps new vertices in doubles with an error bound and computes their
  // integers only where that cannot decide a sign (detail::ExactVerticesOnDemand): the same patterns
  // and facets as with every vertex exact, also where vertices lie exactly on later hyperplanes
  // (integer weights, repeated and doubled neurons), with a Max unit and in a clipped box.
  std::vector<std::pair<relutope::Network, Domain>> cases;
  for (int d = 2; d <= 5; ++d) {
    relutope::Network net = relutope::random_network(d, {7, 6}, 1, 20 + d);
    for (auto& layer : net.layers) {
      layer.weight = (4 * layer.weight).array().round();
      layer.bias = (4 * layer.bias).array().round();
    }
    cases.emplace_back(net, Domain::cube(d, -1, 1));
    relutope::Network repeated = relutope::random_network(d, {6, 6}, 1, 30 + d);
    for (int l = 0; l < 2; ++l) {
      auto& layer = repeated.layers[l];
      layer.weight.row(1) = layer.weight.row(0);
      layer.bias[1] = layer.bias[0];
      layer.weight.row(2) = 2 * layer.weight.row(0);
      layer.bias[2] = 2 * layer.bias[0];
    }
    Domain clipped = Domain::cube(d, -1, 1);
    relutope::Halfspace h;
    h.a = Eigen::VectorXd::Ones(d);
    h.b = 0.5;
    clipped.extra.push_back(h);
    cases.emplace_back(repeated, clipped);
  }
  relutope::Network with_max = relutope::random_network(3, {8}, 1, 7);
  relutope::Layer max;
  max.activation = relutope::Activation::kMax;
  max.unit_rows = {2, 3};
  max.weight = relutope::random_network(8, {5}, 1, 8).layers[0].weight;
  max.bias = Eigen::VectorXd::Zero(5);
  with_max.layers.back().weight = Eigen::MatrixXd::Ones(1, 2);
  with_max.layers.back().bias = Eigen::VectorXd::Zero(1);
  with_max.layers.insert(with_max.layers.end() - 1, max);
  cases.emplace_back(with_max, Domain::cube(3, -1, 1));
  for (std::size_t i = 0; i < cases.size(); ++i)
    for (int threads : {1, 2}) {
      SCOPED_TRACE(std::to_string(i) + ", " + std::to_string(threads) + " threads");
      const auto& [net, domain] = cases[i];
      const std::vector<std::string> exact = leaf_keys(net, domain, relutope::Engine::kExact, threads);
      std::vector<std::string> on_demand;
      {
        const relutope::detail::ExactVerticesOnDemand scope;
        on_demand = leaf_keys(net, domain, relutope::Engine::kExact, threads);
      }
      EXPECT_GT(exact.size(), 1u);
      EXPECT_EQ(on_demand, exact);
    }
}

}  // namespace
