// Affine graph ops in double-double (see detail/affine_dd.h).
//
// Every output is one dot product y = b + sum_k w_k (h_k + l_k), accumulated as in Ogita, Rump and
// Oishi's Dot2 (Accurate sum and dot product, SIAM J. Sci. Comput. 26(6), 2005): s collects the
// rounded products p_k = fl(w_k h_k) by TwoSum, whose errors e_k, the product errors
// pe_k = fma(w_k, h_k, -p_k) (exact) and the low parts w_k l_k are summed in plain floating point into c,
// and the result is TwoSum(s, c), exact. So the only rounding errors are those of c, at most
// gamma_{3n} sum_k (|e_k| + |pe_k| + |w_k l_k|) (Higham, section 3.1; each term meets at most 3n roundings),
// with |e_k| <= u |s_k| <= u (1+u)^k (|b| + sum_j |p_j|), |pe_k| <= u |p_k| and |l_k| <= u |h_k|. For n u << 1
// that is at most gamma_{3n+3} u (n + 3) (|b| + sum_k |w_k| |h_k|): dd_dot_error(n).
//
// Triple-double (apply_affine_td): y = b + sum_k w_k (h_k + m_k + l_k) with three words s1, s2, s3 (s1
// starts at b). Per term, p + pe = w h and q + qe = w m exactly (TwoProd by fma), r = fl(w l); s1 + p
// = s1' + e1 by TwoSum, and the second-word terms pe, q, e1 enter s2 by TwoSum each, with errors ea, eb,
// ec. So s1 + s2 + (the exact sum of the third-word terms ea, eb, ec, qe, w l) is the exact result at
// every step, and only the third word rounds: T_k = ((ea + eb) + ec) + (qe + r) meets 3 roundings, s3 +=
// T_k recursive summation over n terms, and r differs from w l by at most u |r| / (1 - u). With M =
// sum_k (|ea| + |eb| + |ec| + |qe| + |r|) that is at most (gamma_3 + gamma_n (1 + gamma_3) + 2u) M <=
// gamma_{n+6} M (Higham, Lemma 3.3 and section 4.2). M itself is summed in floating point (m3: n steps
// of 5 non-negative terms, each with at most n + 4 roundings), so M <= m3 / (1 - gamma_{n+4}), and the
// bound td_error(n) m3 = 4 gamma_{n+8} m3 holds with room for its own rounding. The final (h, m, l) =
// TwoSum(s1, s2), TwoSum of the rest with s3 is exact. Nothing assumes the inputs are normalised. Where
// a product's low part underflows, TwoProd is not exact, nor is fl(w l): each loses at most 2^-1074,
// and 2^-1066 per term covers the 3 products and the sums with room (the dd path refuses such values).
//
// The convolutions dominate the segment walk, so theirs runs as a register-blocked AVX2/FMA kernel
// where the processor has one (chosen at run time), with the same operations in the same order
// per output as the portable loop, and hence bit-identical results.
#include "detail/affine_dd.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <tuple>
#include <vector>

#include "relutope/error.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define RELUTOPE_DD_AVX2 1
#endif

