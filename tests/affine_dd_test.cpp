#include "detail/affine_dd.h"

#include <gmpxx.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

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

// A convolution at some output positions only (conv_dd_at, conv_fma_at) writes exactly the rows of those
// positions, with the bits of the whole convolution there; conv_positions_reading lists exactly the
// outputs that change when given inputs do (checked by changing them), with strides, dilations, pads.
TEST(AffineDd, ConvolutionAtSomePositionsIsTheWholeOnesThereAndReadsWhatItShould) {
  std::mt19937_64 rng(12);
  // 11x13 inputs give output sizes that are no multiple of 8 (the whole convolution pads them too);
  // 8x8 with these pads gives 8x9 outputs, which the whole convolution computes without padding.
  for (const auto& [in, out, groups, stride, dilation, h, w] :
       {std::tuple{3, 7, 1, 1, 1, 11, 13}, {6, 9, 3, 2, 1, 11, 13}, {4, 5, 1, 2, 2, 11, 13}, {3, 8, 1, 1, 1, 8, 8}}) {
    SCOPED_TRACE("conv " + std::to_string(in) + "->" + std::to_string(out) + " stride " + std::to_string(stride) +
                 " dilation " + std::to_string(dilation) + " input " + std::to_string(h) + "x" + std::to_string(w));
    GraphNode conv = random_conv(in, out, groups, h, w, rng);
    ConvGeometry& g = conv.conv;
    g.stride_h = g.stride_w = stride;
    g.dilation_h = g.dilation_w = dilation;
    g.pad_top = 1;
    g.pad_left = 2;
    g.out_h = (h + 2 - dilation * 2 - 1) / stride + 1;
    g.out_w = (w + 3 - dilation * 2 - 1) / stride + 1;
    const Eigen::Index out_hw = static_cast<Eigen::Index>(g.out_h) * g.out_w;
    detail::DdFamily x = random_family(static_cast<Eigen::Index>(in) * h * w, rng);
    detail::DdFamily whole;
    detail::apply_affine_dd(conv, {&x}, whole);
    Eigen::MatrixXd whole_fma;
    detail::conv_fma(conv, x.hi, whole_fma);
    // A few inputs change (some read by no output at stride 2): the outputs that read them, and only
    // those, change.
    const std::vector<std::int64_t> changed = {5, 40, 41, 66, x.hi.rows() - 30, x.hi.rows() - 1};
    const std::vector<std::int64_t> at = detail::conv_positions_reading(g, changed);
    ASSERT_FALSE(at.empty());
    ASSERT_LT(static_cast<Eigen::Index>(at.size()), out_hw);
    for (std::int64_t r : changed) x.hi.row(r) *= 3;
    detail::DdFamily after;
    detail::apply_affine_dd(conv, {&x}, after);
    for (Eigen::Index q = 0; q < out_hw; ++q) {
      const bool listed = std::find(at.begin(), at.end(), q) != at.end();
      bool differs = false;
      for (int co = 0; co < out; ++co) differs = differs || (after.hi.row(co * out_hw + q).array() != whole.hi.row(co * out_hw + q).array()).any();
      EXPECT_EQ(differs, listed) << "position " << q;
    }
    // At those positions only: the whole convolution's bits there, the rest untouched.
    detail::DdFamily part = whole;
    Eigen::MatrixXd part_fma = whole_fma, after_fma;
    detail::conv_dd_at(conv, x, at, part);
    detail::conv_fma_at(conv, x.hi, at, part_fma);
    detail::conv_fma(conv, x.hi, after_fma);
    EXPECT_TRUE(bit_identical(part.hi, after.hi));
    EXPECT_TRUE(bit_identical(part.lo, after.lo));
    EXPECT_TRUE(bit_identical(part_fma, after_fma));
    {
      const PortableKernel force;
      detail::DdFamily portable = whole;
      detail::conv_dd_at(conv, x, at, portable);
      EXPECT_TRUE(bit_identical(portable.hi, after.hi));
      EXPECT_TRUE(bit_identical(portable.lo, after.lo));
    }
  }
}

