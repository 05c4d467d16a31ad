// The segment walker against truths it does not share code with: an exact rational walk over the
// lowered (dense) network, the forward pass (the output must be affine on every piece), and
// additivity over sub-segments.
#include <gmpxx.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <string>

#include "detail/affine_dd.h"
#include "relutope/count_report.h"
#include "relutope/counting_domain.h"
#include "relutope/error.h"
#include "relutope/graph.h"
#include "relutope/network.h"
#include "relutope/segment.h"
#include "relutope/slice.h"
#include "support/graphs.h"

namespace relutope {
namespace {

const std::string kData = std::string(RELUTOPE_TEST_DATA_DIR) + "/segment/";

using Q = mpq_class;
using QVector = std::vector<Q>;

// Pieces of a layered network on x(t) = a + t b, t in [t0, t1], in exact rationals. Each layer's
// candidate cuts are all zeros of its rows and all pairwise crossings within Max units; adjacent
// sub-segments with the same states of the layer are one piece of it.
class ExactSegmentReference {
 public:
  explicit ExactSegmentReference(const Network& net) : net_(net) {}

  long long count(const QVector& a, const QVector& b, const Q& t0, const Q& t1) const { return walk(0, a, b, t0, t1); }

 private:
  // z = W h + bias (point) and W h (direction).
  void affine(const Layer& layer, const QVector& ha, const QVector& hb, QVector& za, QVector& zb) const {
    za.assign(layer.num_rows(), 0);
    zb.assign(layer.num_rows(), 0);
    for (int r = 0; r < layer.num_rows(); ++r) {
      Q sa = layer.bias[r], sb = 0;
      for (int c = 0; c < layer.num_in(); ++c) {
        const double w = layer.weight(r, c);
        if (w == 0) continue;
        const Q q(w);
        sa += q * ha[c];
        sb += q * hb[c];
      }
      za[r] = sa;
      zb[r] = sb;
    }
  }

  // The states of the layer at t (argmax index per Max unit, lowest on ties; sign per ReLU row).
  std::vector<int> states(const Layer& layer, const QVector& za, const QVector& zb, const Q& t) const {
    std::vector<int> s;
    if (layer.activation == Activation::kMax) {
      int row = 0;
      for (int u = 0; u < layer.num_units(); ++u) {
        int best = 0;
        for (int k = 1; k < layer.rows_of_unit(u); ++k)
          if (za[row + k] + zb[row + k] * t > za[row + best] + zb[row + best] * t) best = k;
        s.push_back(best);
        row += layer.rows_of_unit(u);
      }
      return s;
    }
    for (int r = 0; r < layer.num_rows(); ++r) s.push_back(layer.slope_below(r) == 1 ? 1 : sgn(za[r] + zb[r] * t) >= 0);
    return s;
  }