namespace relutope::detail {

namespace {

constexpr double kRoundoff = 0x1p-53;

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// One step of the dot product: s + c += w (h + l).
inline void mac(double w, double h, double l, double& s, double& c) {
  const double p = w * h;
  const double pe = std::fma(w, h, -p);
  double t, e;
  two_sum(s, p, t, e);
  s = t;
  c += std::fma(w, l, e + pe);
}

inline void finish(double s, double c, double& hi, double& lo) { two_sum(s, c, hi, lo); }

// Y = W C + bias (per row of W): W is M x K with W(o, k) at w[o * ws_o + k * ws_k], C is K x P row-major
// (hi and lo), Y is M x P row-major. The portable form of the kernel below.
void dd_gemm_portable(int m, int k, int p, const double* w, Eigen::Index ws_o, Eigen::Index ws_k, const double* bias,
                      const double* ch, const double* cl, double* yh, double* yl) {
  for (int o = 0; o < m; ++o)
    for (int q = 0; q < p; ++q) {
      double s = bias ? bias[o] : 0.0, c = 0;
      for (int j = 0; j < k; ++j) mac(w[o * ws_o + j * ws_k], ch[static_cast<Eigen::Index>(j) * p + q],
                                      cl[static_cast<Eigen::Index>(j) * p + q], s, c);
      finish(s, c, yh[static_cast<Eigen::Index>(o) * p + q], yl[static_cast<Eigen::Index>(o) * p + q]);
    }
}

// Y = W C for the error bounds (plain double): each output is one fma chain over j = 0..k-1 from 0, so
// that the kernel below, doing the same per output, gives the same bits. Layout as dd_gemm_portable.
void fma_gemm_portable(int m, int k, int p, const double* w, Eigen::Index ws_o, Eigen::Index ws_k, const double* c,
                       double* y) {
  for (int o = 0; o < m; ++o)
    for (int q = 0; q < p; ++q) {
      double s = 0;
      for (int j = 0; j < k; ++j) s = std::fma(w[o * ws_o + j * ws_k], c[static_cast<Eigen::Index>(j) * p + q], s);
      y[static_cast<Eigen::Index>(o) * p + q] = s;
    }
}

#ifdef RELUTOPE_DD_AVX2
// fma_gemm_portable blocked: four rows of W by 8 columns of C (eight independent fma chains, enough to
// hide the fma latency), columns in panels of 64 as in dd_gemm_avx2.
__attribute__((target("avx2,fma"))) void fma_gemm_avx2(int m, int k, int p, const double* w, Eigen::Index ws_o,
                                                      Eigen::Index ws_k, const double* c, double* y) {
  constexpr int kPanel = 64;
  const int p8 = p - p % 8;
  const int m4 = m - m % 4;
  for (int q0 = 0; q0 < p8; q0 += kPanel) {
    const int q1 = std::min(q0 + kPanel, p8);
    for (int o = 0; o < m4; o += 4) {
      const double* w0 = w + o * ws_o;
      for (int q = q0; q < q1; q += 8) {
        __m256d s[4][2];
        for (auto& row : s) row[0] = row[1] = _mm256_setzero_pd();
        const double* h = c + q;
        for (int j = 0; j < k; ++j, h += p) {
          const __m256d h0 = _mm256_loadu_pd(h), h1 = _mm256_loadu_pd(h + 4);
          const double* wj = w0 + j * ws_k;
          for (int r = 0; r < 4; ++r) {
            const __m256d a = _mm256_broadcast_sd(wj + r * ws_o);
            s[r][0] = _mm256_fmadd_pd(a, h0, s[r][0]);
            s[r][1] = _mm256_fmadd_pd(a, h1, s[r][1]);
          }
        }
        for (int r = 0; r < 4; ++r) {
          const Eigen::Index at = static_cast<Eigen::Index>(o + r) * p + q;
          _mm256_storeu_pd(y + at, s[r][0]);
          _mm256_storeu_pd(y + at + 4, s[r][1]);
        }
      }
    }
  }
  for (int o = 0; o < m; ++o)
    for (int q = o < m4 ? p8 : 0; q < p; ++q) {
      double sum = 0;
      for (int j = 0; j < k; ++j) sum = std::fma(w[o * ws_o + j * ws_k], c[static_cast<Eigen::Index>(j) * p + q], sum);
      y[static_cast<Eigen::Index>(o) * p + q] = sum;
    }
}

__attribute__((target("avx2,fma"))) inline void mac4(__m256d w, __m256d h, __m256d l, __m256d& s, __m256d& c) {
  const __m256d p = _mm256_mul_pd(w, h);
  const __m256d pe = _mm256_fmsub_pd(w, h, p);
  const __m256d t = _mm256_add_pd(s, p);
  const __m256d z = _mm256_sub_pd(t, s);
  const __m256d e = _mm256_add_pd(_mm256_sub_pd(s, _mm256_sub_pd(t, z)), _mm256_sub_pd(p, z));
  s = t;
  c = _mm256_add_pd(c, _mm256_fmadd_pd(w, l, _mm256_add_pd(e, pe)));
}

__attribute__((target("avx2,fma"))) inline void finish4(__m256d s, __m256d c, double* yh, double* yl) {
  const __m256d t = _mm256_add_pd(s, c);
  const __m256d z = _mm256_sub_pd(t, s);
  const __m256d e = _mm256_add_pd(_mm256_sub_pd(s, _mm256_sub_pd(t, z)), _mm256_sub_pd(c, z));
  _mm256_storeu_pd(yh, t);
  _mm256_storeu_pd(yl, e);
}

// Two rows of W by 8 columns of C per block, the columns in panels of 64 so that a panel of C
// (hi and lo) stays in cache while every row of W passes over it.
__attribute__((target("avx2,fma"))) void dd_gemm_avx2(int m, int k, int p, const double* w, Eigen::Index ws_o,
                                                     Eigen::Index ws_k, const double* bias, const double* ch,
                                                     const double* cl, double* yh, double* yl) {
  constexpr int kPanel = 64;
  const int p8 = p - p % 8;
  const int m2 = m - m % 2;
  for (int q0 = 0; q0 < p8; q0 += kPanel) {
    const int q1 = std::min(q0 + kPanel, p8);
    for (int o = 0; o < m2; o += 2) {
      const double* w0 = w + o * ws_o;
      const double* w1 = w0 + ws_o;
      const __m256d b0 = _mm256_set1_pd(bias ? bias[o] : 0.0), b1 = _mm256_set1_pd(bias ? bias[o + 1] : 0.0);
      for (int q = q0; q < q1; q += 8) {
        __m256d s00 = b0, s01 = b0, s10 = b1, s11 = b1;
        __m256d c00 = _mm256_setzero_pd(), c01 = c00, c10 = c00, c11 = c00;
        const double* h = ch + q;
        const double* l = cl + q;
        for (int j = 0; j < k; ++j, h += p, l += p) {
          const __m256d a = _mm256_broadcast_sd(w0 + j * ws_k), b = _mm256_broadcast_sd(w1 + j * ws_k);
          const __m256d h0 = _mm256_loadu_pd(h), h1 = _mm256_loadu_pd(h + 4);
          const __m256d l0 = _mm256_loadu_pd(l), l1 = _mm256_loadu_pd(l + 4);
          mac4(a, h0, l0, s00, c00);
          mac4(a, h1, l1, s01, c01);
          mac4(b, h0, l0, s10, c10);
          mac4(b, h1, l1, s11, c11);
        }
        const Eigen::Index r0 = static_cast<Eigen::Index>(o) * p + q, r1 = r0 + p;
        finish4(s00, c00, yh + r0, yl + r0);
        finish4(s01, c01, yh + r0 + 4, yl + r0 + 4);
        finish4(s10, c10, yh + r1, yl + r1);
        finish4(s11, c11, yh + r1 + 4, yl + r1 + 4);
      }
    }
  }
  // The last row and the last columns, by the portable loop (the same operations per output).
  auto rest = [&](int o, int q) {
    double s = bias ? bias[o] : 0.0, c = 0;
    for (int j = 0; j < k; ++j)
      mac(w[o * ws_o + j * ws_k], ch[static_cast<Eigen::Index>(j) * p + q], cl[static_cast<Eigen::Index>(j) * p + q], s, c);
    finish(s, c, yh[static_cast<Eigen::Index>(o) * p + q], yl[static_cast<Eigen::Index>(o) * p + q]);
  };
  for (int o = 0; o < m; ++o)
    for (int q = o < m2 ? p8 : 0; q < p; ++q) rest(o, q);
}

bool has_avx2_fma() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}
#endif

std::atomic<bool> avx2_allowed{true};

void dd_gemm(int m, int k, int p, const double* w, Eigen::Index ws_o, Eigen::Index ws_k, const double* bias,
             const double* ch, const double* cl, double* yh, double* yl) {
#ifdef RELUTOPE_DD_AVX2
  if (dd_uses_avx2()) return dd_gemm_avx2(m, k, p, w, ws_o, ws_k, bias, ch, cl, yh, yl);
#endif
  dd_gemm_portable(m, k, p, w, ws_o, ws_k, bias, ch, cl, yh, yl);
}

void fma_gemm(int m, int k, int p, const double* w, Eigen::Index ws_o, Eigen::Index ws_k, const double* c, double* y) {
#ifdef RELUTOPE_DD_AVX2
  if (dd_uses_avx2()) return fma_gemm_avx2(m, k, p, w, ws_o, ws_k, c, y);
#endif
  fma_gemm_portable(m, k, p, w, ws_o, ws_k, c, y);
}

void stack(const std::vector<const DdFamily*>& inputs, DdFamily& storage, const DdFamily*& x) {
  x = inputs[0];
  if (inputs.size() == 1) return;
  Eigen::Index rows = 0;
  for (const auto* in : inputs) rows += in->hi.rows();
  storage.hi.resize(rows, inputs[0]->hi.cols());
  storage.lo.resize(rows, inputs[0]->hi.cols());
  Eigen::Index at = 0;
  for (const auto* in : inputs) {
    storage.hi.middleRows(at, in->hi.rows()) = in->hi;
    storage.lo.middleRows(at, in->hi.rows()) = in->lo;
    at += in->hi.rows();
  }
  x = &storage;
}

// 0, 1, ..., n - 1: every output position of a convolution. Where their number is no multiple of 8
// (ResNet-18's 14x14 and 7x7), the whole convolution goes through conv_dd_at / conv_fma_at, which pad
// the positions to the kernels' blocks of 8: the last columns, one by one, took some 30% of the time of
// layer3's and layer4's convolutions. The same bits either way.
std::vector<std::int64_t> all_positions(Eigen::Index n) {
  std::vector<std::int64_t> at(static_cast<std::size_t>(n));
  for (Eigen::Index q = 0; q < n; ++q) at[static_cast<std::size_t>(q)] = q;
  return at;
}

void conv_dd(const GraphNode& node, const DdFamily& x, DdFamily& y) {
  const ConvGeometry& g = node.conv;
  const int mg = g.out_channels / g.groups;
  const Eigen::Index out_hw = static_cast<Eigen::Index>(g.out_h) * g.out_w;
  const Eigen::Index patch = static_cast<Eigen::Index>(g.in_channels / g.groups) * g.kernel_h * g.kernel_w;
  const Eigen::Index cols = x.hi.cols();
  y.hi.resize(static_cast<Eigen::Index>(g.out_channels) * out_hw, cols);
  y.lo.resize(y.hi.rows(), cols);
  if (out_hw % 8 != 0) return conv_dd_at(node, x, all_positions(out_hw), y);  // see conv_dd_at
  RowMajor ch(patch, out_hw), cl(patch, out_hw);
  const Eigen::Index ws_o = 1, ws_k = node.weight.rows();  // column-major weight
  for (Eigen::Index c = 0; c < cols; ++c)
    for (int group = 0; group < g.groups; ++group) {
      conv_columns(g, group, x.hi.col(c).data(), ch.data(), out_hw, 1);
      conv_columns(g, group, x.lo.col(c).data(), cl.data(), out_hw, 1);
      const Eigen::Index first = static_cast<Eigen::Index>(group) * mg;
      const double* bias = c == 0 && node.bias.size() > 0 ? node.bias.data() + first : nullptr;
      dd_gemm(mg, static_cast<int>(patch), static_cast<int>(out_hw), node.weight.data() + first, ws_o, ws_k, bias,
              ch.data(), cl.data(), y.hi.col(c).data() + first * out_hw, y.lo.col(c).data() + first * out_hw);
    }
}

// The columns of a convolution's input for one group at the output positions `at` only (as
// conv_columns, whose loop over every position this is with the positions listed): out is patch x
// at.size(), row-major.
void conv_columns_at(const ConvGeometry& g, int group, const double* in, const std::vector<std::int64_t>& at,
                     double* out) {
  const int cg = g.in_channels / g.groups;
  const Eigen::Index in_hw = static_cast<Eigen::Index>(g.in_h) * g.in_w;
  const Eigen::Index p = static_cast<Eigen::Index>(at.size());
  for (int ci = 0; ci < cg; ++ci) {
    const double* plane = in + (static_cast<Eigen::Index>(group) * cg + ci) * in_hw;
    for (int i = 0; i < g.kernel_h; ++i)
      for (int j = 0; j < g.kernel_w; ++j) {
        double* row = out + ((static_cast<Eigen::Index>(ci) * g.kernel_h + i) * g.kernel_w + j) * p;
        for (Eigen::Index q = 0; q < p; ++q) {
          const int oh = static_cast<int>(at[q] / g.out_w), ow = static_cast<int>(at[q] % g.out_w);
          const int ih = conv_input_row(g, oh, i), iw = conv_input_col(g, ow, j);
          row[q] = ih >= 0 && ih < g.in_h && iw >= 0 && iw < g.in_w ? plane[static_cast<Eigen::Index>(ih) * g.in_w + iw] : 0.0;
        }
      }
  }
}

void matmul_dd(const GraphNode& node, const DdFamily& x, DdFamily& y) {
  const Eigen::Index k = node.weight.rows(), n = node.weight.cols();
  const Eigen::Index rows = x.hi.rows() / k;
  y.hi.resize(rows * n, x.hi.cols());
  y.lo.resize(rows * n, x.hi.cols());
  for (Eigen::Index c = 0; c < x.hi.cols(); ++c)
    for (Eigen::Index r = 0; r < rows; ++r)
      for (Eigen::Index j = 0; j < n; ++j) {
        double s = c == 0 && node.bias.size() > 0 ? node.bias[j] : 0.0, e = 0;
        for (Eigen::Index i = 0; i < k; ++i) mac(node.weight(i, j), x.hi(r * k + i, c), x.lo(r * k + i, c), s, e);
        finish(s, e, y.hi(r * n + j, c), y.lo(r * n + j, c));
      }
}

// ---------------------------------------------------------------------------------- triple-double
// (derivation at the top of this file)

// (s1, s2, s3) += w (h + m + l); m3 += the magnitude of what went into s3.
inline void mac3(double w, double h, double m, double l, double& s1, double& s2, double& s3, double& m3) {
  const double p = w * h;
  const double pe = std::fma(w, h, -p);
  const double q = w * m;
  const double qe = std::fma(w, m, -q);
  const double r = w * l;
  double t1, e1, t2, ea, t3, eb, ec;
  two_sum(s1, p, t1, e1);
  s1 = t1;
  two_sum(s2, pe, t2, ea);
  two_sum(t2, q, t3, eb);
  two_sum(t3, e1, s2, ec);
  s3 += ((ea + eb) + ec) + (qe + r);
  m3 += ((std::abs(ea) + std::abs(eb)) + std::abs(ec)) + (std::abs(qe) + std::abs(r));
}

// h + m + l = s1 + s2 + s3 exactly.
inline void finish3(double s1, double s2, double s3, double& h, double& m, double& l) {
  double t;
  two_sum(s1, s2, h, t);
  two_sum(t, s3, m, l);
}

double gamma_of(double n) {
  const double nu = n * kRoundoff;
  return nu / (1 - nu);
}

// The rounding error bound of a triple-double dot product of n terms whose third word's terms summed to m3.
struct TdError {
  explicit TdError(std::int64_t n)
      : factor(4 * gamma_of(static_cast<double>(n) + 8)), floor(static_cast<double>(n + 1) * 0x1p-1066) {}
  double operator()(double m3) const { return factor * m3 + floor; }
  double factor, floor;
};

// Output (o, q) of td_gemm: one mac3 chain over j = 0..k-1 from the bias. The portable kernel and the
// AVX2 kernel's scalar tail both call it (not inlined, so that both run these very instructions).
__attribute__((noinline)) void td_gemm_output(int o, int q, int k, int p, const double* w, Eigen::Index ws_o,
                                              Eigen::Index ws_k, const double* bias, const double* ch, const double* cm,
                                              const double* cl, double* yh, double* ym, double* yl, double* ye) {
      double s1 = bias ? bias[o] : 0.0, s2 = 0, s3 = 0, m3 = 0;
      for (int j = 0; j < k; ++j) {
        const Eigen::Index at = static_cast<Eigen::Index>(j) * p + q;
        mac3(w[o * ws_o + j * ws_k], ch[at], cm[at], cl[at], s1, s2, s3, m3);
      }
      const Eigen::Index at = static_cast<Eigen::Index>(o) * p + q;
      finish3(s1, s2, s3, yh[at], ym[at], yl[at]);
      ye[at] = m3;
}

// Y = W C + bias in triple-double, m3 per output into ye; layout as dd_gemm_portable. Each output is
// one mac3 chain over j = 0..k-1 from the bias, so that the AVX2 kernel below, doing the same per
// output, gives the same bits.
void td_gemm_portable(int m, int k, int p, const double* w, Eigen::Index ws_o, Eigen::Index ws_k, const double* bias,
                      const double* ch, const double* cm, const double* cl, double* yh, double* ym, double* yl,
                      double* ye) {
  for (int o = 0; o < m; ++o)
    for (int q = 0; q < p; ++q) {
      td_gemm_output(o, q, k, p, w, ws_o, ws_k, bias, ch, cm, cl, yh, ym, yl, ye);
    }
}

#ifdef RELUTOPE_DD_AVX2
__attribute__((target("avx2,fma"))) inline void two_sum4(__m256d a, __m256d b, __m256d& s, __m256d& e) {
  s = _mm256_add_pd(a, b);
  const __m256d z = _mm256_sub_pd(s, a);
  e = _mm256_add_pd(_mm256_sub_pd(a, _mm256_sub_pd(s, z)), _mm256_sub_pd(b, z));
}

// mac3 on four lanes, the same operations in the same order.
__attribute__((target("avx2,fma"))) inline void mac3_4(__m256d w, __m256d h, __m256d m, __m256d l, __m256d& s1,
                                                      __m256d& s2, __m256d& s3, __m256d& m3) {
  const __m256d sign = _mm256_set1_pd(-0.0);
  const __m256d p = _mm256_mul_pd(w, h);
  const __m256d pe = _mm256_fmsub_pd(w, h, p);
  const __m256d q = _mm256_mul_pd(w, m);
  const __m256d qe = _mm256_fmsub_pd(w, m, q);
  const __m256d r = _mm256_mul_pd(w, l);
  __m256d t1, e1, t2, ea, t3, eb, ec;
  two_sum4(s1, p, t1, e1);
  s1 = t1;
  two_sum4(s2, pe, t2, ea);
  two_sum4(t2, q, t3, eb);
  two_sum4(t3, e1, s2, ec);
  s3 = _mm256_add_pd(s3, _mm256_add_pd(_mm256_add_pd(_mm256_add_pd(ea, eb), ec), _mm256_add_pd(qe, r)));
  const __m256d abs_sum =
      _mm256_add_pd(_mm256_add_pd(_mm256_add_pd(_mm256_andnot_pd(sign, ea), _mm256_andnot_pd(sign, eb)),
                                  _mm256_andnot_pd(sign, ec)),
                    _mm256_add_pd(_mm256_andnot_pd(sign, qe), _mm256_andnot_pd(sign, r)));
  m3 = _mm256_add_pd(m3, abs_sum);
}

__attribute__((target("avx2,fma"))) inline void finish3_4(__m256d s1, __m256d s2, __m256d s3, __m256d m3, double* yh,
                                                         double* ym, double* yl, double* ye) {
  __m256d h, t, mm, l;
  two_sum4(s1, s2, h, t);
  two_sum4(t, s3, mm, l);
  _mm256_storeu_pd(yh, h);
  _mm256_storeu_pd(ym, mm);
  _mm256_storeu_pd(yl, l);
  _mm256_storeu_pd(ye, m3);
}

// Two rows of W by 4 columns of C per block (each row of C loaded once for both rows of W); the last
// row and columns by the portable loop's operations.
__attribute__((target("avx2,fma"))) void td_gemm_avx2(int m, int k, int p, const double* w, Eigen::Index ws_o,
                                                     Eigen::Index ws_k, const double* bias, const double* ch,
                                                     const double* cm, const double* cl, double* yh, double* ym,
                                                     double* yl, double* ye) {
  const int p4 = p - p % 4;
  const int m2 = m - m % 2;
  const __m256d zero = _mm256_setzero_pd();
  for (int o = 0; o < m2; o += 2) {
    const double* w0 = w + o * ws_o;
    const double* w1 = w0 + ws_o;
    for (int q = 0; q < p4; q += 4) {
      __m256d a1 = _mm256_set1_pd(bias ? bias[o] : 0.0), a2 = zero, a3 = zero, am = zero;
      __m256d b1 = _mm256_set1_pd(bias ? bias[o + 1] : 0.0), b2 = zero, b3 = zero, bm = zero;
      const double* h = ch + q;
      const double* mm = cm + q;
      const double* l = cl + q;
      for (int j = 0; j < k; ++j, h += p, mm += p, l += p) {
        const __m256d vh = _mm256_loadu_pd(h), vm = _mm256_loadu_pd(mm), vl = _mm256_loadu_pd(l);
        mac3_4(_mm256_broadcast_sd(w0 + j * ws_k), vh, vm, vl, a1, a2, a3, am);
        mac3_4(_mm256_broadcast_sd(w1 + j * ws_k), vh, vm, vl, b1, b2, b3, bm);
      }
      const Eigen::Index r0 = static_cast<Eigen::Index>(o) * p + q, r1 = r0 + p;
      finish3_4(a1, a2, a3, am, yh + r0, ym + r0, yl + r0, ye + r0);
      finish3_4(b1, b2, b3, bm, yh + r1, ym + r1, yl + r1, ye + r1);
    }
  }
  for (int o = 0; o < m; ++o)
    for (int q = o < m2 ? p4 : 0; q < p; ++q) {
      td_gemm_output(o, q, k, p, w, ws_o, ws_k, bias, ch, cm, cl, yh, ym, yl, ye);
    }
}
#endif

void td_gemm(int m, int k, int p, const double* w, Eigen::Index ws_o, Eigen::Index ws_k, const double* bias,
             const double* ch, const double* cm, const double* cl, double* yh, double* ym, double* yl, double* ye) {
#ifdef RELUTOPE_DD_AVX2
  if (dd_uses_avx2()) return td_gemm_avx2(m, k, p, w, ws_o, ws_k, bias, ch, cm, cl, yh, ym, yl, ye);
#endif
  td_gemm_portable(m, k, p, w, ws_o, ws_k, bias, ch, cm, cl, yh, ym, yl, ye);
}

void resize_like(TdFamily& y, Eigen::Index rows, Eigen::Index cols) {
  y.hi.resize(rows, cols);
  y.mid.resize(rows, cols);
  y.lo.resize(rows, cols);
}

void conv_td(const GraphNode& node, const TdFamily& x, TdFamily& y, Eigen::MatrixXd& err) {
  const ConvGeometry& g = node.conv;
  const int mg = g.out_channels / g.groups;
  const Eigen::Index out_hw = static_cast<Eigen::Index>(g.out_h) * g.out_w;
  const Eigen::Index patch = static_cast<Eigen::Index>(g.in_channels / g.groups) * g.kernel_h * g.kernel_w;
  const Eigen::Index cols = x.hi.cols();
  resize_like(y, static_cast<Eigen::Index>(g.out_channels) * out_hw, cols);
  err.resize(y.hi.rows(), cols);
  RowMajor ch(patch, out_hw), cm(patch, out_hw), cl(patch, out_hw);
  const Eigen::Index ws_o = 1, ws_k = node.weight.rows();  // column-major weight
  for (Eigen::Index c = 0; c < cols; ++c)
    for (int group = 0; group < g.groups; ++group) {
      conv_columns(g, group, x.hi.col(c).data(), ch.data(), out_hw, 1);
      conv_columns(g, group, x.mid.col(c).data(), cm.data(), out_hw, 1);
      conv_columns(g, group, x.lo.col(c).data(), cl.data(), out_hw, 1);
      const Eigen::Index first = static_cast<Eigen::Index>(group) * mg;
      const double* bias = c == 0 && node.bias.size() > 0 ? node.bias.data() + first : nullptr;
      td_gemm(mg, static_cast<int>(patch), static_cast<int>(out_hw), node.weight.data() + first, ws_o, ws_k, bias,
              ch.data(), cm.data(), cl.data(), y.hi.col(c).data() + first * out_hw, y.mid.col(c).data() + first * out_hw,
              y.lo.col(c).data() + first * out_hw, err.col(c).data() + first * out_hw);
    }
  const TdError bound(patch);
  err = err.unaryExpr([&](double m3) { return bound(m3); });
}

// One output of the generic ops: terms (w_k, input row i_k of family x_k) through `each`.
template <class Terms>
void dot_td(double start, std::int64_t n, const Terms& terms, double& h, double& m, double& l, double& e) {
  double s1 = start, s2 = 0, s3 = 0, m3 = 0;
  terms([&](double w, const TdFamily& x, Eigen::Index r, Eigen::Index c) {
    mac3(w, x.hi(r, c), x.mid(r, c), x.lo(r, c), s1, s2, s3, m3);
  });
  finish3(s1, s2, s3, h, m, l);
  e = TdError(n)(m3);
}

}  // namespace