detail::TdFamily random_td_family(Eigen::Index rows, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  detail::TdFamily x;
  x.hi.resize(rows, 2);
  x.mid.resize(rows, 2);
  x.lo.resize(rows, 2);
  for (Eigen::Index i = 0; i < x.hi.size(); ++i) {
    x.hi.data()[i] = normal(rng);
    x.mid.data()[i] = x.hi.data()[i] * 0x1p-54 * normal(rng);
    x.lo.data()[i] = x.mid.data()[i] * 0x1p-54 * normal(rng);
  }
  return x;
}

mpq_class exact(const detail::TdFamily& x, Eigen::Index r, Eigen::Index c) {
  return mpq_class(x.hi(r, c)) + mpq_class(x.mid(r, c)) + mpq_class(x.lo(r, c));
}

// Every output of the triple-double convolution lies within its a posteriori bound of the exact
// value (GMP rationals: the weights and the three words are exact), and the bound is far below the
// double-double one (about u^3 n^2 against u^2 n^2 relative to |b| + sum |w| |x|).
TEST(AffineTd, ConvolutionIsWithinItsBoundOfTheExactValue) {
  std::mt19937_64 rng(11);
  for (const auto& [in, out, groups, h, w] : {std::tuple{3, 7, 1, 11, 13}, {6, 9, 3, 5, 9}}) {
    SCOPED_TRACE("conv " + std::to_string(in) + "->" + std::to_string(out) + " groups " + std::to_string(groups));
    GraphNode conv = random_conv(in, out, groups, h, w, rng);
    detail::TdFamily x = random_td_family(static_cast<Eigen::Index>(in) * h * w, rng);
    // Cancellation: the first output's bias is minus the rest of its point value, rounded, so that it
    // ends near zero, where the relative error of a sloppy kernel would show.
    detail::TdFamily y;
    Eigen::MatrixXd err;
    detail::apply_affine_td(conv, {&x}, y, err);
    conv.bias[0] -= y.hi(0, 0);
    detail::apply_affine_td(conv, {&x}, y, err);
    // The exact convolution, with the magnitudes |b| + sum |w| |x| for the relative size of the bound.
    const ConvGeometry& g = conv.conv;
    const int in_per_group = g.in_channels / g.groups, out_per_group = g.out_channels / g.groups;
    double worst = 0, largest_error = 0;
    for (int o = 0; o < g.out_channels; ++o)
      for (int oh = 0; oh < g.out_h; ++oh)
        for (int ow = 0; ow < g.out_w; ++ow)
          for (Eigen::Index c = 0; c < 2; ++c) {
            mpq_class sum = c == 0 ? mpq_class(conv.bias[o]) : mpq_class(0);
            double magnitude = c == 0 ? std::abs(conv.bias[o]) : 0.0;
            const int group = o / out_per_group;
            for (int ci = 0; ci < in_per_group; ++ci)
              for (int i = 0; i < 3; ++i)
                for (int j = 0; j < 3; ++j) {
                  const int ih = oh - g.pad_top + i, iw = ow - g.pad_left + j;
                  if (ih < 0 || ih >= g.in_h || iw < 0 || iw >= g.in_w) continue;
                  const Eigen::Index row = (static_cast<Eigen::Index>(group * in_per_group + ci) * g.in_h + ih) * g.in_w + iw;
                  const double wk = conv.weight(o, (ci * 3 + i) * 3 + j);
                  sum += mpq_class(wk) * exact(x, row, c);
                  magnitude += std::abs(wk) * std::abs(x.hi(row, c));
                }
            const Eigen::Index r = (static_cast<Eigen::Index>(o) * g.out_h + oh) * g.out_w + ow;
            const mpq_class miss = abs(exact(y, r, c) - sum);
            ASSERT_LE(cmp(miss, mpq_class(err(r, c))), 0) << "output " << r << " column " << c << ": misses by "
                                                           << miss.get_d() << ", bound " << err(r, c);
            worst = std::max(worst, err(r, c) / magnitude);
            largest_error = std::max(largest_error, miss.get_d() / magnitude);
          }
    // The bound: far below double-double's a priori one, and not vacuous.
    EXPECT_LT(worst, 1e-12 * detail::dd_dot_error(in_per_group * 9));
    EXPECT_LT(worst, 1e-40);
    EXPECT_LT(std::abs(y.hi(0, 0)), 1e-10) << "the cancellation did not happen";
    (void)largest_error;
  }
}

