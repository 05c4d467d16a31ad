#include "relutope/draw.h"

#include <cairo.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "relutope/enumerate.h"
#include "relutope/error.h"
#include "relutope/io.h"
#include "relutope/random_network.h"
#include "support/data_path.h"
#include "support/networks.h"

namespace {

using relutope::Domain;
using relutope::Network;
using relutope::Region;

// The truth the pictures are checked against, written out here rather than taken from the library:
// the forward pass, then the sign of a single output (class 1 where > 0) or the first largest output.
int class_of_forward_pass(const Network& net, const Eigen::Vector2d& x) {
  const Eigen::VectorXd y = net.evaluate(x);
  if (y.size() == 1) return y[0] > 0 ? 1 : 0;
  int best = 0;
  for (int k = 1; k < y.size(); ++k)
    if (y[k] > y[best]) best = k;
  return best;
}

const Network& two_moons() {
  static const Network net = relutope::load_network(RELUTOPE_TEST_DATA_DIR "/../../examples/two_moons.onnx");
  return net;
}

// Issue 8, defect 7: each region was filled with the class at its centroid, so wherever the decision
// boundary crosses a region part of it had the wrong colour (about 6% of the two-moons picture).
// Every pixel of the PNG whose 3x3 neighbourhood (one pixel of slack) lies in one class must have that
// class's colour; class 0 is drawn blue and class 1 orange, so blue > red tells them apart.
TEST(Draw, Issue8EveryPixelOfAClassPictureHasTheClassOfTheForwardPass) {
  const Network& net = two_moons();
  const Domain box = Domain::cube(2, -1, 1);
  relutope::DrawOptions options;
  options.width = 400;
  options.color_by = relutope::ColorBy::kClass;
  options.region_boundaries = false;
  options.decision_boundary = false;
  const std::string png = temp_path("issue8_two_moons.png");
  relutope::write_png(png, net, box, networks::regions_with_geometry(net, box), options);

  cairo_surface_t* surface = cairo_image_surface_create_from_png(png.c_str());
  ASSERT_EQ(cairo_surface_status(surface), CAIRO_STATUS_SUCCESS);
  const unsigned char* data = cairo_image_surface_get_data(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  const double margin = 10, plot = 400;  // the layout: a 10-pixel margin around a 400 x 400 plot
  auto to_domain = [&](double px, double py) {
    return Eigen::Vector2d(-1 + 2 * (px - margin) / plot, 1 - 2 * (py - margin) / plot);
  };
  int checked = 0, wrong = 0, boundary = 0;
  for (int py = static_cast<int>(margin); py < margin + plot; ++py)
    for (int px = static_cast<int>(margin); px < margin + plot; ++px) {
      const double cx = px + 0.5, cy = py + 0.5;
      const int expected = class_of_forward_pass(net, to_domain(cx, cy));
      bool near_boundary = false;
      for (int dy = -1; dy <= 1 && !near_boundary; ++dy)
        for (int dx = -1; dx <= 1 && !near_boundary; ++dx)
          near_boundary = class_of_forward_pass(net, to_domain(cx + dx, cy + dy)) != expected;
      if (near_boundary) {
        ++boundary;
        continue;
      }
      const std::uint32_t pixel = *reinterpret_cast<const std::uint32_t*>(data + py * stride + 4 * px);  // xRGB
      const int red = (pixel >> 16) & 0xff, blue = pixel & 0xff;
      const int drawn = blue > red ? 0 : 1;
      ++checked;
      if (drawn != expected) ++wrong;
    }
  cairo_surface_destroy(surface);
  EXPECT_GT(checked, 150000);
  EXPECT_LT(boundary, 5000);
  EXPECT_EQ(wrong, 0) << wrong << " of " << checked << " pixels have the wrong class colour (" << boundary
                      << " within a pixel of the boundary)";
}

TEST(Draw, WritesAnSvgAndAPngOfTheRequestedSize) {
  const Network net = relutope::random_network(2, {8, 8}, 1, 71);
  const Domain box = Domain::box(Eigen::Vector2d(-1, -1), Eigen::Vector2d(1, 0));  // twice as wide as high
  const auto regions = networks::regions_with_geometry(net, box);
  relutope::DrawOptions options;
  options.width = 400;
  options.color_by = relutope::ColorBy::kClass;
  const std::string svg = temp_path("draw.svg"), png = temp_path("draw.png");
  relutope::write_svg(svg, net, box, regions, options);
  relutope::write_png(png, net, box, regions, options);
  std::ifstream s(svg);
  const std::string text((std::istreambuf_iterator<char>(s)), std::istreambuf_iterator<char>());
  // 400x200 plot + margins; the legend: the count, the key (one row or two, as the font's widths make it),
  // the class swatches: 20 pixels a row
  int width = 0, height = 0;
  ASSERT_EQ(std::sscanf(text.c_str() + text.find("<svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\"",
                        &width, &height), 2);
  EXPECT_EQ(width, 420);
  EXPECT_TRUE(height == 290 || height == 310) << height;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n') > static_cast<long>(regions.size()), true);
  EXPECT_THAT(text, testing::EndsWith("</svg>\n"));
  std::ifstream p(png, std::ios::binary);
  unsigned char header[24];
  p.read(reinterpret_cast<char*>(header), 24);
  ASSERT_TRUE(p);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(header) + 1, 3), "PNG");
  const auto be32 = [&](int at) { return (header[at] << 24) | (header[at + 1] << 16) | (header[at + 2] << 8) | header[at + 3]; };
  EXPECT_EQ(be32(16), 420);
  EXPECT_EQ(be32(20), height);
  const Network three = relutope::random_network(3, {4}, 1, 1);
  EXPECT_THROW(relutope::write_svg(svg, three, Domain::cube(3, -1, 1), {}, options), relutope::InputError);
}

double area(const std::vector<Eigen::Vector2d>& p) {
  double twice = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const Eigen::Vector2d& u = p[i];
    const Eigen::Vector2d& v = p[(i + 1) % p.size()];
    twice += u.x() * v.y() - u.y() * v.x();
  }
  return twice / 2;
}