void scale_td(double s, const TdFamily& x, Eigen::Index row, TdFamily& y, Eigen::MatrixXd& err) {
  for (Eigen::Index c = 0; c < x.hi.cols(); ++c)
    dot_td(0.0, 1, [&](auto&& mac) { mac(s, x, row, c); }, y.hi(row, c), y.mid(row, c), y.lo(row, c), err(row, c));
}

void apply_affine_td(const GraphNode& node, const std::vector<const TdFamily*>& inputs, TdFamily& out,
                     Eigen::MatrixXd& err) {
  const Eigen::Index cols = inputs[0]->hi.cols();
  auto at = [&](Eigen::Index r, Eigen::Index c) -> std::tuple<double&, double&, double&, double&> {
    return {out.hi(r, c), out.mid(r, c), out.lo(r, c), err(r, c)};
  };
  switch (node.kind) {
    case OpKind::kSparse: {
      // The stacked inputs: row i of the concatenation.
      std::vector<Eigen::Index> offset{0};
      for (const auto* in : inputs) offset.push_back(offset.back() + in->hi.rows());
      auto source = [&](std::int64_t i) {
        std::size_t k = 0;
        while (i >= offset[k + 1]) ++k;
        return std::pair<const TdFamily*, Eigen::Index>{inputs[k], i - offset[k]};
      };
      const SparseRows& s = node.rows;
      const std::int64_t rows = s.num_rows();
      resize_like(out, rows, cols);
      err.resize(rows, cols);
      for (Eigen::Index c = 0; c < cols; ++c)
        for (std::int64_t r = 0; r < rows; ++r) {
          const double start = c == 0 && node.shift.size() > 0 ? node.shift[r] : 0.0;
          const std::int64_t n = s.start[r + 1] - s.start[r];
          auto [h, m, l, e] = at(r, c);
          dot_td(start, std::max<std::int64_t>(n, 1), [&](auto&& mac) {
            for (std::int64_t k = s.start[r]; k < s.start[r + 1]; ++k) {
              const auto [x, i] = source(s.index[k]);
              mac(s.weight.empty() ? 1.0 : s.weight[k], *x, i, c);
            }
          }, h, m, l, e);
        }
      return;
    }
    case OpKind::kScale: {
      const TdFamily& x = *inputs[0];
      resize_like(out, x.hi.rows(), cols);
      err.resize(x.hi.rows(), cols);
      for (Eigen::Index c = 0; c < cols; ++c)
        for (Eigen::Index r = 0; r < x.hi.rows(); ++r) {
          const double start = c == 0 && node.shift.size() > 0 ? node.shift[r] : 0.0;
          auto [h, m, l, e] = at(r, c);
          dot_td(start, 1, [&](auto&& mac) { mac(node.scale.size() > 0 ? node.scale[r] : 1.0, x, r, c); }, h, m, l, e);
        }
      return;
    }
    case OpKind::kSum: {
      const Eigen::Index rows = inputs[0]->hi.rows();
      resize_like(out, rows, cols);
      err.resize(rows, cols);
      for (Eigen::Index c = 0; c < cols; ++c)
        for (Eigen::Index r = 0; r < rows; ++r) {
          auto [h, m, l, e] = at(r, c);
          dot_td(0.0, static_cast<std::int64_t>(inputs.size()), [&](auto&& mac) {
            for (std::size_t k = 0; k < inputs.size(); ++k) mac(node.coefs[k], *inputs[k], r, c);
          }, h, m, l, e);
        }
      return;
    }
    case OpKind::kMatMul: {
      const TdFamily& x = *inputs[0];
      const Eigen::Index k = node.weight.rows(), n = node.weight.cols();
      const Eigen::Index rows = x.hi.rows() / k;
      resize_like(out, rows * n, cols);
      err.resize(rows * n, cols);
      for (Eigen::Index c = 0; c < cols; ++c)
        for (Eigen::Index r = 0; r < rows; ++r)
          for (Eigen::Index j = 0; j < n; ++j) {
            const double start = c == 0 && node.bias.size() > 0 ? node.bias[j] : 0.0;
            auto [h, m, l, e] = at(r * n + j, c);
            dot_td(start, k, [&](auto&& mac) {
              for (Eigen::Index i = 0; i < k; ++i) mac(node.weight(i, j), x, r * k + i, c);
            }, h, m, l, e);
          }
      return;
    }
    case OpKind::kConv: return conv_td(node, *inputs[0], out, err);
    default: break;
  }
  throw Error("apply_affine_td: node \"" + node.name + "\" (" + node.op_type + ") is not affine");
}

