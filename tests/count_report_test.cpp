#include "relutope/count_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "relutope/counting_domain.h"
#include "relutope/error.h"
#include "relutope/io.h"
#include "relutope/random_network.h"
#include "support/data_path.h"

namespace {

using relutope::CountingDomain;
using relutope::DomainOrigin;
using relutope::InputError;
using testing::HasSubstr;
using testing::ThrowsMessage;

// relu(x + 1/2) - 2 relu(x) + relu(x - 1/2) on [-1, 1]: breakpoints at -1/2, 0 and 1/2.
TEST(LineBreakpoints, AreTheInnerEndsOfTheIntervals) {
  const relutope::Network net = relutope::load_network(data_path("one_layer_1d.json"));
  const std::vector<double> t = relutope::line_breakpoints(net, *net.default_domain, {});
  ASSERT_EQ(t.size(), 3u);
  EXPECT_NEAR(t[0], -0.5, 1e-12);
  EXPECT_NEAR(t[1], 0.0, 1e-12);
  EXPECT_NEAR(t[2], 0.5, 1e-12);
  EXPECT_THAT([] { relutope::line_breakpoints(relutope::random_network(2, {3}, 1, 1), relutope::Domain::cube(2, -1, 1), {}); },
              ThrowsMessage<InputError>(HasSubstr("one input")));
}

TEST(CountReport, AlongALineHasOneBreakpointFewerThanRegions) {
  const relutope::Network net = relutope::random_network(4, {8, 8}, 1, 7);
  Eigen::MatrixXd points(2, 4);
  points << -1, -1, -1, -1, 1, 1, 1, 1;
  const CountingDomain where = relutope::on_line(net, points, {0, 1}, "corners");
  EXPECT_EQ(where.origin, DomainOrigin::kLine);
  EXPECT_EQ(where.net.input_dim(), 1);
  const relutope::CountReport report = relutope::count_report("random", where, {});
  EXPECT_EQ(report.breakpoints.size() + 1, report.stats.num_regions);
  const auto json = nlohmann::ordered_json::parse(relutope::count_report_json(report, where));
  EXPECT_EQ(json["domain"]["source"], "line");
  EXPECT_EQ(json["domain"]["slice"]["description"], "the segment from row 0 to row 1 of corners (t = 0 to 1)");
  EXPECT_EQ(json["breakpoints"].size(), report.breakpoints.size());
}

TEST(CountReport, JsonHasEveryKeyInTheDocumentedOrder) {
  const CountingDomain where = relutope::default_domain(relutope::load_network(data_path("tiny_2d.json")));
  EXPECT_EQ(where.origin, DomainOrigin::kModel);
  const relutope::CountReport report = relutope::count_report("tiny_2d.json", where, {}, /*exact=*/true);
  EXPECT_EQ(report.stats.num_regions, 4u);
  ASSERT_TRUE(report.certificate && report.upper_bound);
  const auto json = nlohmann::ordered_json::parse(relutope::count_report_json(report, where));
  std::vector<std::string> keys;
  for (const auto& item : json.items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{
                      "model", "regions", "complete", "stopped", "input_dim", "hidden_widths", "neurons", "output_dim",
                      "output_head", "domain", "engine", "threads", "ranks", "tasks", "tasks_resumed", "seconds",
                      "regions_per_second", "tolerance", "tolerance_abs", "near_degenerate",
                      "exact_decisions", "lps", "lp_fallbacks", "certified", "float_regions", "float_missed",
                      "float_invented", "facets_certified", "float_facets_wrong", "missed_patterns", "invented_patterns",
                      "exact_seconds", "upper_bound", "fraction_of_upper_bound"}));
}

TEST(CountingDomain, PlaneChecksThePointsAndRows) {
  const relutope::Network net = relutope::random_network(3, {4}, 1, 2);
  Eigen::MatrixXd points = Eigen::MatrixXd::Identity(3, 3);
  const CountingDomain plane = relutope::on_plane(net, points, {0, 1, 2});
  EXPECT_EQ(plane.origin, DomainOrigin::kPlane);
  EXPECT_EQ(plane.domain.extra.size(), 3u);  // the triangle
  EXPECT_EQ(plane.slice->description, "the plane through rows 0,1,2 of the points");
  EXPECT_THAT([&] { relutope::on_plane(net, points, {0, 1, 3}); },
              ThrowsMessage<InputError>("row 3 is not a row of the points (0 to 2)"));
  EXPECT_THAT([&] { relutope::on_plane(net, Eigen::MatrixXd::Zero(3, 2), {0, 1, 2}, relutope::PlaneRegion::kTriangle, 1.5, "p.csv"); },
              ThrowsMessage<InputError>(HasSubstr("p.csv has 2 coordinates per row but")));
  points.row(2) = 2 * points.row(1) - points.row(0);  // on the line through rows 0 and 1
  EXPECT_THAT([&] { relutope::on_plane(net, points, {0, 1, 2}); },
              ThrowsMessage<InputError>(HasSubstr("rows 0,1,2 of the points: the three points are (nearly) collinear")));
}

// The data points a slice was made from, in its coordinates: pictures mark them.
TEST(CountingDomain, AnchorsAreThePointsInSliceCoordinates) {
  const relutope::Network net = relutope::random_network(4, {4}, 1, 3);
  Eigen::MatrixXd points(4, 4);
  points << 1, 0, 0, 0, 0, 2, 0, 1, 0, 0, 3, -1, 5, 5, 5, 5;
  const CountingDomain plane = relutope::on_plane(net, points, {3, 0, 2});
  ASSERT_EQ(plane.anchors.size(), 3u);
  const Eigen::Index rows[3] = {3, 0, 2};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(plane.anchors[i].second, "row " + std::to_string(rows[i]));
    EXPECT_LT((plane.slice->to_input(plane.anchors[i].first) - points.row(rows[i]).transpose()).norm(), 1e-12);
  }
  const CountingDomain line = relutope::on_line(net, points, {1, 2});
  ASSERT_EQ(line.anchors.size(), 2u);
  EXPECT_NEAR(line.anchors[0].first[0], 0.0, 1e-12);
  EXPECT_NEAR(line.anchors[1].first[0], 1.0, 1e-12);
  EXPECT_TRUE(relutope::default_domain(net).anchors.empty());
}

TEST(CountingDomain, GivenDomainMustMatchTheNetwork) {
  const relutope::Network net = relutope::random_network(3, {4}, 1, 2);
  EXPECT_THAT([&] { relutope::on_domain(net, relutope::Domain::cube(2, 0, 1), DomainOrigin::kPolytope); },
              ThrowsMessage<InputError>(HasSubstr("the polytope has dimension 2 but")));
  EXPECT_THAT([&] { relutope::on_domain(net, relutope::Domain::cube(3, 1, 0), DomainOrigin::kBox); },
              ThrowsMessage<InputError>(HasSubstr("dimension 0: lo 1 > hi 0")));
  EXPECT_EQ(relutope::default_domain(net).origin, DomainOrigin::kDefault);
}

}  // namespace
