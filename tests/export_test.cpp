#include "relutope/export.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "relutope/enumerate.h"
#include "relutope/error.h"
#include "relutope/polytope.h"
#include "relutope/random_network.h"
#include "support/data_path.h"
#include "support/networks.h"
#include "support/mesh_volumes.h"

namespace {

using relutope::Domain;
using relutope::Network;
using relutope::Region;

class Adjacency : public testing::TestWithParam<int> {};

TEST_P(Adjacency, IsSymmetricAndCrossesExactlyTheFacetsNeuron) {
  const int d = GetParam();
  const Network net = relutope::random_network(d, {6, 5}, 1, 60 + d);
  const Domain box = Domain::cube(d, -1, 1);
  const auto regions = networks::regions_with_geometry(net, box);
  const std::vector<int> widths = net.hidden_widths();
  std::map<std::string, const Region*> by_pattern;
  for (const Region& r : regions) by_pattern[relutope::pattern_string(r.pattern, widths)] = &r;
  int checked = 0;
  for (const Region& r : regions) {
    const std::string mine = relutope::pattern_string(r.pattern, widths);
    for (std::size_t f = 0; f < r.halfspaces.size(); ++f) {
      const std::optional<std::string> beyond = relutope::neighbor_pattern(net, box, r, f);
      const relutope::HalfspaceOrigin& origin = r.halfspaces[f].origin;
      if (origin.kind == relutope::HalfspaceOrigin::Kind::kDomain) {
        EXPECT_FALSE(beyond);
        continue;
      }
      ASSERT_TRUE(beyond);
      const std::string& across = *beyond;
      ASSERT_TRUE(by_pattern.count(across)) << "neighbour " << across << " of " << mine << " is not a region";
      // The facet's own neuron flips; a first-layer facet flips nothing else of the first layer.
      const std::size_t at = origin.layer == 0 ? origin.neuron : widths[0] + 1 + origin.neuron;
      EXPECT_NE(across[at], mine[at]);
      if (origin.layer == 0) {
        for (int i = 0; i < widths[0]; ++i) {
          if (i != origin.neuron) {
            EXPECT_EQ(across[i], mine[i]);
          }
        }
      }
      // symmetric: the neighbour has a facet whose neighbour is this region
      const Region& other = *by_pattern.at(across);
      bool back = false;
      for (std::size_t g = 0; g < other.halfspaces.size() && !back; ++g)
        back = relutope::neighbor_pattern(net, box, other, g) == mine;
      EXPECT_TRUE(back) << mine << " -> " << across << " has no way back";
      ++checked;
    }
  }
  EXPECT_GT(checked, 5);
}

INSTANTIATE_TEST_SUITE_P(Export, Adjacency, testing::Values(1, 2, 3));

TEST(Jsonl, WritesOneParsableObjectPerRegionWithTheChosenFields) {
  const Network net = relutope::random_network(2, {5, 5}, 1, 70);
  const Domain box = Domain::cube(2, -1, 1);
  const auto regions = networks::regions_with_geometry(net, box);
  std::ostringstream all, some;
  relutope::JsonlWriter full(all, net, box);
  relutope::JsonlWriter slim(some, net, box, {"id", "volume"});
  for (const Region& r : regions) {
    full.write(r);
    slim.write(r);
  }
  std::istringstream lines(all.str());
  std::string line;
  double volume = 0;
  std::size_t n = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["id"], n);
    for (const std::string& key : relutope::jsonl_fields()) EXPECT_TRUE(j.contains(key)) << key;
    volume += j["volume"].get<double>();
    EXPECT_GE(j["halfspaces"].size(), 3u);  // a polygon has at least three edges
    for (const auto& h : j["halfspaces"]) EXPECT_EQ(h["vertices"].size(), 2u);
    ++n;
  }
  EXPECT_EQ(n, regions.size());
  EXPECT_NEAR(volume, 4.0, 1e-9);
  std::istringstream slim_lines(some.str());
  std::getline(slim_lines, line);
  EXPECT_EQ(nlohmann::json::parse(line).size(), 2u);
  std::ostringstream sink;
  EXPECT_THAT([&] { relutope::JsonlWriter(sink, net, box, {"colour"}); },
              testing::ThrowsMessage<relutope::InputError>(testing::HasSubstr("unknown field \"colour\"")));
}

TEST(Mesh, OffAndPlyCellsReloadWithCgalAndKeepTheirVolumes) {
  const Network net = relutope::random_network(3, {5, 4}, 1, 72);
  const Domain box = Domain::cube(3, -1, 1);
  const auto regions = networks::regions_with_geometry(net, box);
  relutope::CellMesh mesh;
  std::vector<double> ours;
  for (std::size_t i = 0; i < regions.size(); ++i) {
    mesh.add(regions[i], i);
    ours.push_back(relutope::measure_polytope(regions[i]).volume);
  }
  const std::string off = temp_path("cells.off"), ply = temp_path("cells.ply");
  {
    std::ofstream out(off);
    relutope::write_off(out, mesh);
    std::ofstream out2(ply);
    relutope::write_ply(out2, mesh);
  }
  for (const std::string& path : {off, ply}) {
    std::vector<double> theirs = mesh_volumes::component_volumes(path);
    ASSERT_EQ(theirs.size(), ours.size()) << path;
    std::vector<double> sorted = ours;
    std::sort(sorted.begin(), sorted.end());
    std::sort(theirs.begin(), theirs.end());
    for (std::size_t i = 0; i < sorted.size(); ++i) EXPECT_NEAR(theirs[i], sorted[i], 1e-9) << path;
  }
  std::ostringstream obj;
  relutope::write_obj(obj, mesh);
  EXPECT_THAT(obj.str(), testing::HasSubstr("g cell_" + std::to_string(regions.size() - 1)));
}

}  // namespace