void set_dd_avx2_allowed(bool allowed) { avx2_allowed.store(allowed, std::memory_order_relaxed); }

bool dd_uses_avx2() {
#ifdef RELUTOPE_DD_AVX2
  return avx2_allowed.load(std::memory_order_relaxed) && has_avx2_fma();
#else
  return false;
#endif
}

void conv_fma(const GraphNode& node, const Eigen::MatrixXd& x, Eigen::MatrixXd& y) {
  const ConvGeometry& g = node.conv;
  const int mg = g.out_channels / g.groups;
  const Eigen::Index out_hw = static_cast<Eigen::Index>(g.out_h) * g.out_w;
  const Eigen::Index patch = static_cast<Eigen::Index>(g.in_channels / g.groups) * g.kernel_h * g.kernel_w;
  y.resize(static_cast<Eigen::Index>(g.out_channels) * out_hw, x.cols());
  if (out_hw % 8 != 0) return conv_fma_at(node, x, all_positions(out_hw), y);  // see conv_dd_at
  RowMajor columns(patch, out_hw);
  const Eigen::Index ws_o = 1, ws_k = node.weight.rows();  // column-major weight
  for (Eigen::Index c = 0; c < x.cols(); ++c)
    for (int group = 0; group < g.groups; ++group) {
      conv_columns(g, group, x.col(c).data(), columns.data(), out_hw, 1);
      const Eigen::Index first = static_cast<Eigen::Index>(group) * mg;
      fma_gemm(mg, static_cast<int>(patch), static_cast<int>(out_hw), node.weight.data() + first, ws_o, ws_k,
               columns.data(), y.col(c).data() + first * out_hw);
    }
  if (node.bias.size() > 0) {
    Eigen::Map<RowMajor> point(y.col(0).data(), g.out_channels, out_hw);
    point.colwise() += node.bias;
  }
}

