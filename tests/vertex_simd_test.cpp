// The vertex engine's split tests vertex pairs eight at a time on AVX-512 where the CPU has it, in
// scalar code otherwise: both must give the same regions, in the same order, with the same bits.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "engines/vertex_engine.h"
#include "relutope/enumerate.h"
#include "relutope/export.h"
#include "relutope/random_network.h"

namespace {

using relutope::Domain;
using relutope::Network;

// Every field of the JSONL export of `net` on `domain` (vertex engine), and the count.
std::string exported(const Network& net, const Domain& domain, int threads) {
  relutope::EnumerateOptions options;
  options.engine = relutope::Engine::kVertex;
  options.num_threads = threads;
  options.serial_start_seconds = 0;  // the threads share the work from the start
  options.with_vertices = true;
  std::ostringstream out;
  // The fields from the vertices and the cuts (no volumes: the face lattice would take most of the time).
  relutope::JsonlWriter writer(out, net, domain, {"pattern", "interior_point", "vertices", "halfspaces", "depth"});
  const relutope::EnumerateStats stats =
      relutope::enumerate_regions(net, domain, options, [&](const relutope::Region& r) { writer.write(r); });
  return std::to_string(stats.num_regions) + " regions\n" + out.str();
}

class ScalarPairTest {
 public:
  ScalarPairTest() : was_(relutope::detail::vertex_simd()) { relutope::detail::set_vertex_simd(false); }
  ~ScalarPairTest() { relutope::detail::set_vertex_simd(was_); }

 private:
  bool was_;
};

TEST(VertexSimd, TheScalarAndSimdPairTestsGiveIdenticalExports) {
  if (!relutope::detail::vertex_simd()) GTEST_SKIP() << "no AVX-512 here (or RELUTOPE_VERTEX_SIMD=0): one path only";
  using relutope::RandomInit;
  Domain triangle = Domain::cube(3, -1, 1);  // a polytope domain: cells that are not simple at its corners
  triangle.extra.push_back({Eigen::Vector3d(1, 1, 1), 1.0, {}});
  triangle.extra.push_back({Eigen::Vector3d(-1, 1, 0), 0.5, {}});
  const struct {
    Network net;
    Domain domain;
  } cases[] = {
      {relutope::random_network(2, {16, 16, 16}, 1, 1, RandomInit::kHe, 0.1), Domain::cube(2, -1, 1)},
      {relutope::random_network(3, {10, 10, 10}, 1, 2, RandomInit::kHe, 0.1), Domain::cube(3, -1, 1)},
      {relutope::random_network(4, {8, 8, 8}, 1, 3, RandomInit::kHe, 0.1), Domain::cube(4, -1, 1)},
      {relutope::random_network(5, {8, 8}, 1, 4, RandomInit::kHe, 0.1), Domain::cube(5, -1, 1)},
      {relutope::random_network(6, {7, 7}, 1, 5, RandomInit::kHe, 0.1), Domain::cube(6, -1, 1)},
      {relutope::random_network(3, {8, 8}, 1, 6, RandomInit::kHe, 0.1), triangle},
  };
#ifdef __SANITIZE_ADDRESS__
  // Under the sanitizers (~25x slower) one thread count runs both paths: 140 s for both counts on a loaded
  // machine. The release build compares both.
  const std::vector<int> thread_counts = {2};
#else
  const std::vector<int> thread_counts = {1, 2};
#endif
  for (const auto& c : cases) {
    for (int threads : thread_counts) {
      const std::string simd = exported(c.net, c.domain, threads);
      std::string scalar;
      {
        ScalarPairTest off;
        scalar = exported(c.net, c.domain, threads);
      }
      EXPECT_GT(simd.size(), 100u) << c.net.source;
      EXPECT_TRUE(simd == scalar) << c.net.source << ", " << threads << " threads: " << simd.substr(0, simd.find('\n'))
                                  << " vs " << scalar.substr(0, scalar.find('\n'));
    }
  }
}

}  // namespace