// Signed distance of x inside a counter-clockwise convex polygon: > 0 strictly inside.
double depth_inside(const std::vector<Eigen::Vector2d>& p, const Eigen::Vector2d& x) {
  double depth = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < p.size(); ++i) {
    const Eigen::Vector2d e = p[(i + 1) % p.size()] - p[i];
    if (e.norm() == 0) continue;
    const Eigen::Vector2d d = x - p[i];
    depth = std::min(depth, (e.x() * d.y() - e.y() * d.x()) / e.norm());
  }
  return depth;
}

struct PiecesCase {
  int outputs;
  std::uint64_t seed;
};

class ClassPieces : public testing::TestWithParam<PiecesCase> {};

// The pieces tile each region (areas add up, no class twice), and every sampled point strictly inside a
// piece has the piece's class by the forward pass; points in no piece (on a boundary) are a tiny minority.
TEST_P(ClassPieces, TileTheRegionsAndAgreeWithTheForwardPass) {
  const auto [outputs, seed] = GetParam();
  const Network net = relutope::random_network(2, {6, 6}, outputs, seed, relutope::RandomInit::kHe);
  const Domain box = Domain::cube(2, -1, 1);
  const auto regions = networks::regions_with_geometry(net, box);
  std::vector<relutope::ClassPiece> all;
  int split_regions = 0;
  for (const Region& r : regions) {
    const auto pieces = relutope::class_pieces(r);
    ASSERT_FALSE(pieces.empty());
    double sum = 0;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      EXPECT_GE(pieces[i].polygon.size(), 3u);
      EXPECT_EQ(pieces[i].edge_class.size(), pieces[i].polygon.size());
      EXPECT_GT(area(pieces[i].polygon), 0);
      if (i > 0) {
        EXPECT_LT(pieces[i - 1].class_index, pieces[i].class_index);
      }
      sum += area(pieces[i].polygon);
    }
    ASSERT_TRUE(r.volume);
    EXPECT_NEAR(sum, *r.volume, 1e-12 + 1e-9 * *r.volume);
    split_regions += pieces.size() > 1;
    all.insert(all.end(), pieces.begin(), pieces.end());
  }
  EXPECT_GT(split_regions, 0) << "the test should cross a decision boundary";
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> coordinate(-1, 1);
  int inside = 0, on_boundary = 0, wrong = 0;
  for (int n = 0; n < 20000; ++n) {
    const Eigen::Vector2d x(coordinate(rng), coordinate(rng));
    int holders = 0;
    for (const auto& piece : all)
      if (depth_inside(piece.polygon, x) > 1e-9) {
        ++holders;
        if (piece.class_index != class_of_forward_pass(net, x)) ++wrong;
      }
    EXPECT_LE(holders, 1);  // pieces overlap only on their boundaries
    holders ? ++inside : ++on_boundary;
  }
  EXPECT_EQ(wrong, 0);
  EXPECT_LT(on_boundary, 20);
}

