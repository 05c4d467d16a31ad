#include "relutope/certify.h"

#include <gtest/gtest.h>

#include <array>

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

}  // namespace
