#include "detail/affine_dd.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "relutope/graph.h"
#include "relutope/slice.h"
#include "relutope/segment.h"

namespace relutope {
namespace {

// A convolution with random weights: `groups` groups, odd channel counts and an output size that is
// no multiple of 8, so that the AVX2 kernel's blocks and its remainders (last row, last columns) all run.
GraphNode random_conv(int in_channels, int out_channels, int groups, int h, int w, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  GraphNode node;
  node.kind = OpKind::kConv;
  node.name = "conv";
  node.op_type = "Conv";
  node.inputs = {0};
  ConvGeometry& g = node.conv;
  g.in_channels = in_channels;
  g.out_channels = out_channels;
  g.groups = groups;
  g.in_h = h;
  g.in_w = w;
  g.kernel_h = g.kernel_w = 3;
  g.pad_top = g.pad_left = 1;
  g.out_h = h;
  g.out_w = w;
  node.weight.resize(out_channels, in_channels / groups * 9);
  for (Eigen::Index i = 0; i < node.weight.size(); ++i) node.weight.data()[i] = normal(rng) / 3;
  node.bias.resize(out_channels);
  for (Eigen::Index i = 0; i < node.bias.size(); ++i) node.bias[i] = normal(rng);
  node.shape = {1, out_channels, h, w};
  return node;
}

detail::DdFamily random_family(Eigen::Index rows, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  detail::DdFamily x;
  x.hi.resize(rows, 2);
  x.lo.resize(rows, 2);
  for (Eigen::Index i = 0; i < x.hi.size(); ++i) {
    x.hi.data()[i] = normal(rng);
    x.lo.data()[i] = x.hi.data()[i] * 0x1p-54 * normal(rng) / 4;  // |lo| well below u |hi|
  }
  return x;
}

bool bit_identical(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() && (a.array() == b.array()).all();
}

// Restores the AVX2 kernel however the test ends.
struct PortableKernel {
  PortableKernel() { detail::set_dd_avx2_allowed(false); }
  ~PortableKernel() { detail::set_dd_avx2_allowed(true); }
};

TEST(AffineDd, PortableConvolutionLoopIsBitIdenticalToTheAvx2Kernel) {
  if (!detail::dd_uses_avx2()) GTEST_SKIP() << "no AVX2/FMA on this processor: the portable loop is the only one";
  std::mt19937_64 rng(9);
  for (const auto& [in, out, groups, h, w] : {std::tuple{3, 7, 1, 11, 13}, {6, 9, 3, 5, 9}, {4, 16, 1, 8, 8}}) {
    SCOPED_TRACE("conv " + std::to_string(in) + "->" + std::to_string(out) + " groups " + std::to_string(groups));
    const GraphNode conv = random_conv(in, out, groups, h, w, rng);
    const detail::DdFamily x = random_family(static_cast<Eigen::Index>(in) * h * w, rng);
    detail::DdFamily avx2, portable;
    detail::apply_affine_dd(conv, {&x}, avx2);
    {
      const PortableKernel force;
      ASSERT_FALSE(detail::dd_uses_avx2());
      detail::apply_affine_dd(conv, {&x}, portable);
    }
    ASSERT_TRUE(detail::dd_uses_avx2());
    EXPECT_TRUE(bit_identical(avx2.hi, portable.hi));
    EXPECT_TRUE(bit_identical(avx2.lo, portable.lo));
    EXPECT_GT(avx2.lo.cwiseAbs().maxCoeff(), 0) << "the low parts must carry something for the test to mean much";
  }
}

// The plain-double convolution of the error bounds: apply_affine's result up to rounding, and the same
// bits from the AVX2 kernel and the portable loop.
TEST(AffineDd, FmaConvolutionIsApplyAffinesAndBitIdenticalInBothKernels) {
  std::mt19937_64 rng(10);
  for (const auto& [in, out, groups, h, w] : {std::tuple{3, 7, 1, 11, 13}, {6, 9, 3, 5, 9}}) {
    const GraphNode conv = random_conv(in, out, groups, h, w, rng);
    const detail::DdFamily x = random_family(static_cast<Eigen::Index>(in) * h * w, rng);
    const Eigen::MatrixXd expected = apply_affine(conv, {&x.hi});
    Eigen::MatrixXd fast, portable;
    detail::conv_fma(conv, x.hi, fast);
    ASSERT_EQ(fast.rows(), expected.rows());
    EXPECT_LT((fast - expected).cwiseAbs().maxCoeff(), 1e-12 * (1 + expected.cwiseAbs().maxCoeff()));
    {
      const PortableKernel force;
      detail::conv_fma(conv, x.hi, portable);
    }
    EXPECT_TRUE(bit_identical(fast, portable));
  }
}

TEST(AffineDd, SegmentWalkGivesTheSameBreakpointsWithThePortableLoop) {
  if (!detail::dd_uses_avx2()) GTEST_SKIP() << "no AVX2/FMA on this processor: the portable loop is the only one";
  const std::string data = std::string(RELUTOPE_TEST_DATA_DIR) + "/segment/";
  const Graph graph = load_graph_onnx(data + "cnn_residual.onnx");
  const Eigen::MatrixXd points = load_points(data + "points.npy");
  const Eigen::VectorXd a = points.row(0).head(graph.input_dim()).transpose();
  const Eigen::VectorXd b = points.row(1).head(graph.input_dim()).transpose();
  SegmentOptions options;
  options.keep_breakpoints = true;
  const SegmentPieces avx2 = pieces_on_segment(graph, a, b - a, options);
  SegmentPieces portable;
  {
    const PortableKernel force;
    portable = pieces_on_segment(graph, a, b - a, options);
  }
  EXPECT_GT(avx2.pieces, 50);
  EXPECT_EQ(portable.pieces, avx2.pieces);
  EXPECT_EQ(portable.breakpoints, avx2.breakpoints);  // bit for bit
  EXPECT_EQ(portable.least_margin, avx2.least_margin);
}

}  // namespace
}  // namespace relutope