  long long walk(std::size_t l, const QVector& ha, const QVector& hb, const Q& t0, const Q& t1) const {
    if (l == net_.layers.size()) return 1;  // a network whose last layer splits
    const Layer& layer = net_.layers[l];
    QVector za, zb;
    affine(layer, ha, hb, za, zb);
    if (!layer.splits()) return 1;
    std::vector<Q> cuts{t0, t1};
    auto add = [&](const Q& da, const Q& db) {
      if (sgn(db) == 0) return;
      const Q t = -da / db;
      if (t > t0 && t < t1) cuts.push_back(t);
    };
    if (layer.activation == Activation::kMax) {
      int row = 0;
      for (int u = 0; u < layer.num_units(); ++u) {
        for (int i = 0; i < layer.rows_of_unit(u); ++i)
          for (int j = i + 1; j < layer.rows_of_unit(u); ++j) add(za[row + i] - za[row + j], zb[row + i] - zb[row + j]);
        row += layer.rows_of_unit(u);
      }
    } else {
      for (int r = 0; r < layer.num_rows(); ++r)
        if (layer.slope_below(r) != 1) add(za[r], zb[r]);
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    long long total = 0;
    std::size_t begin = 0;
    while (begin + 1 < cuts.size()) {
      const std::vector<int> s = states(layer, za, zb, (cuts[begin] + cuts[begin + 1]) / 2);
      std::size_t end = begin + 1;
      while (end + 1 < cuts.size() && states(layer, za, zb, (cuts[end] + cuts[end + 1]) / 2) == s) ++end;
      // The layer's output on [cuts[begin], cuts[end]] with states s.
      QVector ya, yb;
      if (layer.activation == Activation::kMax) {
        int row = 0;
        for (int u = 0; u < layer.num_units(); ++u) {
          ya.push_back(za[row + s[u]]);
          yb.push_back(zb[row + s[u]]);
          row += layer.rows_of_unit(u);
        }
      } else {
        for (int r = 0; r < layer.num_rows(); ++r) {
          const Q scale = s[r] ? Q(1) : Q(layer.slope_below(r));
          ya.push_back(scale * za[r]);
          yb.push_back(scale * zb[r]);
        }
      }
      total += walk(l + 1, ya, yb, cuts[begin], cuts[end]);
      begin = end;
    }
    return total;
  }

  const Network& net_;
};

QVector rational(const Eigen::VectorXd& v) {
  QVector q;
  for (Eigen::Index i = 0; i < v.size(); ++i) q.emplace_back(v[i]);
  return q;
}

struct Segment {
  Eigen::VectorXd origin, direction;
};

Segment between_points(int dim, int i, int j) {
  const Eigen::MatrixXd points = load_points(kData + "points.npy");
  const Eigen::VectorXd a = points.row(i).head(dim).transpose(), b = points.row(j).head(dim).transpose();
  return {a, b - a};
}

void expect_matches_exact_reference(const std::string& model) {
  const Graph graph = load_graph_onnx(kData + model);
  const Network net = lower_to_network(graph);
  const ExactSegmentReference reference(net);
  long long total = 0;
  for (auto [i, j] : {std::pair{0, 1}, {2, 3}, {6, 7}}) {
    SCOPED_TRACE(model + " segment " + std::to_string(i) + "-" + std::to_string(j));
    const Segment s = between_points(graph.input_dim(), i, j);
    const SegmentPieces walked = pieces_on_segment(graph, s.origin, s.direction);
    const long long exact = reference.count(rational(s.origin), rational(s.direction), Q(0), Q(1));
    EXPECT_EQ(walked.pieces, exact);
    EXPECT_GT(walked.least_margin, 1.0);
    total += exact;
  }
  EXPECT_GT(total, 3 * 100) << "segments this long cross many units; the test would be weak otherwise";
}

TEST(SegmentWalk, ResidualCnnWithBatchNormMaxPoolAndHardtanhMatchesExactReference) {
  expect_matches_exact_reference("cnn_residual.onnx");
}

TEST(SegmentWalk, OverlappingMaxPoolAndRelu6MatchExactReference) { expect_matches_exact_reference("cnn_pool3.onnx"); }

TEST(SegmentWalk, OutputIsAffineOnEveryPieceAndPiecesAddUpOverSubsegments) {
  const Graph graph = load_graph_onnx(kData + "cnn_pool3.onnx");
  const Segment s = between_points(graph.input_dim(), 0, 1);
  SegmentOptions whole;
  whole.keep_breakpoints = true;
  const SegmentPieces all = pieces_on_segment(graph, s.origin, s.direction, whole);
  ASSERT_EQ(static_cast<std::int64_t>(all.breakpoints.size()), all.pieces - 1);
  ASSERT_TRUE(std::is_sorted(all.breakpoints.begin(), all.breakpoints.end()));
  std::vector<double> ends{0.0};
  ends.insert(ends.end(), all.breakpoints.begin(), all.breakpoints.end());
  ends.push_back(1.0);
  for (std::size_t p = 0; p + 1 < ends.size(); ++p) {
    // Three points inside the piece: the output's second difference vanishes (up to rounding).
    const double t0 = ends[p], t1 = ends[p + 1], h = (t1 - t0) / 4;
    const Eigen::VectorXd y0 = graph.evaluate(s.origin + (t0 + h) * s.direction);
    const Eigen::VectorXd y1 = graph.evaluate(s.origin + (t0 + 2 * h) * s.direction);
    const Eigen::VectorXd y2 = graph.evaluate(s.origin + (t0 + 3 * h) * s.direction);
    EXPECT_LT((y0 - 2 * y1 + y2).norm(), 1e-9 * (1 + y1.norm())) << "piece " << p << " [" << t0 << ", " << t1 << "]";
  }
  // Cut at a point that is no breakpoint: the two halves hold one piece twice.
  const double middle = 0.5 * (ends[ends.size() / 2 - 1] + ends[ends.size() / 2]);
  SegmentOptions left, right;
  left.t_end = middle;
  right.t_begin = middle;
  EXPECT_EQ(pieces_on_segment(graph, s.origin, s.direction, left).pieces +
                pieces_on_segment(graph, s.origin, s.direction, right).pieces,
            all.pieces + 1);
}

TEST(SegmentWalk, SameCountAndBreakpointsForAnyNumberOfThreads) {
  const Graph graph = load_graph_onnx(kData + "cnn_residual.onnx");
  const Segment s = between_points(graph.input_dim(), 2, 5);
  SegmentOptions options;
  options.keep_breakpoints = true;
  options.threads = 1;
  const SegmentPieces one = pieces_on_segment(graph, s.origin, s.direction, options);
  for (int threads : {2, 3}) {
    options.threads = threads;
    const SegmentPieces many = pieces_on_segment(graph, s.origin, s.direction, options);
    EXPECT_EQ(many.pieces, one.pieces) << threads << " threads";
    EXPECT_EQ(many.breakpoints, one.breakpoints) << threads << " threads";
  }
  EXPECT_GT(one.pieces, 100);
}

TEST(SegmentWalk, BreakpointsAgreeWithTheDenseEnginesOnTheLoweredNetwork) {
  const Graph graph = load_graph_onnx(kData + "cnn_pool3.onnx");
  const Eigen::MatrixXd points = load_points(kData + "points.npy");
  const CountingDomain line = on_line(lower_to_network(graph), points, {0, 1});
  const std::vector<double> dense = line_breakpoints(line.net, line.domain, EnumerateOptions{});
  const Segment s = between_points(graph.input_dim(), 0, 1);
  SegmentOptions options;
  options.keep_breakpoints = true;
  const std::vector<double> walked = pieces_on_segment(graph, s.origin, s.direction, options).breakpoints;
  ASSERT_EQ(dense.size(), walked.size());
  for (std::size_t i = 0; i < dense.size(); ++i) EXPECT_NEAR(dense[i], walked[i], 1e-9) << "breakpoint " << i;
}

using graphs::max_of_matmul;
using graphs::relu_of_matmul;

// Whether the MatMul of `g` gives its two outputs the same double-double bits at both points.
bool same_bits(const Graph& g, const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  detail::DdFamily x, y;
  x.hi.resize(2, 2);
  x.hi << a, b - a;
  x.lo = Eigen::MatrixXd::Zero(2, 2);
  detail::apply_affine_dd(g.nodes[1], {&x}, y);
  return y.hi.row(0) == y.hi.row(1) && y.lo.row(0) == y.lo.row(1);
}

TEST(SegmentWalk, IdenticalBitsOfTwoFunctionsAreNoTieUnlessProven) {
  // z1 = a x1 and z2 = a x1 + 2^-200 x2 (a = 1 + 2^-52): the Max of the two changes state where x2 = 0,
  // two pieces, but 2^-200 x2 is lost in the rounding of the low word of a x1, so the two are computed
  // to the same bits on the whole segment. Taken as one function they would give one piece, silently
  // wrong; the bounds cannot separate them (not even in triple-double): no count.
  Eigen::MatrixXd w(2, 2);
  w << 1 + 0x1p-52, 1 + 0x1p-52,  //
      0, 0x1p-200;
  const Graph g = max_of_matmul(w);
  const Eigen::Vector2d a(0.1, -0.3), b(0.7, 0.9);
  ASSERT_TRUE(same_bits(g, a, b)) << "the test needs the two outputs computed to the same bits";
  const Network net = lower_to_network(g);
  EXPECT_EQ(ExactSegmentReference(net).count(rational(a), rational(b - a), Q(0), Q(1)), 2);
  EXPECT_THROW(pieces_between(g, a, b), UncertifiedError);
  // Duplicated weights: the same operation of the same inputs, one function (proven from the graph,
  // not from the bits): the window is tied on the whole segment, one piece.
  w(1, 1) = 0;
  const Graph twins = max_of_matmul(w);
  ASSERT_TRUE(same_bits(twins, a, b));
  EXPECT_EQ(pieces_between(twins, a, b).pieces, 1);
  const Network twins_net = lower_to_network(twins);
  EXPECT_EQ(ExactSegmentReference(twins_net).count(rational(a), rational(b - a), Q(0), Q(1)), 1);
}

TEST(SegmentWalk, DoubleDoubleCertifiesACancellationDoubleCouldNot) {
  // a = 1e8 x1 - 1e8 x2 cancels: at x = (1 + 2^-52, 1) it is 1e8 * 2^-52 = 2.2e-8, below the error
  // bound of a plain double dot product (9e-8) but exact in double-double; on the direction (-1, 1)
  // it is 1e8 * 2^-52 - 2e8 t, zero at t = 2^-53: two pieces.
  Eigen::MatrixXd w(2, 1);
  w << 1e8, -1e8;
  const Graph g = relu_of_matmul(w);
  EXPECT_EQ(pieces_on_segment(g, Eigen::Vector2d(1 + 0x1p-52, 1), Eigen::Vector2d(-1, 1)).pieces, 2);
}

TEST(SegmentWalk, ZeroWithinTheErrorBoundIsUncertifiedNotGuessed) {
  // z = 1e50 (x1 - x4) + 1e30 (x2 - x5) + 1e10 (x3 - x6) + 1e-6 x7 at x = (1, 1, 1, 1, 1, 1, 0.5 - t) is
  // 1e-6 (0.5 - t), but the words of the sums cancel so deeply that even the triple-double bound
  // (about 1e-4 here) covers the whole segment: no count.
  Eigen::MatrixXd w(7, 1);
  w << 1e50, 1e30, 1e10, -1e50, -1e30, -1e10, 1e-6;
  Eigen::VectorXd origin(7), direction(7);
  origin << 1, 1, 1, 1, 1, 1, 0.5;
  direction << 0, 0, 0, 0, 0, 0, -1;
  EXPECT_THROW(pieces_on_segment(relu_of_matmul(w), origin, direction), UncertifiedError);
  // The message gives the value and its bound, so that a user can see how far from certain it was.
  EXPECT_THAT([&] { pieces_on_segment(relu_of_matmul(w), origin, direction); },
              testing::ThrowsMessage<UncertifiedError>(testing::AllOf(
                  testing::HasSubstr("(value "), testing::HasSubstr(", error bound "),
                  testing::HasSubstr("also with every value before the unit recomputed in triple-double"))));
  // With weights that do not cancel, the same unit is certain: its cut lies inside the segment.
  w << 1, 1, 1, -1, -1, -1, 1;
  const SegmentPieces plain = pieces_on_segment(relu_of_matmul(w), origin, direction);
  EXPECT_EQ(plain.pieces, 2);
  EXPECT_EQ(plain.refinements, 0);
}

TEST(SegmentWalk, TripleDoubleDecidesWhereDoubleDoubleBoundsCannot) {
  // z = 1e33 x1 + x2 - 1e33 x3 at (1, 0.5 - t, 1) is 0.5 - t. Its double-double error bound (about
  // 2e33 * 2^-106 = 25) covers the segment; recomputed in triple-double, whose bound is a posteriori
  // (the sums here are exact), the cut at t = 0.5 is certain: 2 pieces, one recomputation.
  Eigen::MatrixXd w(3, 1);
  w << 1e33, 1, -1e33;
  const Eigen::Vector3d origin(1, 0.5, 1), direction(0, -1, 0);
  SegmentOptions options;
  options.keep_breakpoints = true;
  options.threads = 1;
  const SegmentPieces walked = pieces_on_segment(relu_of_matmul(w), origin, direction, options);
  EXPECT_EQ(walked.pieces, 2);
  EXPECT_EQ(walked.breakpoints, std::vector<double>{0.5});
  EXPECT_EQ(walked.refinements, 1);
  // Two different units that break at the same t cannot be told apart by any precision: still exit 4.
  Eigen::MatrixXd two(2, 2);
  two << 1, 2, -0.5, -1;  // z1 = t - 0.5, z2 = 2 t - 1 at (t, 1)
  EXPECT_THAT([&] { pieces_on_segment(relu_of_matmul(two), Eigen::Vector2d(0, 1), Eigen::Vector2d(1, 0)); },
              testing::ThrowsMessage<UncertifiedError>(testing::HasSubstr("two cuts closer than their error windows")));
}

TEST(SegmentWalk, CutAtAChunkBoundaryIsWalkedAgainWithItsNeighbour) {
  // With 2 threads the segment [0, 1] is walked in 4 chunks, the first ending at (1 - 0.381966...) / 4
  // (pieces_on_segment). z = x1 - x2 on (0, tb) + t (1, 0) is t - tb: zero right at that boundary,
  // where the bound cannot tell whether the boundary is a breakpoint. The two chunks beside it are
  // walked again as one, which places the cut: 2 pieces, as with one thread.
  Eigen::MatrixXd w(2, 1);
  w << 1, -1;
  const Graph g = relu_of_matmul(w);
  const double tb = 0.0 + 1.0 * (1 - 0.381966011250105) / 4;
  SegmentOptions options;
  options.keep_breakpoints = true;
  for (int threads : {1, 2}) {
    options.threads = threads;
    const SegmentPieces walked = pieces_on_segment(g, Eigen::Vector2d(0, tb), Eigen::Vector2d(1, 0), options);
    EXPECT_EQ(walked.pieces, 2) << threads << " threads";
    EXPECT_EQ(walked.breakpoints, std::vector<double>{tb}) << threads << " threads";
  }
}

TEST(SegmentWalk, ExactZeroAtAnExactEndIsNoCut) {
  Eigen::MatrixXd w(2, 1);
  w << 1, -1;
  const Graph g = relu_of_matmul(w);
  // z = x1 - x2 = t is exactly 0 at t = 0 (no rounding anywhere: the error bound is 0) and grows: one piece.
  EXPECT_EQ(pieces_on_segment(g, Eigen::Vector2d(0, 0), Eigen::Vector2d(1, 0)).pieces, 1);
  // At (1, 1) the same zero comes from 1 - 1, which the bound cannot tell from a rounding error; the
  // exact value there (0) and slope (1) decide (issue 9): a zero at the end, positive inside, one piece.
  EXPECT_EQ(pieces_on_segment(g, Eigen::Vector2d(1, 1), Eigen::Vector2d(1, 0)).pieces, 1);
  // The same at the far end: z = t - 1 on [0, 1], zero at t = 1 only.
  EXPECT_EQ(pieces_on_segment(g, Eigen::Vector2d(0, 1), Eigen::Vector2d(1, 0)).pieces, 1);
  // And on a part of the line: t in [0.5, 2] of (0.5, 1) + t (1, 0), zero at its start t = 0.5.
  SegmentOptions part;
  part.t_begin = 0.5;
  part.t_end = 2;
  EXPECT_EQ(pieces_on_segment(g, Eigen::Vector2d(0.5, 1), Eigen::Vector2d(1, 0), part).pieces, 1);
}

// relu(x1 - 2^-60) between a = (1, 0) and b = (2^-60, 1): on the segment z = (1 - t)(1 - 2^-60), zero
// at b only, one piece. b - a = (2^-60 - 1, 1) is no double; rounded, it is (-1, 1), whose line ends at
// (0, 1) and crosses z = 0 a rounding before t = 1 (a sliver, or no certificate). pieces_between carries
// b - a exactly.
TEST(SegmentWalk, TheSegmentBetweenTwoPointsEndsAtTheSecondExactly) {
  Eigen::MatrixXd w(2, 1);
  w << 1, 0;
  Graph g = relu_of_matmul(w);
  const double tiny = std::ldexp(1.0, -60);
  g.nodes[1].bias = Eigen::VectorXd::Constant(1, -tiny);
  const Eigen::Vector2d a(1, 0), b(tiny, 1);
  ASSERT_NE(Q(b[0] - a[0]), Q(b[0]) - Q(a[0]));  // the premise: b - a rounds
  EXPECT_EQ(pieces_between(g, a, b).pieces, 1);
  SegmentOptions two_threads;
  two_threads.threads = 2;
  EXPECT_EQ(pieces_between(g, a, b, two_threads).pieces, 1);
  // The same exact line in the other direction: the tie is at its start.
  EXPECT_EQ(pieces_between(g, b, a).pieces, 1);
}

// max(x1 + x2, 3 x1 - x2) on x = (1, 1) + t (0, 1): both are 2 at t = 0 (equal exactly, though their
// error bounds overlap), and x1 + x2 is steeper: one piece, whose state is the first input.
TEST(SegmentWalk, MaxInputsEqualAtAnExactEndAreDecidedByTheirExactSlopes) {
  Eigen::MatrixXd w(2, 2);
  w << 1, 3, 1, -1;
  const Graph g = max_of_matmul(w);
  EXPECT_EQ(pieces_on_segment(g, Eigen::Vector2d(1, 1), Eigen::Vector2d(0, 1)).pieces, 1);
  // Going the other way the second input leads inside: still one piece, and the output is 3 - t + ...
  EXPECT_EQ(pieces_on_segment(g, Eigen::Vector2d(1, 1), Eigen::Vector2d(0, -1)).pieces, 1);
  // Crossing inside: x = (1, 0.5) + t (0, 1) meets the tie at t = 0.5: two pieces.
  EXPECT_EQ(pieces_on_segment(g, Eigen::Vector2d(1, 0.5), Eigen::Vector2d(0, 1)).pieces, 2);
}

// The digits CNN between two test images (the README's example): units exactly at their breakpoints
// at the images made the walk exit 4 (issue 9); the exact rational walk over the lowered network gives
// the count.
TEST(SegmentWalk, DigitsCnnBetweenTwoImagesMatchesExactReference) {
  const std::string examples = std::string(RELUTOPE_TEST_DATA_DIR) + "/../../examples/";
  const Graph graph = load_graph_onnx(examples + "digits_cnn.onnx");
  const Eigen::MatrixXd points = load_points(examples + "digits_test.csv");
  const Eigen::VectorXd a = points.row(0).transpose(), b = points.row(5).transpose();
  const SegmentPieces walked = pieces_between(graph, a, b);
  const Network lowered = lower_to_network(graph);
  const ExactSegmentReference reference(lowered);
  EXPECT_EQ(walked.pieces, reference.count(rational(a), rational(b - a), Q(0), Q(1)));
  EXPECT_EQ(walked.pieces, 112);
}

TEST(SegmentWalk, BadInputAndCancel) {
  Eigen::MatrixXd w(2, 1);
  w << 1, -1;
  const Graph g = relu_of_matmul(w);
  EXPECT_THROW(pieces_on_segment(g, Eigen::Vector3d(1, 1, 1), Eigen::Vector3d(1, 0, 0)), InputError);
  SegmentOptions backwards;
  backwards.t_begin = 1;
  backwards.t_end = 0;
  EXPECT_THROW(pieces_on_segment(g, Eigen::Vector2d(1, 1), Eigen::Vector2d(1, 0), backwards), InputError);
  std::atomic<bool> stop{true};
  SegmentOptions cancelled;
  cancelled.cancel = &stop;
  EXPECT_THROW(pieces_on_segment(g, Eigen::Vector2d(1, 1), Eigen::Vector2d(1, 0), cancelled), Cancelled);
}

// A walk stopped early (SegmentOptions::stop, here after a few pieces; time_limit) returns the
// pieces of a prefix [t_begin, t_reached] of the segment: its breakpoints are the first ones of the
// complete walk, whatever the number of threads.
TEST(SegmentWalk, StoppedWalkGivesAPrefixOfTheCompleteOne) {
  const Graph graph = load_graph_onnx(kData + "cnn_residual.onnx");
  const Segment s = between_points(graph.input_dim(), 2, 5);
  SegmentOptions options;
  options.keep_breakpoints = true;
  options.threads = 1;
  const SegmentPieces all = pieces_on_segment(graph, s.origin, s.direction, options);
  ASSERT_TRUE(all.complete);
  EXPECT_EQ(all.t_reached, 1.0);
  ASSERT_EQ(all.walked.size(), 1u);
  EXPECT_EQ(all.walked[0].pieces, all.pieces);
  ASSERT_GT(all.pieces, 100);
  for (int threads : {1, 2, 3})
    for (std::int64_t after : {1, 7, 40}) {
      std::atomic<bool> stop{false};
      SegmentOptions stopped = options;
      stopped.threads = threads;
      stopped.stop = &stop;
      stopped.progress = [&](double, std::int64_t pieces) {
        if (pieces >= after) stop = true;
      };
      const SegmentPieces part = pieces_on_segment(graph, s.origin, s.direction, stopped);
      SCOPED_TRACE(std::to_string(threads) + " threads, stopped after " + std::to_string(after) + " pieces");
      EXPECT_FALSE(part.complete);
      EXPECT_LT(part.t_reached, 1.0);
      EXPECT_LT(part.pieces, all.pieces);
      if (threads == 1) {
        EXPECT_EQ(part.pieces, after);  // the walk notices at the next unit evaluation
        ASSERT_GT(part.breakpoints.size(), 0u);
        EXPECT_EQ(part.breakpoints.back(), part.t_reached);
      }
      // The breakpoints are the first ones of the complete walk, one per piece that ends inside.
      ASSERT_LE(part.breakpoints.size(), all.breakpoints.size());
      EXPECT_TRUE(std::equal(part.breakpoints.begin(), part.breakpoints.end(), all.breakpoints.begin()));
      const auto inside = std::upper_bound(all.breakpoints.begin(), all.breakpoints.end(), part.t_reached) -
                          all.breakpoints.begin();
      EXPECT_EQ(static_cast<std::int64_t>(part.breakpoints.size()), inside);
      EXPECT_GE(part.pieces, static_cast<std::int64_t>(part.breakpoints.size()));
      // Every part walked lies inside the segment, in order, and holds pieces of the complete walk.
      double last = 0;
      for (const SegmentInterval& walked : part.walked) {
        EXPECT_GE(walked.t_begin, last);
        EXPECT_LE(walked.t_end, 1.0);
        EXPECT_GE(walked.pieces, 1);
        last = walked.t_end;
      }
    }
  SegmentOptions timed = options;
  timed.time_limit = 1e-9;
  const SegmentPieces none = pieces_on_segment(graph, s.origin, s.direction, timed);
  EXPECT_FALSE(none.complete);
  EXPECT_EQ(none.t_reached, 0.0);
  EXPECT_EQ(none.pieces, 0);
  timed.time_limit = 1000;
  const SegmentPieces whole = pieces_on_segment(graph, s.origin, s.direction, timed);
  EXPECT_TRUE(whole.complete);
  EXPECT_EQ(whole.breakpoints, all.breakpoints);
}

}  // namespace
}  // namespace relutope