TEST(AffineTd, PortableConvolutionLoopIsBitIdenticalToTheAvx2Kernel) {
  if (!detail::dd_uses_avx2()) GTEST_SKIP() << "no AVX2/FMA on this processor: the portable loop is the only one";
  std::mt19937_64 rng(12);
  for (const auto& [in, out, groups, h, w] : {std::tuple{3, 7, 1, 11, 13}, {6, 9, 3, 5, 9}, {4, 16, 1, 8, 8}}) {
    SCOPED_TRACE("conv " + std::to_string(in) + "->" + std::to_string(out) + " groups " + std::to_string(groups));
    const GraphNode conv = random_conv(in, out, groups, h, w, rng);
    const detail::TdFamily x = random_td_family(static_cast<Eigen::Index>(in) * h * w, rng);
    detail::TdFamily avx2, portable;
    Eigen::MatrixXd avx2_err, portable_err;
    detail::apply_affine_td(conv, {&x}, avx2, avx2_err);
    {
      const PortableKernel force;
      detail::apply_affine_td(conv, {&x}, portable, portable_err);
    }
    EXPECT_TRUE(bit_identical(avx2.hi, portable.hi));
    EXPECT_TRUE(bit_identical(avx2.mid, portable.mid));
    EXPECT_TRUE(bit_identical(avx2.lo, portable.lo));
    EXPECT_TRUE(bit_identical(avx2_err, portable_err));
    EXPECT_GT(avx2.lo.cwiseAbs().maxCoeff(), 0) << "the third words must carry something for the test to mean much";
  }
}

// The generic ops (a MatMul with huge cancelling weights, a Sum, a scale) within their bounds too.
TEST(AffineTd, MatMulSumAndScaleAreWithinTheirBoundsOfTheExactValue) {
  std::mt19937_64 rng(13);
  std::normal_distribution<double> normal;
  GraphNode matmul;
  matmul.kind = OpKind::kMatMul;
  matmul.name = "matmul";
  matmul.inputs = {0};
  matmul.weight.resize(40, 5);
  for (Eigen::Index i = 0; i < matmul.weight.size(); ++i) matmul.weight.data()[i] = normal(rng) * std::pow(10.0, 20 * normal(rng));
  matmul.bias = Eigen::VectorXd::Zero(5);
  const detail::TdFamily x = random_td_family(40, rng);
  detail::TdFamily y;
  Eigen::MatrixXd err;
  detail::apply_affine_td(matmul, {&x}, y, err);
  for (Eigen::Index j = 0; j < 5; ++j)
    for (Eigen::Index c = 0; c < 2; ++c) {
      mpq_class sum = 0;
      for (Eigen::Index i = 0; i < 40; ++i) sum += mpq_class(matmul.weight(i, j)) * exact(x, i, c);
      EXPECT_LE(cmp(abs(exact(y, j, c) - sum), mpq_class(err(j, c))), 0) << j << ", " << c;
    }
  GraphNode sum_node;
  sum_node.kind = OpKind::kSum;
  sum_node.name = "add";
  sum_node.coefs = {1.0, -1.0};
  const detail::TdFamily z = random_td_family(40, rng);
  detail::apply_affine_td(sum_node, {&x, &z}, y, err);
  for (Eigen::Index i = 0; i < 40; ++i)
    for (Eigen::Index c = 0; c < 2; ++c)
      EXPECT_LE(cmp(abs(exact(y, i, c) - (exact(x, i, c) - exact(z, i, c))), mpq_class(err(i, c))), 0);
  detail::scale_td(0.1, x, 3, y, err);
  for (Eigen::Index c = 0; c < 2; ++c)
    EXPECT_LE(cmp(abs(exact(y, 3, c) - mpq_class(0.1) * exact(x, 3, c)), mpq_class(err(3, c))), 0);
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