// On both sides of the middle of every boundary segment the forward pass predicts different classes.
TEST_P(ClassPieces, DecisionBoundarySegmentsSeparateTwoClasses) {
  const auto [outputs, seed] = GetParam();
  const Network net = relutope::random_network(2, {6, 6}, outputs, seed, relutope::RandomInit::kHe);
  const Domain box = Domain::cube(2, -1, 1);
  const auto segments = relutope::decision_boundary(net, box, networks::regions_with_geometry(net, box));
  int checked = 0, same = 0;
  for (const auto& [a, b] : segments) {
    if ((b - a).norm() < 1e-6) continue;
    const Eigen::Vector2d normal = Eigen::Vector2d(a.y() - b.y(), b.x() - a.x()).normalized();
    const Eigen::Vector2d mid = (a + b) / 2;
    ++checked;
    same += class_of_forward_pass(net, mid + 1e-7 * normal) == class_of_forward_pass(net, mid - 1e-7 * normal);
  }
  EXPECT_GT(checked, 0);
  EXPECT_EQ(same, 0);
}

INSTANTIATE_TEST_SUITE_P(Draw, ClassPieces,
                         testing::Values(PiecesCase{1, 81}, PiecesCase{1, 82}, PiecesCase{3, 83}, PiecesCase{3, 84},
                                         PiecesCase{5, 85}));

// Edges on a tie are labelled with the other class; the others lie on the region's boundary.
TEST(Draw, PieceEdgesOnATieLieOnTheDecisionBoundary) {
  const Network net = relutope::random_network(2, {6, 6}, 3, 86, relutope::RandomInit::kHe);
  const Domain box = Domain::cube(2, -1, 1);
  int ties = 0;
  for (const Region& r : networks::regions_with_geometry(net, box))
    for (const auto& piece : relutope::class_pieces(r))
      for (std::size_t e = 0; e < piece.polygon.size(); ++e) {
        if (!piece.edge_class[e]) continue;
        ++ties;
        const Eigen::Vector2d a = piece.polygon[e], b = piece.polygon[(e + 1) % piece.polygon.size()];
        const Eigen::VectorXd y = net.evaluate((a + b) / 2);
        EXPECT_NEAR(y[piece.class_index], y[*piece.edge_class[e]], 1e-9);
        EXPECT_NEAR(y.maxCoeff(), y[piece.class_index], 1e-9);
      }
  EXPECT_GT(ties, 0);
}

// Ties go to the lowest index, as argmax: two equal outputs give class 0 only, and a single output that is
// 0 on the whole region gives class 0 (y > 0 is class 1).
TEST(Draw, ClassPiecesBreakTiesTowardsTheLowestClass) {
  Network twins = relutope::random_network(2, {4}, 2, 87);
  twins.layers.back().weight.row(1) = twins.layers.back().weight.row(0);
  twins.layers.back().bias[1] = twins.layers.back().bias[0];
  Network zero = relutope::random_network(2, {4}, 1, 88);
  zero.layers.back().weight.setZero();
  zero.layers.back().bias.setZero();
  for (const Network* net : {&twins, &zero})
    for (const Region& r : networks::regions_with_geometry(*net, Domain::cube(2, -1, 1))) {
      const auto pieces = relutope::class_pieces(r);
      ASSERT_EQ(pieces.size(), 1u);
      EXPECT_EQ(pieces[0].class_index, 0);
    }
  EXPECT_EQ(relutope::predicted_class(Eigen::Vector3d(1, 2, 2)), 1);
  EXPECT_EQ(relutope::predicted_class(Eigen::VectorXd::Zero(1)), 0);
  EXPECT_EQ(relutope::num_classes(1), 2);
  EXPECT_EQ(relutope::num_classes(4), 4);
  EXPECT_THROW(relutope::class_pieces(Region{}), relutope::InputError);
}

Network one_layer(const Eigen::MatrixXd& w, const Eigen::RowVectorXd& out) {
  Network net;
  relutope::Layer hidden;
  hidden.weight = w;
  hidden.bias = Eigen::VectorXd::Zero(w.rows());
  relutope::Layer last;
  last.weight = out;
  last.bias = Eigen::VectorXd::Zero(1);
  last.activation = relutope::Activation::kNone;
  net.layers = {hidden, last};
  return net;
}