std::vector<std::int64_t> conv_positions_reading(const ConvGeometry& g, const std::vector<std::int64_t>& input_rows) {
  const std::int64_t in_hw = static_cast<std::int64_t>(g.in_h) * g.in_w;
  std::vector<char> reads(static_cast<std::size_t>(g.out_h) * g.out_w, 0);
  for (const std::int64_t r : input_rows) {
    const int ih = static_cast<int>((r % in_hw) / g.in_w), iw = static_cast<int>(r % g.in_w);
    for (int i = 0; i < g.kernel_h; ++i) {
      const int h = ih + g.pad_top - i * g.dilation_h;  // oh * stride_h
      if (h < 0 || h % g.stride_h != 0 || h / g.stride_h >= g.out_h) continue;
      for (int j = 0; j < g.kernel_w; ++j) {
        const int w = iw + g.pad_left - j * g.dilation_w;
        if (w < 0 || w % g.stride_w != 0 || w / g.stride_w >= g.out_w) continue;
        reads[static_cast<std::size_t>(h / g.stride_h) * g.out_w + w / g.stride_w] = 1;
      }
    }
  }
  std::vector<std::int64_t> at;
  for (std::size_t q = 0; q < reads.size(); ++q)
    if (reads[q]) at.push_back(static_cast<std::int64_t>(q));
  return at;
}

