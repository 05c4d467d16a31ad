#pragma once
// Affine graph ops in double-double arithmetic: every value is an unevaluated sum hi + lo with
// |lo| <= u |hi| (u = 2^-53), computed with error-free transformations (TwoSum, and TwoProd by
// fma), so that a dot product of length n has an error below dd_dot_error(n) (|b| + sum |w| |x|).
// Used by the segment walk (src/engines/segment_walk.cpp), which propagates these bounds.
#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "relutope/graph.h"

namespace relutope::detail {

/// A family (see apply_affine) in double-double: the values are hi + lo, elementwise.
struct DdFamily {
  Eigen::MatrixXd hi, lo;
};

/// s + e = a + b exactly (Knuth's TwoSum; any a, b without overflow).
inline void two_sum(double a, double b, double& s, double& e) {
  s = a + b;
  const double z = s - a;
  e = (a - (s - z)) + (b - z);
}

/// The relative error bound of one double-double dot product of length n with a shift b, as computed
/// by apply_affine_dd: |computed - exact| <= dd_dot_error(n) (|b| + sum_k |w_k| |x_k|), where x_k is the
/// input's exact double-double value. Derivation in affine_dd.cpp.
double dd_dot_error(std::int64_t n);

/// apply_affine in double-double. Column 0 gets the node's shifts and biases, as there.
/// @param[in] node    an affine node
/// @param[in] inputs  one family per node input (nodes[node.inputs[i]].size() x k, hi and lo)
/// @param[out] out    node.size() x k
/// @throws Error if the node is not affine
void apply_affine_dd(const GraphNode& node, const std::vector<const DdFamily*>& inputs, DdFamily& out);

/// A convolution in plain double (apply_affine's kConv, bias added to column 0) with the kernels of
/// apply_affine_dd: each output is one fma chain over the patch, in order, from 0 (AVX2/FMA where
/// available, the same bits either way). The segment walk propagates its error bounds with it (on
/// |weights|), where Eigen's product, built for the baseline x86-64, took more time than the
/// double-double convolution itself. Its rounding is that of any sum of n products: gamma_n relative.
/// @param[in] node  a kConv node
/// @param[in] x     node input family, in_channels * in_h * in_w x k
/// @param[out] y    out_channels * out_h * out_w x k
void conv_fma(const GraphNode& node, const Eigen::MatrixXd& x, Eigen::MatrixXd& y);

/// The output positions (oh * out_w + ow) of a convolution that read any of the input values
/// `input_rows` (rows of its input family, channel-major: ci * in_h * in_w + ih * in_w + iw), sorted:
/// where the output changes when only those inputs do.
std::vector<std::int64_t> conv_positions_reading(const ConvGeometry& g, const std::vector<std::int64_t>& input_rows);

/// apply_affine_dd of a kConv node at the output positions `at` only (sorted, as conv_positions_reading
/// gives), every output channel: writes those rows of y, which must already be out_channels * out_h *
/// out_w x k, and leaves the others. Each output has the same bits as apply_affine_dd gives it (one dot
/// product per output, whichever outputs are computed with it), so that recomputing only what changed
/// is the same as recomputing everything.
void conv_dd_at(const GraphNode& node, const DdFamily& x, const std::vector<std::int64_t>& at, DdFamily& y);
/// conv_fma at the output positions `at` only, as conv_dd_at: the same bits as conv_fma there.
void conv_fma_at(const GraphNode& node, const Eigen::MatrixXd& x, const std::vector<std::int64_t>& at, Eigen::MatrixXd& y);

/// Whether the convolutions may use the AVX2/FMA kernel where the processor has one (the default), or
/// must take the portable loop. A test hook: both give bit-identical results, and the tests check it on
/// machines with AVX2, where the portable loop would otherwise never run.
/// @param[in] allowed  false forces the portable loop for all threads until set back to true
void set_dd_avx2_allowed(bool allowed);
/// Whether the next convolution will use the AVX2/FMA kernel (allowed, and the processor has it).
bool dd_uses_avx2();

/// A family in triple-double: the values are hi + mid + lo, elementwise (not necessarily normalised:
/// nothing below assumes |mid| <= u |hi|).
struct TdFamily {
  Eigen::MatrixXd hi, mid, lo;
};

/// apply_affine in triple-double, with an a posteriori bound on each output's rounding error: every
/// output is b + sum_k w_k (hi_k + mid_k + lo_k) accumulated in three words (error-free products and
/// sums; only the third word's sum rounds), and |out - exact| <= err elementwise, where exact is the node
/// applied exactly to the inputs' exact values hi + mid + lo. The bound is about n u times the third
/// word's terms (~u^2 of the products), so about u^3 n^2 relative: some 1e15 below apply_affine_dd's for
/// a 3x3x512 convolution. Derivation in affine_dd.cpp. The convolution runs an AVX2/FMA build of the
/// same loop where the processor has one (set_dd_avx2_allowed applies): the same bits either way.
/// Slower than apply_affine_dd (about 3x): the segment walk calls it only where a decision is uncertain.
/// @param[in] node    an affine node
/// @param[in] inputs  one family per node input
/// @param[out] out    node.size() x k
/// @param[out] err    node.size() x k, non-negative
/// @throws Error if the node is not affine
void apply_affine_td(const GraphNode& node, const std::vector<const TdFamily*>& inputs, TdFamily& out,
                     Eigen::MatrixXd& err);

/// y = s (hi + mid + lo) for a double s, elementwise, as apply_affine_td computes a product of one term;
/// err bounds |y - s x| elementwise.
void scale_td(double s, const TdFamily& x, Eigen::Index row, TdFamily& y, Eigen::MatrixXd& err);

/// The input row and column that output row oh and column ow of a convolution read at kernel offset i
/// and j: outside [0, in_h) and [0, in_w) in the padding.
inline int conv_input_row(const ConvGeometry& g, int oh, int i) { return oh * g.stride_h - g.pad_top + i * g.dilation_h; }
inline int conv_input_col(const ConvGeometry& g, int ow, int j) { return ow * g.stride_w - g.pad_left + j * g.dilation_w; }
/// The input position (ih * in_w + iw, within a channel) that output position q (oh * out_w + ow)
/// reads at kernel offset (i, j), or -1 in the padding.
inline std::int64_t conv_input_at(const ConvGeometry& g, std::int64_t q, int i, int j) {
  const int ih = conv_input_row(g, static_cast<int>(q / g.out_w), i), iw = conv_input_col(g, static_cast<int>(q % g.out_w), j);
  return ih >= 0 && ih < g.in_h && iw >= 0 && iw < g.in_w ? static_cast<std::int64_t>(ih) * g.in_w + iw : -1;
}

/// The columns of a convolution's input for one group (im2col): row (ci, i, j) of the patch, column
/// (oh, ow) of the output, 0 where the kernel reads padding. Writes out[r * row_stride + p * col_stride].
void conv_columns(const ConvGeometry& g, int group, const double* in, double* out, Eigen::Index row_stride,
                  Eigen::Index col_stride);

}  // namespace relutope::detail