// y = relu(x0) + relu(x1) is 0 (class 0) on the quadrant x0, x1 <= 0 and > 0 elsewhere: the decision
// boundary is two half-axes, region edges with no tie inside any region. From either side the tie holds
// along the whole edge, and the class beyond differs. y = -|x0| ties on the line x0 = 0 too, but is class 0
// on both sides: no boundary.
TEST(Draw, TheDecisionBoundaryFollowsRegionEdgesWhereTheClassChanges) {
  const Domain box = Domain::cube(2, -1, 1);
  const Network quadrant = one_layer(Eigen::Matrix2d::Identity(), Eigen::RowVector2d(1, 1));
  const auto segments = relutope::decision_boundary(quadrant, box, networks::regions_with_geometry(quadrant, box));
  double length = 0;
  for (const auto& [a, b] : segments) {
    const bool on_x1_axis = a.y() == 0 && b.y() == 0 && a.x() <= 0 && b.x() <= 0;
    const bool on_x0_axis = a.x() == 0 && b.x() == 0 && a.y() <= 0 && b.y() <= 0;
    EXPECT_TRUE(on_x0_axis || on_x1_axis) << a.transpose() << " -> " << b.transpose();
    length += (b - a).norm();
  }
  EXPECT_NEAR(length, 4, 1e-12);  // both half-axes, each seen from both sides
  Eigen::Matrix2d w;
  w << 1, 0, -1, 0;
  const Network valley = one_layer(w, Eigen::RowVector2d(-1, -1));
  EXPECT_TRUE(relutope::decision_boundary(valley, box, networks::regions_with_geometry(valley, box)).empty());
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The black decision boundary runs where the class changes: on both sides of the middle of every black
// segment of the SVG the forward pass predicts different classes.
TEST(Draw, TheBlackBoundaryOfTheSvgSeparatesTwoClasses) {
  const Network& net = two_moons();
  const Domain box = Domain::cube(2, -1, 1);
  relutope::DrawOptions options;
  options.width = 400;
  options.color_by = relutope::ColorBy::kClass;
  const std::string svg = temp_path("issue8_two_moons.svg");
  relutope::write_svg(svg, net, box, networks::regions_with_geometry(net, box), options);
  std::istringstream lines(read_text(svg));
  std::string line;
  int segments = 0, same_side = 0;
  auto to_domain = [](double px, double py) { return Eigen::Vector2d(-1 + 2 * (px - 10) / 400, 1 - 2 * (py - 10) / 400); };
  while (std::getline(lines, line)) {
    if (line.rfind("<line ", 0) != 0 || line.find("stroke=\"#000000\"") == std::string::npos) continue;
    double x1, y1, x2, y2;
    ASSERT_EQ(std::sscanf(line.c_str(), "<line x1=\"%lf\" y1=\"%lf\" x2=\"%lf\" y2=\"%lf\"", &x1, &y1, &x2, &y2), 4) << line;
    const Eigen::Vector2d a = to_domain(x1, y1), b = to_domain(x2, y2);
    if ((b - a).norm() < 1e-3) continue;  // too short for the SVG's 6 digits to place its normal
    const Eigen::Vector2d normal = Eigen::Vector2d(a.y() - b.y(), b.x() - a.x()).normalized();
    const Eigen::Vector2d mid = (a + b) / 2;
    ++segments;
    same_side += class_of_forward_pass(net, mid + 1e-4 * normal) == class_of_forward_pass(net, mid - 1e-4 * normal);
  }
  EXPECT_GT(segments, 10);
  EXPECT_EQ(same_side, 0);
}

TEST(Draw, TheLegendNamesEachClassColour) {
  const Network& net = two_moons();
  const Domain box = Domain::cube(2, -1, 1);
  const auto regions = networks::regions_with_geometry(net, box);
  relutope::DrawOptions options;
  options.color_by = relutope::ColorBy::kClass;
  const std::string svg = temp_path("legend.svg");
  relutope::write_svg(svg, net, box, regions, options);
  std::string text = read_text(svg);
  EXPECT_THAT(text, testing::HasSubstr(">class 0 (output \u2264 0)</text>"));
  EXPECT_THAT(text, testing::HasSubstr(">class 1 (output &gt; 0)</text>"));
  options.class_names = {"lower moon", "upper moon"};
  relutope::write_svg(svg, net, box, regions, options);
  text = read_text(svg);
  EXPECT_THAT(text, testing::HasSubstr(">lower moon (output \u2264 0)</text>"));
  EXPECT_THAT(text, testing::HasSubstr(">upper moon (output &gt; 0)</text>"));
  options.class_names = {"a", "b", "c"};
  EXPECT_THAT([&] { relutope::write_svg(svg, net, box, regions, options); },
              testing::ThrowsMessage<relutope::InputError>(testing::HasSubstr("class names: 3 given, but")));
  // Many classes wrap onto more legend rows, each a colour of its own.
  const Network twelve = relutope::random_network(2, {4}, 12, 89);
  relutope::DrawOptions many;
  many.color_by = relutope::ColorBy::kClass;
  many.width = 300;
  relutope::write_svg(svg, twelve, box, networks::regions_with_geometry(twelve, box), many);
  text = read_text(svg);
  EXPECT_THAT(text, testing::HasSubstr(">class 11</text>"));
  std::set<std::string> swatches;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line))
    if (line.find("stroke=\"#404040\" stroke-width=\"0.8\"") != std::string::npos)
      swatches.insert(line.substr(line.find("fill=")));
  EXPECT_EQ(swatches.size(), 12u);
  int width = 0, height = 0;
  ASSERT_EQ(std::sscanf(text.c_str() + text.find("<svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\"", &width, &height), 2);
  EXPECT_EQ(width, 320);
  EXPECT_GE(height, 300 + 70 + 3 * 20);
}