// The positions `at`, repeated at the end up to a multiple of 8: the kernels compute blocks of 8 columns
// and the rest one by one, about 8 times slower; a repeated position is computed (and written) again
// with the same bits.
namespace {
std::vector<std::int64_t> padded_to_blocks(const std::vector<std::int64_t>& at) {
  std::vector<std::int64_t> padded = at;
  while (!padded.empty() && padded.size() % 8 != 0) padded.push_back(at.back());
  return padded;
}

// What conv_dd_at and conv_fma_at set up alike: the positions padded to whole blocks, the outputs per
// group, the output positions per channel and the patch length.
struct ConvAt {
  ConvAt(const GraphNode& node, const std::vector<std::int64_t>& positions)
      : at(padded_to_blocks(positions)), g(node.conv), mg(g.out_channels / g.groups),
        out_hw(static_cast<Eigen::Index>(g.out_h) * g.out_w),
        patch(static_cast<Eigen::Index>(g.in_channels / g.groups) * g.kernel_h * g.kernel_w),
        p(static_cast<Eigen::Index>(at.size())) {}
  const std::vector<std::int64_t> at;
  const ConvGeometry& g;
  const int mg;
  const Eigen::Index out_hw, patch, p;
};
}  // namespace

void conv_dd_at(const GraphNode& node, const DdFamily& x, const std::vector<std::int64_t>& positions, DdFamily& y) {
  const ConvAt setup(node, positions);
  const auto& [at, g, mg, out_hw, patch, p] = setup;
  if (p == 0) return;
  RowMajor ch(patch, p), cl(patch, p), yh(mg, p), yl(mg, p);
  const Eigen::Index ws_o = 1, ws_k = node.weight.rows();  // column-major weight
  for (Eigen::Index c = 0; c < x.hi.cols(); ++c)
    for (int group = 0; group < g.groups; ++group) {
      conv_columns_at(g, group, x.hi.col(c).data(), at, ch.data());
      conv_columns_at(g, group, x.lo.col(c).data(), at, cl.data());
      const Eigen::Index first = static_cast<Eigen::Index>(group) * mg;
      const double* bias = c == 0 && node.bias.size() > 0 ? node.bias.data() + first : nullptr;
      dd_gemm(mg, static_cast<int>(patch), static_cast<int>(p), node.weight.data() + first, ws_o, ws_k, bias, ch.data(),
              cl.data(), yh.data(), yl.data());
      for (int o = 0; o < mg; ++o)
        for (Eigen::Index q = 0; q < p; ++q) {
          y.hi((first + o) * out_hw + at[q], c) = yh(o, q);
          y.lo((first + o) * out_hw + at[q], c) = yl(o, q);
        }
    }
}

