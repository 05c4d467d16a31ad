#include "relutope/polytope.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "relutope/enumerate.h"
#include "relutope/error.h"
#include "relutope/random_network.h"
#include "support/brute_force.h"
#include "support/networks.h"

namespace {

using relutope::Domain;
using relutope::Region;

std::vector<Region> regions_with_vertices(int d, const std::vector<int>& widths, std::uint64_t seed, const Domain& box) {
  relutope::EnumerateOptions options;
  options.engine = relutope::Engine::kVertex;
  options.with_vertices = true;
  return relutope::enumerate_regions(relutope::random_network(d, widths, 1, seed), box, options);
}

class Polytopes : public testing::TestWithParam<int> {};

TEST_P(Polytopes, VolumesSumToTheBoxAndEveryMeasureIsInside) {
  const int d = GetParam();
  const Domain box = Domain::box(Eigen::VectorXd::Constant(d, -1), Eigen::VectorXd::LinSpaced(d, 0.5, 1.5));
  const relutope::Network net = relutope::random_network(d, {6, 5}, 1, 40 + d);
  relutope::EnumerateOptions options;
  options.engine = relutope::Engine::kVertex;
  options.with_vertices = true;
  const auto regions = relutope::enumerate_regions(net, box, options);
  ASSERT_GT(regions.size(), 3u);
  double total = 0;
  const double tol = 1e-9 * box.diameter();
  for (const Region& r : regions) {
    const relutope::PolytopeMeasures m = relutope::measure_polytope(r, true);
    total += m.volume;
    EXPECT_GT(m.volume, 0);
    if (d == 2 || d == 3) {
      ASSERT_TRUE(m.volume_cgal);
      EXPECT_NEAR(*m.volume_cgal, m.volume, 1e-9 * (1 + m.volume));  // CGAL from the half-spaces alone
    } else {
      EXPECT_FALSE(m.volume_cgal);
    }
    // the centroid and the Chebyshev centre lie inside and have the region's pattern
    std::string pattern;
    for (auto bit : r.pattern) pattern += bit ? '1' : '0';
    EXPECT_EQ(brute_force::pattern_at(net, m.centroid), pattern);
    EXPECT_EQ(brute_force::pattern_at(net, m.chebyshev_center), pattern);
    EXPECT_GT(m.inradius, 0);
    for (const relutope::Halfspace& h : r.halfspaces) {
      EXPECT_LT(h.violation(m.centroid), 0);
      EXPECT_LE(h.violation(m.chebyshev_center) + m.inradius * h.a.norm(), 1e-9);
    }
    // every vertex satisfies every facet, with equality on at least d of them
    std::vector<int> tight(r.vertices.size(), 0);
    ASSERT_EQ(r.facet_vertices.size(), r.halfspaces.size());
    for (std::size_t f = 0; f < r.halfspaces.size(); ++f) {
      for (const Eigen::VectorXd& v : r.vertices) EXPECT_LE(r.halfspaces[f].violation(v), tol * r.halfspaces[f].a.norm());
      for (int v : r.facet_vertices[f]) {
        EXPECT_NEAR(r.halfspaces[f].violation(r.vertices[v]), 0, tol * r.halfspaces[f].a.norm());
        ++tight[v];
      }
    }
    for (int t : tight) EXPECT_GE(t, d);
  }
  EXPECT_NEAR(total, box.box_volume(), 1e-9 * box.box_volume());
}

INSTANTIATE_TEST_SUITE_P(Polytope, Polytopes, testing::Values(1, 2, 3, 4));

TEST(Polytope, TwoDimensionalRegionsTileTheBox) {
  // Independent of the volumes: every sample of the box lies inside exactly one region's H-representation.
  const Domain box = Domain::cube(2, -1, 1);
  const auto regions = regions_with_vertices(2, {8, 8, 8}, 50, box);
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-1, 1);
  for (int s = 0; s < 5000; ++s) {
    const Eigen::Vector2d x(u(rng), u(rng));
    int inside = 0;
    for (const Region& r : regions) {
      bool in = true;
      for (const relutope::Halfspace& h : r.halfspaces) in &= h.violation(x) < 0;
      inside += in;
    }
    EXPECT_EQ(inside, 1) << x.transpose();
  }
}

TEST(Polytope, AOneRegionBoxHasItsCentreAndHalfItsShortestSideAsInradius) {
  const relutope::Network net = networks::affine(3);
  relutope::EnumerateOptions options;
  options.with_vertices = true;
  const auto regions = relutope::enumerate_regions(net, Domain::box(Eigen::Vector3d(0, 0, 0), Eigen::Vector3d(1, 2, 4)), options);
  ASSERT_EQ(regions.size(), 1u);
  const relutope::PolytopeMeasures m = relutope::measure_polytope(regions[0]);
  EXPECT_NEAR(m.volume, 8, 1e-12);
  EXPECT_LT((m.centroid - Eigen::Vector3d(0.5, 1, 2)).norm(), 1e-12);
  EXPECT_NEAR(m.inradius, 0.5, 1e-12);
  EXPECT_EQ(regions[0].vertices.size(), 8u);
  EXPECT_EQ(regions[0].halfspaces.size(), 6u);
}

// measure_partition: what `relutope stats` reports, one entry per region, and the coverage check.
TEST(Polytope, PartitionMeasuresCoverTheDomainOnceEach) {
  const relutope::Network net = relutope::random_network(3, {6, 6}, 1, 11);
  const Domain box = Domain::cube(3, -1, 1);
  const relutope::PartitionMeasures m = relutope::measure_partition(net, box, {});
  const std::size_t n = m.stats.num_regions;
  EXPECT_EQ(n, relutope::count_regions(net, box).num_regions);
  ASSERT_EQ(m.volumes.size(), n);
  EXPECT_EQ(m.inradii.size(), n);
  EXPECT_EQ(m.num_facets.size(), n);
  EXPECT_EQ(m.num_vertices.size(), n);
  EXPECT_NEAR(m.coverage, 1, 1e-9);
  ASSERT_TRUE(m.coverage_cgal);
  EXPECT_NEAR(*m.coverage_cgal, 1, 1e-9);
  for (std::size_t i = 0; i < n; ++i) EXPECT_GE(m.num_vertices[i], 4);
  relutope::EnumerateOptions lp;
  lp.engine = relutope::Engine::kLp;
  EXPECT_THAT([&] { relutope::measure_partition(net, box, lp); },
              testing::ThrowsMessage<relutope::InputError>(testing::HasSubstr("engine lp: measuring every region needs the vertex engine")));
  EXPECT_FALSE(relutope::measure_partition(relutope::random_network(4, {3}, 1, 1), Domain::cube(4, -1, 1), {}).coverage_cgal);
}

}  // namespace