// Every text of the picture starts inside it and, as far as Cairo's widths tell, ends inside it: a long
// caption flows onto more rows, and the label of a point at the plot's top right corner goes below and left of it.
TEST(Draw, CaptionAndLabelsStayInsideThePicture) {
  const Network& net = two_moons();
  const Domain box = Domain::box(Eigen::Vector2d(-1.382825279, -0.9062566919), Eigen::Vector2d(1.402459715, 1.812513384));
  const auto regions = networks::regions_with_geometry(net, box);
  relutope::DrawOptions options;
  options.color_by = relutope::ColorBy::kClass;
  options.width = 300;
  options.title = "a_model_file_with_a_long_name_trained_for_many_epochs.onnx";
  options.marks = {{Eigen::Vector2d(1.402459715, 1.812513384), "row 17"}, {Eigen::Vector2d(-1.382825279, -0.9062566919), "row 0"}};
  const std::string svg = temp_path("caption.svg");
  relutope::write_svg(svg, net, box, regions, options);
  const std::string text = read_text(svg);
  int width = 0, height = 0;
  ASSERT_EQ(std::sscanf(text.c_str() + text.find("<svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\"", &width, &height), 2);
  std::map<std::string, std::pair<double, double>> at;  // text -> (x, y)
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    double x = 0, y = 0;
    if (std::sscanf(line.c_str(), "<text x=\"%lf\" y=\"%lf\"", &x, &y) != 2) continue;
    const std::string label = line.substr(line.find('>') + 1, line.rfind("</text>") - line.find('>') - 1);
    at[label] = {x, y};
    EXPECT_GE(x, 0) << label;
    EXPECT_GE(y, 10) << label;  // a baseline above 10 pixels cuts the text off at the top
    EXPECT_LE(y, height) << label;
  }
  const std::string count = std::to_string(regions.size()) + " regions in " + box.describe();
  ASSERT_TRUE(at.count(count) && at.count(options.title) && at.count("row 17") && at.count("row 0"));
  EXPECT_GT(at[options.title].second, at[count].second);  // the title does not fit beside the count: next row
  EXPECT_LT(at["row 17"].first, width - 40);
  // A caption wider than the picture by itself is set smaller.
  options.width = 100;
  relutope::write_svg(svg, net, box, regions, options);
  const std::string narrow = read_text(svg);
  const std::size_t caption = narrow.find(">" + count + "</text>");
  ASSERT_NE(caption, std::string::npos);
  double size = 0;
  ASSERT_EQ(std::sscanf(narrow.c_str() + narrow.rfind("font-size=\"", caption), "font-size=\"%lf\"", &size), 1);
  EXPECT_LT(size, 12);
}

}  // namespace