void conv_fma_at(const GraphNode& node, const Eigen::MatrixXd& x, const std::vector<std::int64_t>& positions,
                 Eigen::MatrixXd& y) {
  const ConvAt setup(node, positions);
  const auto& [at, g, mg, out_hw, patch, p] = setup;
  if (p == 0) return;
  RowMajor columns(patch, p), out(mg, p);
  const Eigen::Index ws_o = 1, ws_k = node.weight.rows();  // column-major weight
  for (Eigen::Index c = 0; c < x.cols(); ++c)
    for (int group = 0; group < g.groups; ++group) {
      conv_columns_at(g, group, x.col(c).data(), at, columns.data());
      const Eigen::Index first = static_cast<Eigen::Index>(group) * mg;
      fma_gemm(mg, static_cast<int>(patch), static_cast<int>(p), node.weight.data() + first, ws_o, ws_k, columns.data(),
               out.data());
      const bool add_bias = c == 0 && node.bias.size() > 0;  // as conv_fma: after the sum (and not + 0, which turns -0 into 0)
      for (int o = 0; o < mg; ++o)
        for (Eigen::Index q = 0; q < p; ++q)
          y((first + o) * out_hw + at[q], c) = add_bias ? out(o, q) + node.bias[first + o] : out(o, q);
    }
}

double dd_dot_error(std::int64_t n) {
  const double m = static_cast<double>(3 * n + 3) * kRoundoff;
  return m / (1 - m) * kRoundoff * static_cast<double>(n + 3);
}

void apply_affine_dd(const GraphNode& node, const std::vector<const DdFamily*>& inputs, DdFamily& out) {
  const Eigen::Index cols = inputs[0]->hi.cols();
  switch (node.kind) {
    case OpKind::kSparse: {
      DdFamily storage;
      const DdFamily* x;
      stack(inputs, storage, x);
      const SparseRows& s = node.rows;
      const std::int64_t rows = s.num_rows();
      out.hi.resize(rows, cols);
      out.lo.resize(rows, cols);
      for (Eigen::Index c = 0; c < cols; ++c)
        for (std::int64_t r = 0; r < rows; ++r) {
          double sum = c == 0 && node.shift.size() > 0 ? node.shift[r] : 0.0, e = 0;
          if (s.weight.empty()) {
            if (s.start[r + 1] > s.start[r]) {
              const std::int64_t i = s.index[s.start[r]];
              if (sum == 0) {
                out.hi(r, c) = x->hi(i, c);  // a copy: exact
                out.lo(r, c) = x->lo(i, c);
                continue;
              }
              mac(1.0, x->hi(i, c), x->lo(i, c), sum, e);
            }
          } else {
            for (std::int64_t k = s.start[r]; k < s.start[r + 1]; ++k)
              mac(s.weight[k], x->hi(s.index[k], c), x->lo(s.index[k], c), sum, e);
          }
          finish(sum, e, out.hi(r, c), out.lo(r, c));
        }
      return;
    }
    case OpKind::kScale: {
      const DdFamily& x = *inputs[0];
      out.hi.resize(x.hi.rows(), cols);
      out.lo.resize(x.hi.rows(), cols);
      for (Eigen::Index c = 0; c < cols; ++c)
        for (Eigen::Index r = 0; r < x.hi.rows(); ++r) {
          double sum = c == 0 && node.shift.size() > 0 ? node.shift[r] : 0.0, e = 0;
          mac(node.scale.size() > 0 ? node.scale[r] : 1.0, x.hi(r, c), x.lo(r, c), sum, e);
          finish(sum, e, out.hi(r, c), out.lo(r, c));
        }
      return;
    }
    case OpKind::kSum: {
      const Eigen::Index rows = inputs[0]->hi.rows();
      out.hi.resize(rows, cols);
      out.lo.resize(rows, cols);
      for (Eigen::Index c = 0; c < cols; ++c)
        for (Eigen::Index r = 0; r < rows; ++r) {
          double sum = 0, e = 0;
          for (std::size_t k = 0; k < inputs.size(); ++k) mac(node.coefs[k], inputs[k]->hi(r, c), inputs[k]->lo(r, c), sum, e);
          finish(sum, e, out.hi(r, c), out.lo(r, c));
        }
      return;
    }
    case OpKind::kMatMul: return matmul_dd(node, *inputs[0], out);
    case OpKind::kConv: return conv_dd(node, *inputs[0], out);
    default: break;
  }
  throw Error("apply_affine_dd: node \"" + node.name + "\" (" + node.op_type + ") is not affine");
}

}  // namespace relutope::detail
