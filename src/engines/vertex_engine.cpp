#include "engines/vertex_engine.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "detail/face_lattice.h"
#include "relutope/error.h"

namespace relutope::detail {

namespace {

int popcount(std::uint64_t w) { return __builtin_popcountll(w); }

void reset(Cell& cell, int dim, int words, const std::vector<ConstraintCode>& slots) {
  cell.dim = dim;
  cell.words = words;
  cell.num_vertices = 0;
  cell.simple = true;
  cell.x.clear();
  cell.mask.clear();
  cell.slots = slots;
}

void push_vertex(Cell& cell, const double* x, const std::uint64_t* mask) {
  cell.x.insert(cell.x.end(), x, x + cell.dim);
  cell.mask.insert(cell.mask.end(), mask, mask + cell.words);
  ++cell.num_vertices;
}

// The box [lo, hi]: vertex v has coordinate i at hi[i] iff bit i of v is set. Slot 2i holds
// "x_i >= lo_i", slot 2i+1 "x_i <= hi_i" (domain constraints 2i and 2i+1).
Cell box_cell(const Domain& domain) {
  const int d = domain.dim();
  const int slots_needed = 2 * d + static_cast<int>(domain.extra.size()) + 16;
  const int words = (slots_needed + 63) / 64;
  Cell cell;
  std::vector<ConstraintCode> slots(static_cast<std::size_t>(words) * 64, kFreeSlot);
  for (int k = 0; k < 2 * d; ++k) slots[k] = domain_code(k);
  reset(cell, d, words, slots);
  std::vector<double> x(d);
  std::vector<std::uint64_t> mask(words);
  for (std::uint64_t v = 0; v < (std::uint64_t{1} << d); ++v) {
    std::fill(mask.begin(), mask.end(), 0);
    for (int i = 0; i < d; ++i) {
      const bool upper = (v >> i) & 1;
      x[i] = upper ? domain.hi[i] : domain.lo[i];
      const int slot = 2 * i + (upper ? 1 : 0);
      mask[slot / 64] |= std::uint64_t{1} << (slot % 64);
    }
    push_vertex(cell, x.data(), mask.data());
  }
  return cell;
}

// The vertex engine's inner loops over the rows of a layer, written so that they vectorise, and
// compiled twice: for the baseline x86-64 (SSE2) and, chosen at run time where the CPU has it, for
// AVX2 (twice the width). Neither uses FMA (vertex_engine.cpp is built with -ffp-contract=off), so
// both give the same bits.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define RELUTOPE_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define RELUTOPE_VECTOR_CLONES
#endif

// out[i + k ld] = init[i + k ld] + sum over t of columns[t][i] * coefficients[t K + k] (K =
// num_coefficients; no init: 0 +), for i < n and k < K, summed in t order from the start, as repeated
// out += columns[t][i] * coefficients[t K + k] would: 8 rows by K columns at a time in registers,
// instead of stored and reloaded once per term. Four doubles: one AVX register, two SSE2 registers in
// the baseline build. Loaded and stored with memcpy (unaligned, no aliasing question).
typedef double Double4 __attribute__((vector_size(32)));

template <int K>
__attribute__((always_inline)) inline void add_columns_fixed(const double* const* columns, const double* coefficients,
                                                             int num_terms, int n, const double* init, double* out,
                                                             int ld) {
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    Double4 low[K], high[K];
    for (int k = 0; k < K; ++k) {
      if (init) {
        std::memcpy(&low[k], init + static_cast<std::size_t>(k) * ld + i, sizeof low[k]);
        std::memcpy(&high[k], init + static_cast<std::size_t>(k) * ld + i + 4, sizeof high[k]);
      } else {
        low[k] = high[k] = Double4{0, 0, 0, 0};
      }
    }
    for (int t = 0; t < num_terms; ++t) {
      Double4 a, b;
      std::memcpy(&a, columns[t] + i, sizeof a);
      std::memcpy(&b, columns[t] + i + 4, sizeof b);
      const double* c = coefficients + static_cast<std::size_t>(t) * K;
      for (int k = 0; k < K; ++k) {
        const Double4 ck = {c[k], c[k], c[k], c[k]};
        low[k] += a * ck;
        high[k] += b * ck;
      }
    }
    for (int k = 0; k < K; ++k) {
      std::memcpy(out + static_cast<std::size_t>(k) * ld + i, &low[k], sizeof low[k]);
      std::memcpy(out + static_cast<std::size_t>(k) * ld + i + 4, &high[k], sizeof high[k]);
    }
  }
  for (; i < n; ++i)
    for (int k = 0; k < K; ++k) {
      double sum = init ? init[static_cast<std::size_t>(k) * ld + i] : 0;
      for (int t = 0; t < num_terms; ++t) sum += columns[t][i] * coefficients[static_cast<std::size_t>(t) * K + k];
      out[static_cast<std::size_t>(k) * ld + i] = sum;
    }
}

RELUTOPE_VECTOR_CLONES void add_columns(const double* const* columns, const double* coefficients, int num_terms,
                                        int num_coefficients, int n, const double* init, double* out, int ld) {
  switch (num_coefficients) {
    case 2: return add_columns_fixed<2>(columns, coefficients, num_terms, n, init, out, ld);
    case 3: return add_columns_fixed<3>(columns, coefficients, num_terms, n, init, out, ld);
    case 4: return add_columns_fixed<4>(columns, coefficients, num_terms, n, init, out, ld);
    case 5: return add_columns_fixed<5>(columns, coefficients, num_terms, n, init, out, ld);
    case 6: return add_columns_fixed<6>(columns, coefficients, num_terms, n, init, out, ld);
    case 7: return add_columns_fixed<7>(columns, coefficients, num_terms, n, init, out, ld);
    default:
      for (int i = 0; i < n; ++i)
        for (int k = 0; k < num_coefficients; ++k) {
          double sum = init ? init[static_cast<std::size_t>(k) * ld + i] : 0;
          for (int t = 0; t < num_terms; ++t)
            sum += columns[t][i] * coefficients[static_cast<std::size_t>(t) * num_coefficients + k];
          out[static_cast<std::size_t>(k) * ld + i] = sum;
        }
  }
}

// hi[j], lo[j]: the largest and smallest of x_v . z_j over the vertices x_v (num_vertices x d, row
// major) for the rows z_j of z (n x d, column major), each value summed as x_0 z_j0 + x_1 z_j1 + ...
// (as a dot product); l1[j] = |z_j0| + ... + |z_j,d-1|. Eight rows at a time, their coefficients, the
// values and the extremes held in registers over all the vertices (D = d fixed at compile time, or
// D = 0: d at run time).
template <int D>
__attribute__((always_inline)) inline void row_extremes_fixed(const double* x, int num_vertices, int d,
                                                              const double* z, int n, double* hi, double* lo) {
  const int dd = D > 0 ? D : d;
  int j = 0;
  for (; j + 8 <= n; j += 8) {
    Double4 za[D > 0 ? D : 1], zb[D > 0 ? D : 1];
    if (D > 0)
      for (int k = 0; k < D; ++k) {
        std::memcpy(&za[k], z + static_cast<std::size_t>(k) * n + j, sizeof za[k]);
        std::memcpy(&zb[k], z + static_cast<std::size_t>(k) * n + j + 4, sizeof zb[k]);
      }
    Double4 top_a{}, top_b{}, bottom_a{}, bottom_b{};
    for (int v = 0; v < num_vertices; ++v) {
      const double* xv = x + static_cast<std::size_t>(v) * dd;
      Double4 a = {0, 0, 0, 0}, b = {0, 0, 0, 0};
      for (int k = 0; k < dd; ++k) {
        Double4 zk_a, zk_b;
        if (D > 0) {
          zk_a = za[k];
          zk_b = zb[k];
        } else {
          std::memcpy(&zk_a, z + static_cast<std::size_t>(k) * n + j, sizeof zk_a);
          std::memcpy(&zk_b, z + static_cast<std::size_t>(k) * n + j + 4, sizeof zk_b);
        }
        const Double4 xk = {xv[k], xv[k], xv[k], xv[k]};
        // The first product is the value's start, not added to 0 (which would turn -0 into +0).
        a = k == 0 ? xk * zk_a : a + xk * zk_a;
        b = k == 0 ? xk * zk_b : b + xk * zk_b;
      }
      if (v == 0) {
        top_a = bottom_a = a;
        top_b = bottom_b = b;
      } else {
        top_a = a > top_a ? a : top_a;
        top_b = b > top_b ? b : top_b;
        bottom_a = a < bottom_a ? a : bottom_a;
        bottom_b = b < bottom_b ? b : bottom_b;
      }
    }
    std::memcpy(hi + j, &top_a, sizeof top_a);
    std::memcpy(hi + j + 4, &top_b, sizeof top_b);
    std::memcpy(lo + j, &bottom_a, sizeof bottom_a);
    std::memcpy(lo + j + 4, &bottom_b, sizeof bottom_b);
  }
  for (; j < n; ++j)
    for (int v = 0; v < num_vertices; ++v) {
      const double* xv = x + static_cast<std::size_t>(v) * dd;
      double value = xv[0] * z[j];
      for (int k = 1; k < dd; ++k) value += xv[k] * z[static_cast<std::size_t>(k) * n + j];
      if (v == 0) {
        hi[j] = lo[j] = value;
      } else {
        hi[j] = value > hi[j] ? value : hi[j];
        lo[j] = value < lo[j] ? value : lo[j];
      }
    }
}

RELUTOPE_VECTOR_CLONES void row_extremes(const double* x, int num_vertices, int d, const double* z, int n, double* hi,
                                         double* lo, double* l1) {
  switch (d) {
    case 2: row_extremes_fixed<2>(x, num_vertices, d, z, n, hi, lo); break;
    case 3: row_extremes_fixed<3>(x, num_vertices, d, z, n, hi, lo); break;
    case 4: row_extremes_fixed<4>(x, num_vertices, d, z, n, hi, lo); break;
    case 5: row_extremes_fixed<5>(x, num_vertices, d, z, n, hi, lo); break;
    case 6: row_extremes_fixed<6>(x, num_vertices, d, z, n, hi, lo); break;
    default: row_extremes_fixed<0>(x, num_vertices, d, z, n, hi, lo); break;
  }
  for (int j = 0; j < n; ++j) l1[j] = std::abs(z[j]);
  for (int k = 1; k < d; ++k) {
    const double* __restrict zk = z + static_cast<std::size_t>(k) * n;
    for (int j = 0; j < n; ++j) l1[j] += std::abs(zk[j]);
  }
}

// relu_states()'s verdict on rows 0..n-1 of a ReLU-family layer (see there): code[j] = 0 or 1, the
// state of a row whose values top = hi + bias and bottom = lo + bias keep one sign beyond its bound
// 2 tol |z_j|_1; 2 for a row that has values beyond it on both sides (unstable); 3 for the others and
// for rows whose rounding error may not be small against their band (error trust >= l1): those take
// relu_states()'s careful path. Returns how many rows have code 3. Branch-free, so that it vectorises.
RELUTOPE_VECTOR_CLONES int row_codes(const double* hi, const double* lo, const double* bias, const double* l1,
                                     const double* error, int n, double tol, double trust, int* code) {
  int careful = 0;
  for (int j = 0; j < n; ++j) {
    const double top = hi[j] + bias[j];
    const double bottom = lo[j] + bias[j];
    const double bound = 2 * tol * l1[j];
    const bool trusted = error[j] * trust < l1[j];
    const bool unstable = top > bound && bottom < -bound;
    const bool active = bottom > bound;
    const bool inactive = top < -bound;
    const int c = !trusted ? 3 : unstable ? 2 : active ? 1 : inactive ? 0 : 3;
    code[j] = c;
    careful += c == 3;
  }
  return careful;
}

// split()'s loops over the vertices, with the dimension D fixed at compile time (D = 0: d at run
// time), so that the per-vertex loops over d coordinates unroll instead of calling memmove.
//
// values[v] = c + w_0 x_v0 + w_1 x_v1 + ..., summed in that order.
template <int D>
void vertex_values(const double* x, int num_vertices, int d, const double* w, double c, double* values) {
  const int dd = D > 0 ? D : d;
  for (int v = 0; v < num_vertices; ++v, x += dd) {
    double s = c;
    for (int i = 0; i < dd; ++i) s += w[i] * x[i];
    values[v] = s;
  }
}

// The vertices above eps into pos, those below -eps into neg (in order), and the largest |value| on
// each side, without a branch per vertex (the side of a vertex of a cell the cut crosses is a coin
// toss for the branch predictor). False, with pos and neg unspecified, if some value is neither
// (within the tolerance, or NaN): split() then takes its careful path.
bool vertex_sides(const double* values, int num_vertices, double eps, int* pos, int& num_pos, int* neg, int& num_neg,
                  double& max_pos, double& max_neg) {
  int np = 0, nn = 0;
  bool clear = true;
  double top = 0, bottom = 0;
  for (int v = 0; v < num_vertices; ++v) {
    const double s = values[v];
    const bool above = s > eps;
    clear &= above | (s < -eps);
    pos[np] = v;
    neg[nn] = v;
    np += above;
    nn += !above;
    // A vertex below the cut never raises top above its start, 0 (nor one above it bottom).
    top = std::max(top, s);
    bottom = std::max(bottom, -s);
  }
  num_pos = np;
  num_neg = nn;
  max_pos = top;
  max_neg = bottom;
  return clear;
}

// The vertices of the cell (x: num_vertices x d, m: num_vertices x words) to the child on their side
// (values above eps: to *ax and *am, the others to *bx and *bm), in order; advances the four pointers.
template <int D>
void copy_to_sides(const double* x, const std::uint64_t* m, int num_vertices, int d, int words, const double* values,
                   double eps, double*& ax, std::uint64_t*& am, double*& bx, std::uint64_t*& bm) {
  const int dd = D > 0 ? D : d;
  double* a = ax;
  double* b = bx;
  std::uint64_t* ma = am;
  std::uint64_t* mb = bm;
  for (int v = 0; v < num_vertices; ++v, x += dd, m += words) {
    const bool above = values[v] > eps;
    double* to = above ? a : b;
    std::uint64_t* mask_to = above ? ma : mb;
    for (int i = 0; i < dd; ++i) to[i] = x[i];
    if (words == 1) {
      mask_to[0] = m[0];
    } else {
      for (int k = 0; k < words; ++k) mask_to[k] = m[k];
    }
    a = above ? a + dd : a;
    b = above ? b : b + dd;
    ma = above ? ma + words : ma;
    mb = above ? mb : mb + words;
  }
  ax = a, bx = b, am = ma, bm = mb;
}

// split()'s pair test for a cell of one-word masks: (p, neg[k]) for every p of pos (in order) and k
// (in order) where popcount(mask[p] & neg_mask[k]) >= d - 1, appended to ep and en; returns how many.
// Both forms below give the same pairs in the same order. ep and en have room for 8 entries more than
// num_pos x num_neg: the AVX-512 form stores eight at a time.
std::size_t crossed_pairs_scalar(const int* pos, int num_pos, const std::uint64_t* mask, const int* neg,
                                 const std::uint64_t* neg_mask, int num_neg, int d, int* ep, int* en) {
  std::size_t num_edges = 0;
  for (int i = 0; i < num_pos; ++i) {
    const int p = pos[i];
    const std::uint64_t mp = mask[p];
    for (int k = 0; k < num_neg; ++k) {
      ep[num_edges] = p;
      en[num_edges] = neg[k];
      num_edges += popcount(mp & neg_mask[k]) >= d - 1;
    }
  }
  return num_edges;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define RELUTOPE_AVX512_PAIRS 1
// Eight pairs at a time. With c = popcount(m_p), popcount(m_p & m_n) >= d - 1 iff y = m_p & ~m_n has
// at most c - (d - 1) bits: none (y == 0) or one (y & (y - 1) == 0) in a simple cell, where c = d;
// a vertex with c > d (a cell that is not simple) takes the scalar test. Only AVX-512F and VL, so no
// vector popcount is needed (AVX512_VPOPCNTDQ is missing on many AVX-512 CPUs).
__attribute__((target("avx512f,avx512vl"))) std::size_t crossed_pairs_avx512(
    const int* pos, int num_pos, const std::uint64_t* mask, const int* neg, const std::uint64_t* neg_mask,
    int num_neg, int d, int* ep, int* en) {
  std::size_t num_edges = 0;
  const __mmask8 tail = static_cast<__mmask8>((1u << (num_neg & 7)) - 1);
  const __m512i minus_one = _mm512_set1_epi64(-1);
  for (int i = 0; i < num_pos; ++i) {
    const int p = pos[i];
    const std::uint64_t mp = mask[p];
    const int spare = popcount(mp) - (d - 1);  // bits of m_p that a neighbour may lack
    if (spare < 0) continue;                   // no pair at all
    if (spare > 1) {
      num_edges += crossed_pairs_scalar(&pos[i], 1, mask, neg, neg_mask, num_neg, d, ep + num_edges, en + num_edges);
      continue;
    }
    const __m512i vp = _mm512_set1_epi64(static_cast<long long>(mp));
    const __m256i pv = _mm256_set1_epi32(p);
    for (int k = 0; k < num_neg; k += 8) {
      const __mmask8 valid = k + 8 <= num_neg ? static_cast<__mmask8>(0xff) : tail;
      const __m512i y = vp & ~_mm512_maskz_loadu_epi64(valid, neg_mask + k);  // (_mm512_andnot_si512 warns in GCC 12)
      const __mmask8 hit =
          valid & (spare == 0 ? _mm512_testn_epi64_mask(y, y) : _mm512_testn_epi64_mask(y, _mm512_add_epi64(y, minus_one)));
      const __m256i found = _mm256_maskz_compress_epi32(hit, _mm256_maskz_loadu_epi32(valid, neg + k));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(en + num_edges), found);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(ep + num_edges), pv);
      num_edges += popcount(hit);
    }
  }
  return num_edges;
}
#endif

// Calls f(std::integral_constant<int, D>) with D = d for the common dimensions, else D = 0.
template <class F>
void with_dimension(int d, F&& f) {
  switch (d) {
    case 2: return f(std::integral_constant<int, 2>());
    case 3: return f(std::integral_constant<int, 3>());
    case 4: return f(std::integral_constant<int, 4>());
    case 5: return f(std::integral_constant<int, 5>());
    case 6: return f(std::integral_constant<int, 6>());
    case 7: return f(std::integral_constant<int, 7>());
    case 8: return f(std::integral_constant<int, 8>());
    default: return f(std::integral_constant<int, 0>());
  }
}

// A cell shaped for `num_vertices` vertices, its contents to be written: as reset(), without
// clearing x and mask first (resizing from empty would zero them all, to be overwritten at once).
void shape(Cell& cell, int dim, int words, const std::vector<ConstraintCode>& slots, int num_vertices) {
  cell.dim = dim;
  cell.words = words;
  cell.num_vertices = num_vertices;
  cell.simple = true;
  cell.slots = slots;
  cell.x.resize(static_cast<std::size_t>(num_vertices) * dim);
  cell.mask.resize(static_cast<std::size_t>(num_vertices) * words);
}

std::atomic<bool>& simd_switch() {
  static std::atomic<bool> on([] {
#ifdef RELUTOPE_AVX512_PAIRS
    const char* env = std::getenv("RELUTOPE_VERTEX_SIMD");
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           !(env != nullptr && std::strcmp(env, "0") == 0);
#else
    return false;
#endif
  }());
  return on;
}

}  // namespace

bool vertex_simd() { return simd_switch().load(std::memory_order_relaxed); }

void set_vertex_simd(bool enabled) {
#ifdef RELUTOPE_AVX512_PAIRS
  enabled = enabled && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
#else
  enabled = false;
#endif
  simd_switch().store(enabled, std::memory_order_relaxed);
}

VertexEngine::VertexEngine(const FlatNetwork& flat, const Domain& domain, double tolerance_abs,
                           const ExactFallback& exact, const Eigen::VectorXd& centre, const Eigen::VectorXd& scale)
    : flat_(flat), tol_(tolerance_abs), exact_(exact), centre_(centre), scale_(scale) {
  trust_ = 2 * std::sqrt(static_cast<double>(flat.input_dim)) / tol_;
  if (flat.layers.size() >= 2) {
    const SplitLayer& first = flat.layers[0];
    const SplitLayer& second = flat.layers[1];
    Eigen::VectorXd error(first.num_rows());
    row_errors(first, nullptr, 1.0, 1.0, error.data());
    Eigen::VectorXd carry = Eigen::VectorXd::Zero(first.num_outputs());
    double largest = 0;
    for (int o = 0; o < first.num_outputs(); ++o)
      for (int r = first.out_row[o]; r < first.out_row[o] + first.out_rows[o]; ++r) {
        const double factor = first.is_max ? 1.0 : std::max(1.0, std::abs(first.slope[r]));
        const double magnitude = first.weight.row(r).lpNorm<1>() + std::abs(first.bias[r]);
        carry[o] = std::max(carry[o], factor * row_carry(second, error[r], magnitude));
        largest = std::max(largest, factor * (magnitude + error[r]));
      }
    // The product by |W| rounds (a sum of non-negative terms) by less than 2 gamma_{m+2}.
    const Eigen::VectorXd carried = second.weight.cwiseAbs() * carry;
    second_error_.resize(second.num_rows());
    row_errors(second, carried.data(), 1 + 2 * second.sum_gamma, largest, second_error_.data());
  }
  if (domain.dim() > 20)
    throw InputError("engine vertex: the box in dimension " + std::to_string(domain.dim()) +
                     " has 2^" + std::to_string(domain.dim()) + " corners; use engine lp");
  if (domain.extra.empty() || !exact.engine_available()) {
    root_ = box_cell(domain);
  } else {
    // Extra domain constraints often pass exactly through corners of the box (a triangle in its
    // bounding box): the exact engine clips the box, and the cell starts from its rounded vertices.
    const ExactEngine::RoundedDomain rounded = exact.engine().rounded_domain(centre, scale);
    const int d = domain.dim();
    const int num_constraints = 2 * d + static_cast<int>(domain.extra.size());
    const int words = (num_constraints + 16 + 63) / 64;
    std::vector<ConstraintCode> slots(static_cast<std::size_t>(words) * 64, kFreeSlot);
    for (int k = 0; k < num_constraints; ++k) slots[k] = domain_code(k);
    reset(root_, d, words, slots);
    std::vector<std::uint64_t> mask(words);
    for (std::size_t v = 0; v < rounded.vertices.size(); ++v) {
      std::fill(mask.begin(), mask.end(), 0);
      for (ConstraintCode code : rounded.tight[v]) {
        const int slot = -1 - code;
        mask[slot / 64] |= std::uint64_t{1} << (slot % 64);
      }
      root_.simple = root_.simple && static_cast<int>(rounded.tight[v].size()) == d;
      push_vertex(root_, rounded.vertices[v].data(), mask.data());
    }
    return;
  }
  // Without exact arithmetic, extra constraints clip the box as a neuron's hyperplane would.
  Worker worker(*this);
  Cell below, above;
  for (std::size_t k = 0; k < domain.extra.size(); ++k) {
    const Halfspace& h = domain.extra[k];
    const int code = domain_code(2 * domain.dim() + static_cast<int>(k));
    const auto side = worker.split(root_, h.a.data(), -h.b, code, code, below, above);
    if (side == Worker::Side::kUndecided) {
      root_undecided_ = true;
      break;
    }
    if (side == Worker::Side::kAbove)
      throw InputError("domain: empty: constraint " + std::to_string(k) + " excludes the whole box");
    if (side == Worker::Side::kBoth) root_ = below;
  }
}

VertexEngine::Worker::Worker(const VertexEngine& engine)
    : engine_(engine),
      pattern_(engine.flat_.num_neurons, 0),
      weight_(engine.flat_.layers.size()),
      bias_(engine.flat_.layers.size()),
      error_(engine.flat_.layers.size()),
      carry_(engine.flat_.layers.size()),
      widest_(engine.flat_.layers.size(), 0.0),
      largest_(engine.flat_.layers.size(), 0.0),
      unstable_(engine.flat_.layers.size()),
      base_(engine.flat_.layers.size()),
      anchor_(engine.flat_.layers.size()),
      decided_(engine.flat_.layers.size()),
      checkpoints_(engine.flat_.layers.size()),
      below_(engine.flat_.num_neurons + 1),
      above_(engine.flat_.num_neurons + 1),
      w_(engine.flat_.input_dim) {}

void VertexEngine::Worker::accumulate(int layer, int o, int row, double scale, const Eigen::MatrixXd& from,
                                      Eigen::MatrixXd& to) const {
  if (scale == 0) {
    if (&to != &from) to = from;
    return;
  }
  // to = from + (scale * column) [z_row | c_row]: one axpy per column of `to` (contiguous,
  // column-major), written out so that it vectorises, and reading `from` in the same pass when it
  // is another matrix (no copy first); the same products and sums as the Eigen outer product it
  // replaces, which with its call overhead was a third of a 2-input count's time.
  const Eigen::MatrixXd& z = weight_[layer];
  const int n = static_cast<int>(from.rows());
  const int d = static_cast<int>(z.cols());
  if (&to != &from) to.resize(n, d + 1);
  const double* __restrict column = engine_.flat_.layers[layer + 1].weight.col(o).data();
  const double* src = from.data();
  double* dst = to.data();
  for (int k = 0; k < d; ++k, dst += n, src += n) {
    const double zk = z(row, k);
    if (scale == 1) {
      for (int i = 0; i < n; ++i) dst[i] = src[i] + column[i] * zk;
    } else {
      for (int i = 0; i < n; ++i) dst[i] = src[i] + (scale * column[i]) * zk;
    }
  }
  const double c = scale * bias_[layer][row];
  for (int i = 0; i < n; ++i) dst[i] = src[i] + c * column[i];
}

bool VertexEngine::Worker::enter_layer(int layer, const Cell& cell, const Eigen::MatrixXd* next) {
  const FlatNetwork& flat = engine_.flat_;
  const int d = cell.dim;
  const SplitLayer& split_layer = flat.layers[layer];
  Eigen::VectorXd& error = error_[layer];
  error.resize(split_layer.num_rows());
  if (layer == 0) {
    weight_[0] = split_layer.weight;
    bias_[0] = split_layer.bias;
    row_errors(split_layer, nullptr, 1.0, 1.0, error.data());
  } else {
    weight_[layer] = next->leftCols(d);
    bias_[layer] = next->col(d) + split_layer.bias;
    if (layer == 1)
      error = engine_.second_error_;
    else
      row_errors(split_layer, split_layer.abs_l1.data(), widest_[layer - 1], largest_[layer - 1], error.data());
  }
  const Eigen::MatrixXd& z = weight_[layer];
  const int offset = split_layer.offset;
  std::vector<int>& unstable = unstable_[layer];  // entries of the layer
  unstable.clear();
  // Neurons that keep one sign on the cell keep it on every sub-cell too, so only the others are split.
  if (split_layer.is_max) {
    // Values of every row at every vertex. lazyProduct: these matrices are thin (d columns), where
    // GEMM's packing costs more than it saves.
    const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> x(
        cell.x.data(), cell.num_vertices, d);
    const Eigen::MatrixXd values = x.lazyProduct(z.transpose());
    l1_.resize(z.rows());
    for (Eigen::Index j = 0; j < z.rows(); ++j) l1_[j] = z.row(j).lpNorm<1>();
    for (int e = 0; e < split_layer.num_entries(); ++e) {
      const int state = max_stable_state(layer, split_layer.entry_out[e], values);
      if (state >= 0) pattern_[offset + e] = static_cast<std::uint8_t>(state);
      else unstable.push_back(e);
    }
    carry_errors(layer, l1_.data());
  } else if (!relu_states(layer, cell)) {
    return false;
  }
  if (layer + 1 == static_cast<int>(flat.layers.size())) return true;
  // The next layer's map starts with the outputs decided here: stable entries and one-state outputs.
  reserve_decisions(layer);
  start_map(layer, base_[layer]);
  anchor_[layer] = {&base_[layer], 0};
  return true;
}

void VertexEngine::Worker::reserve_decisions(int layer) {
  const std::size_t n = unstable_[layer].size();
  if (decided_[layer].size() < n) decided_[layer].resize(n);
  if (checkpoints_[layer].size() < n) checkpoints_[layer].resize(n);
}

void VertexEngine::Worker::decide_output(int layer, int pos, int o) {
  Decision& decision = decided_[layer][pos];
  decision.output = o;
  engine_.flat_.layers[layer].source(o, pattern_.data(), decision.row, decision.factor);
}

const Eigen::MatrixXd& VertexEngine::Worker::map_at(int layer, int pos, Eigen::MatrixXd& out) {
  const Eigen::MatrixXd& base = *anchor_[layer].map;
  terms_.clear();
  for (int p = anchor_[layer].pos; p < pos; ++p)
    if (decided_[layer][p].factor != 0) terms_.push_back(decided_[layer][p]);
  if (terms_.empty()) return base;
  sum_terms(layer, &base, out);
  return out;
}

void VertexEngine::Worker::sum_terms(int layer, const Eigen::MatrixXd* init, Eigen::MatrixXd& out) {
  const Eigen::MatrixXd& w = engine_.flat_.layers[layer + 1].weight;
  const Eigen::MatrixXd& z = weight_[layer];
  const Eigen::VectorXd& c = bias_[layer];
  const int d = static_cast<int>(z.cols());
  const int n = static_cast<int>(w.rows());
  bool unit_factors = true;
  for (const Decision& term : terms_) unit_factors = unit_factors && term.factor == 1;
  if (!unit_factors) {  // slopes other than 0 and 1 (leaky ReLU): one output at a time
    if (init)
      out = *init;
    else
      out.setZero(n, d + 1);
    for (const Decision& term : terms_) accumulate(layer, term.output, term.row, term.factor, out, out);
    return;
  }
  // out = init + sum over the terms of W_{l+1}[:, o] [z_row | c_row], summed in the terms' order as
  // accumulate() would add them one at a time (the same products, the same roundings), so the map
  // is the same to the bit; 8 rows at a time, held in registers over all the terms instead of
  // stored and reloaded once per term.
  const int num_terms = static_cast<int>(terms_.size());
  coefficients_.resize(static_cast<std::size_t>(num_terms) * (d + 1));
  columns_.resize(num_terms);
  double* coefficient = coefficients_.data();
  for (int t = 0; t < num_terms; ++t) {
    const int row = terms_[t].row;
    columns_[t] = w.col(terms_[t].output).data();
    for (int k = 0; k < d; ++k) *coefficient++ = z(row, k);
    *coefficient++ = c[row];
  }
  out.resize(n, d + 1);
  add_columns(columns_.data(), coefficients_.data(), num_terms, d + 1, n, init ? init->data() : nullptr, out.data(), n);
}

bool VertexEngine::Worker::relu_states(int layer, const Cell& cell) {
  const Eigen::MatrixXd& z = weight_[layer];
  const int n = static_cast<int>(z.rows());
  const int d = cell.dim;
  hi_.resize(n);
  lo_.resize(n);
  l1_.resize(n);
  row_extremes(cell.x.data(), cell.num_vertices, d, z.data(), n, hi_.data(), lo_.data(), l1_.data());
  const SplitLayer& split_layer = engine_.flat_.layers[layer];
  const int offset = split_layer.offset;
  std::vector<int>& unstable = unstable_[layer];
  // Locals, as the pattern's byte stores may alias anything the loop would otherwise reload.
  const double* const hi = hi_.data();
  const double* const lo = lo_.data();
  const double* const l1 = l1_.data();
  const int* const entry_out = split_layer.entry_out.data();
  const double* const bias = bias_[layer].data();
  const double* const error = error_[layer].data();
  const double tol = engine_.tol_, trust = engine_.trust_;
  const int num_entries = split_layer.num_entries();
  codes_.resize(n);
  if (row_codes(hi, lo, bias, l1, error, n, tol, trust, codes_.data()) == 0) {
    // Every row decided by its bound alone (the common case): the same states and the same unstable
    // entries, in order, as the careful loop below, without a branch per row.
    const int* const code = codes_.data();
    std::uint8_t* const pattern = pattern_.data() + offset;
    unstable.resize(num_entries);
    int* const list = unstable.data();
    int num_unstable = 0;
    for (int e = 0; e < num_entries; ++e) {
      const int c = code[entry_out[e]];
      list[num_unstable] = e;
      num_unstable += c == 2;
      pattern[e] = c < 2 ? static_cast<std::uint8_t>(c) : pattern[e];
    }
    unstable.resize(num_unstable);
    carry_errors(layer, l1);
    return true;
  }
  for (int e = 0; e < num_entries; ++e) {
    const int j = entry_out[e];
    const double top = hi[j] + bias[j];
    const double bottom = lo[j] + bias[j];
    // A row whose rounding error may not be small against its band (one that rounds to zero, or
    // cancels to the order of its error): its rounded row alone does not decide it.
    if (!(error[j] * trust < l1[j])) {
      const int state = state_of_untrusted(cell, layer, j, top, bottom);
      if (state < 0) return false;
      if (state != kTrusted) {
        pattern_[offset + e] = static_cast<std::uint8_t>(state);
        continue;
      }
    }
    // The tolerance is tol |z_j| (Euclidean norm); 2 tol |z_j|_1 bounds it from above with room for
    // rounding, and decides most rows without the square root.
    const double bound = 2 * tol * l1[j];
    if (top > bound && bottom < -bound) {
      unstable.push_back(e);
      continue;
    }
    if (bottom > bound || top < -bound) {
      pattern_[offset + e] = bottom > bound ? 1 : 0;
      continue;
    }
    const double eps = tol * z.row(j).norm();
    if (top > eps && bottom < -eps) {
      unstable.push_back(e);
      continue;
    }
    if (top >= -eps && bottom <= eps) {  // an extreme value within the tolerance of 0
      bool active = false;
      if (!on_a_facet_exactly(cell, offset + e, active)) return false;
      pattern_[offset + e] = active;
      continue;
    }
    pattern_[offset + e] = top > eps ? 1 : 0;
  }
  carry_errors(layer, l1);
  return true;
}

void VertexEngine::Worker::carry_errors(int layer, const double* l1) {
  const FlatNetwork& flat = engine_.flat_;
  if (layer + 1 == static_cast<int>(flat.layers.size())) return;
  const SplitLayer& split_layer = flat.layers[layer];
  const SplitLayer& next = flat.layers[layer + 1];
  const int n = split_layer.num_rows();
  const double* const error = error_[layer].data();
  const double* const bias = bias_[layer].data();
  Eigen::VectorXd& carry = carry_[layer];
  carry.resize(n);
  row_carries(next, n, error, l1, bias, carry.data());
  // The widest over every row, whatever its state (an upper bound of those the cell passes on).
  if (split_layer.is_max || split_layer.slope.cwiseAbs().maxCoeff() <= 1) {
    widest_[layer] = carry.maxCoeff();
  } else {
    widest_[layer] = (carry.array() * split_layer.slope.array().abs().max(1.0)).maxCoeff();
  }
  if (next.weight_error_l1.size()) {
    double largest = 0;
    for (int j = 0; j < n; ++j)
      largest = std::max(largest, std::max(1.0, std::abs(split_layer.slope[j])) * (l1[j] + std::abs(bias[j]) + error[j]));
    largest_[layer] = largest;
  }
}

double VertexEngine::Worker::tight_error(int layer, int row) const {
  if (layer == 0) return error_[0][row];  // the first layer's own
  const FlatNetwork& flat = engine_.flat_;
  const SplitLayer& prev = flat.layers[layer - 1];
  const SplitLayer& split_layer = flat.layers[layer];
  double carried = 0;
  for (int o = 0; o < prev.num_outputs(); ++o) {
    const double w = split_layer.weight(row, o);
    if (w == 0) continue;
    int source = 0;
    double factor = 1;
    prev.source(o, pattern_.data(), source, factor);
    carried += std::abs(w * factor) * carry_[layer - 1][source];
  }
  // The sum rounds (non-negative terms) by less than 2 gamma_{m+2}.
  double error = carried * (1 + 2 * split_layer.sum_gamma) + split_layer.error_constant[row];
  if (split_layer.weight_error_l1.size()) error += split_layer.inflate * split_layer.weight_error_l1[row] * largest_[layer - 1];
  return std::min(error_[layer][row], error);
}

int VertexEngine::Worker::state_of_untrusted(const Cell& cell, int layer, int row, double top, double bottom) {
  const double norm = weight_[layer].row(row).norm();
  const double error = error_[layer][row] = tight_error(layer, row);  // for carry_errors() too
  if (norm > 0 && 2 * error <= engine_.tol_ * norm) return kTrusted;
  // The exact values at the vertices lie within `error` of the rounded ones: beyond it and the band
  // (as relu_states() bounds it), they keep the rounded sign.
  const double bound = 2 * engine_.tol_ * weight_[layer].row(row).lpNorm<1>() + error;
  if (bottom > bound) return 1;
  if (top < -bound) return 0;
  return untrusted_row_state(cell, layer, row);
}

int VertexEngine::Worker::untrusted_row_state(const Cell& cell, int layer, int row) {
  const ExactNetwork::RowOnRegion exact =
      engine_.exact_.network().row_on_region(pattern_, layer, row, engine_.centre_, engine_.scale_);
  if (exact.rational) ++counters.exact_decisions;
  if (exact.decided) return exact.sign > 0;  // z = 0 on the whole cell is inactive
  // A real hyperplane far below the rounding of the row: its exact row, scaled and rounded, is
  // decided at the vertices like any other row.
  const double eps = engine_.tol_ * exact.w.norm();
  bool above = false, below = false;
  for (int v = 0; v < cell.num_vertices; ++v) {
    const double s = exact.w.dot(Eigen::Map<const Eigen::VectorXd>(cell.vertex(v), cell.dim)) + exact.c;
    if (!(s > eps || s < -eps)) return -1;
    (s > 0 ? above : below) = true;
  }
  if (above && below) return -1;  // it cuts the cell: the layer's map in doubles cannot carry it
  return above ? 1 : 0;
}

void VertexEngine::Worker::start_map(int layer, Eigen::MatrixXd& start) {
  const SplitLayer& split_layer = engine_.flat_.layers[layer];
  const std::vector<int>& unstable = unstable_[layer];
  // The decided outputs that pass a row on (a factor of 0 adds nothing), in output order.
  terms_.clear();
  std::size_t u = 0;
  const int* const out_entry = split_layer.out_entry.data();
  const int num_outputs = split_layer.num_outputs();
  for (int o = 0; o < num_outputs; ++o) {
    const int e = out_entry[o];
    if (e >= 0 && u < unstable.size() && unstable[u] == e) {
      ++u;
      continue;
    }
    int row = 0;
    double factor = 1;
    split_layer.source(o, pattern_.data(), row, factor);
    if (factor != 0) terms_.push_back({o, row, factor});
  }
  sum_terms(layer, nullptr, start);
}

int VertexEngine::Worker::max_stable_state(int layer, int o, const Eigen::MatrixXd& values) const {
  // Stable when one row is the largest by more than the tolerance at every vertex.
  const SplitLayer& split_layer = engine_.flat_.layers[layer];
  const Eigen::MatrixXd& z = weight_[layer];
  const Eigen::VectorXd& c = bias_[layer];
  const int first = split_layer.out_row[o], k = split_layer.out_rows[o];
  int best = 0;
  for (int r = 1; r < k; ++r)
    if (values(0, first + r) + c[first + r] > values(0, first + best) + c[first + best]) best = r;
  for (int r = 0; r < k; ++r) {
    if (r == best) continue;
    const double gap = (values.col(first + best) - values.col(first + r)).minCoeff() + c[first + best] - c[first + r];
    const double norm = (z.row(first + best) - z.row(first + r)).norm();
    // Rows equal in doubles may differ exactly (a difference that cancels or underflows): the gap
    // of their rounded constants then proves nothing, and max_pieces() decides them exactly. The
    // exact gap is within the two rows' rounding errors of the rounded one.
    const double error = error_[layer][first + best] + error_[layer][first + r];
    if (norm == 0 || !(gap > engine_.tol_ * norm + error)) return -1;
  }
  return best;
}

const Cell& VertexEngine::Worker::collect_garbage(const Cell& cell) {
  // A slot tight at fewer than dim vertices is no facet (any facet has at least dim vertices):
  // free it, so that masks stay one or two words wide.
  const int d = cell.dim;
  const int num_slots = cell.words * 64;
  std::vector<int> tight(num_slots, 0);
  for (int v = 0; v < cell.num_vertices; ++v) {
    const std::uint64_t* m = cell.vertex_mask(v);
    for (int s = 0; s < num_slots; ++s) tight[s] += (m[s / 64] >> (s % 64)) & 1;
  }
  std::vector<ConstraintCode> slots = cell.slots;
  std::vector<std::uint64_t> keep(cell.words, 0);
  bool any_free = false;
  for (int s = 0; s < num_slots; ++s) {
    if (slots[s] != kFreeSlot && tight[s] < d) slots[s] = kFreeSlot;
    if (slots[s] == kFreeSlot)
      any_free = true;
    else
      keep[s / 64] |= std::uint64_t{1} << (s % 64);
  }
  const int words = any_free ? cell.words : cell.words + 1;
  if (!any_free) slots.resize(static_cast<std::size_t>(words) * 64, kFreeSlot);
  reset(garbage_free_, d, words, slots);
  garbage_free_.simple = cell.simple;
  garbage_free_.depth = cell.depth;
  std::vector<std::uint64_t> m(words, 0);
  for (int v = 0; v < cell.num_vertices; ++v) {
    for (int k = 0; k < cell.words; ++k) m[k] = cell.vertex_mask(v)[k] & keep[k];
    push_vertex(garbage_free_, cell.vertex(v), m.data());
  }
  return garbage_free_;
}

VertexEngine::Worker::Side VertexEngine::Worker::split(const Cell& in, const double* w, double c,
                                                       ConstraintCode below_code, ConstraintCode above_code,
                                                       Cell& below, Cell& above, const OnTest* exactly_on) {
  const int d = in.dim;
  double norm2 = 0;
  for (int i = 0; i < d; ++i) norm2 += w[i] * w[i];
  const double norm = std::sqrt(norm2);
  const double eps = engine_.tol_ * norm;
  const int num_vertices = in.num_vertices;
  if (values_.size() < static_cast<std::size_t>(num_vertices)) {  // buffers that only grow: resizing down
    values_.resize(num_vertices);                                   // and up again would zero them each time
    pos_.resize(num_vertices);
    neg_.resize(num_vertices);
  }
  with_dimension(d, [&](auto dim) {
    vertex_values<decltype(dim)::value>(in.x.data(), num_vertices, d, w, c, values_.data());
  });
  int num_pos = 0, num_neg = 0;  // the first entries of pos_ and neg_
  bool any_on = false;  // on_ is only filled once a vertex is found on the cut
  double max_pos = 0, max_neg = 0;
  if (!vertex_sides(values_.data(), num_vertices, eps, pos_.data(), num_pos, neg_.data(), num_neg, max_pos,
                    max_neg)) {
    num_pos = num_neg = 0;
    max_pos = max_neg = 0;
    for (int v = 0; v < num_vertices; ++v) {
      const double s = values_[v];
      if (s > eps) {
        pos_[num_pos++] = v;
        max_pos = std::max(max_pos, s);
      } else if (s < -eps) {
        neg_[num_neg++] = v;
        max_neg = std::max(max_neg, -s);
      } else if (exactly_on && (*exactly_on)(in, v)) {
        // Proved to lie exactly on the hyperplane: it goes to both sides, tight on the new facet.
        if (!any_on) on_.assign(num_vertices, 0);
        on_[v] = 1;
        any_on = true;
      } else {
        // Within the tolerance of the hyperplane, floating point cannot tell on which side the
        // vertex is, nor whether a sliver of the cell lies beyond it.
        return Side::kUndecided;
      }
    }
  }
  if (num_pos == 0 || num_neg == 0) return num_pos == 0 ? Side::kBelow : Side::kAbove;

  // One free slot for the new facet; both children use the same slot with their own code.
  auto free_slot = [](const Cell& cell) {
    for (std::size_t s = 0; s < cell.slots.size(); ++s)
      if (cell.slots[s] == kFreeSlot) return static_cast<int>(s);
    return -1;
  };
  const Cell* cell = &in;
  int slot = free_slot(*cell);
  if (slot < 0) {
    cell = &collect_garbage(in);
    slot = free_slot(*cell);
  }
  const int words = cell->words;
  const int nv = cell->num_vertices;

  // The edges the cut crosses: pairs (p, n) on its two sides whose masks share at least d - 1
  // constraints, and for a cell that is not simple, no third vertex on all of those. Only a few
  // percent of the pairs are edges (4% in 5-D, where a cell has ~40 vertices), so the test runs
  // over the masks of neg_ gathered in one array (one word each in the common case) and stores every
  // pair without a branch, and the rest of the work is done for the edges alone.
  const std::size_t most = static_cast<std::size_t>(num_pos) * num_neg + 8;
  if (edge_p_.size() < most) {  // buffers that only grow: the loops below store without branching
    edge_p_.resize(most);
    edge_n_.resize(most);
  }
  std::size_t num_edges = 0;
  int* const ep = edge_p_.data();
  int* const en = edge_n_.data();
  if (words == 1) {
    if (neg_mask_.size() < static_cast<std::size_t>(num_neg)) neg_mask_.resize(num_neg);  // only grows
    for (int k = 0; k < num_neg; ++k) neg_mask_[k] = cell->mask[neg_[k]];
#ifdef RELUTOPE_AVX512_PAIRS
    if (engine_.avx512_)
      num_edges = crossed_pairs_avx512(pos_.data(), num_pos, cell->mask.data(), neg_.data(), neg_mask_.data(),
                                       num_neg, d, ep, en);
    else
#endif
      num_edges = crossed_pairs_scalar(pos_.data(), num_pos, cell->mask.data(), neg_.data(), neg_mask_.data(),
                                       num_neg, d, ep, en);
  } else {
    for (int i = 0; i < num_pos; ++i) {
      const int p = pos_[i];
      const std::uint64_t* mp = cell->vertex_mask(p);
      for (int k = 0; k < num_neg; ++k) {
        const int n = neg_[k];
        const std::uint64_t* mn = cell->vertex_mask(n);
        int common = 0;
        for (int word = 0; word < words; ++word) common += popcount(mp[word] & mn[word]);
        ep[num_edges] = p;
        en[num_edges] = n;
        num_edges += common >= d - 1;
      }
    }
  }
  if (!cell->simple) {
    // Adjacent iff no third vertex lies on every constraint the two share.
    std::size_t kept = 0;
    std::vector<std::uint64_t> shared(words);
    for (std::size_t e = 0; e < num_edges; ++e) {
      const int p = ep[e], n = en[e];
      for (int k = 0; k < words; ++k) shared[k] = cell->vertex_mask(p)[k] & cell->vertex_mask(n)[k];
      bool third = false;
      for (int u = 0; u < nv && !third; ++u) {
        if (u == p || u == n) continue;
        const std::uint64_t* mu = cell->vertex_mask(u);
        bool contains = true;
        for (int k = 0; k < words && contains; ++k) contains = (mu[k] & shared[k]) == shared[k];
        third = contains;
      }
      if (third) continue;
      ep[kept] = p;
      en[kept] = n;
      ++kept;
    }
    num_edges = kept;
  }

  // The children, sized once: the old vertices on their side (those on the cut on both), in
  // order, then one new vertex per crossed edge, in the order found.
  int num_on = 0;
  if (any_on)
    for (int v = 0; v < nv; ++v) num_on += on_[v];
  const int num_above = num_pos + static_cast<int>(num_edges) + num_on;
  const int num_below = num_neg + static_cast<int>(num_edges) + num_on;
  shape(below, d, words, cell->slots, num_below);
  shape(above, d, words, cell->slots, num_above);
  below.slots[slot] = below_code;
  above.slots[slot] = above_code;
  const std::uint64_t bit = std::uint64_t{1} << (slot % 64);
  const int bit_word = slot / 64;
  double* bx = below.x.data();
  double* ax = above.x.data();
  std::uint64_t* bm = below.mask.data();
  std::uint64_t* am = above.mask.data();
  const double* const x = cell->x.data();
  const std::uint64_t* const m = cell->mask.data();
  if (!any_on) {
    with_dimension(d, [&](auto dim) {
      copy_to_sides<decltype(dim)::value>(x, m, nv, d, words, values_.data(), eps, ax, am, bx, bm);
    });
  } else {
    for (int v = 0; v < nv; ++v) {
      const double* xv = x + static_cast<std::size_t>(v) * d;
      const std::uint64_t* mv = m + static_cast<std::size_t>(v) * words;
      if (any_on && on_[v]) {
        std::copy(xv, xv + d, ax);
        std::copy(xv, xv + d, bx);
        std::copy(mv, mv + words, am);
        std::copy(mv, mv + words, bm);
        am[bit_word] |= bit;
        bm[bit_word] |= bit;
        ax += d, bx += d, am += words, bm += words;
      } else if (values_[v] > eps) {
        std::copy(xv, xv + d, ax);
        std::copy(mv, mv + words, am);
        ax += d, am += words;
      } else {
        std::copy(xv, xv + d, bx);
        std::copy(mv, mv + words, bm);
        bx += d, bm += words;
      }
    }
  }
  for (std::size_t e = 0; e < num_edges; ++e) {
    const int p = ep[e], n = en[e];
    const double t = values_[p] / (values_[p] - values_[n]);
    const double* xp = x + static_cast<std::size_t>(p) * d;
    const double* xn = x + static_cast<std::size_t>(n) * d;
    for (int i = 0; i < d; ++i) bx[i] = ax[i] = xp[i] + t * (xn[i] - xp[i]);
    const std::uint64_t* mp = m + static_cast<std::size_t>(p) * words;
    const std::uint64_t* mn = m + static_cast<std::size_t>(n) * words;
    for (int k = 0; k < words; ++k) bm[k] = am[k] = mp[k] & mn[k];
    am[bit_word] |= bit;
    bm[bit_word] |= bit;
    ax += d, bx += d, am += words, bm += words;
  }
  below.simple = above.simple = cell->simple && !any_on;  // a vertex on the cut lies on d + 1 constraints
  below.depth = std::min(cell->depth, max_neg / norm);
  above.depth = std::min(cell->depth, max_pos / norm);
  return Side::kBoth;
}

void VertexEngine::Worker::emit(const Cell& cell) {
  const int d = cell.dim;
  interior_.assign(d, 0.0);
  double* const sum = interior_.data();  // locals: the stores would otherwise reload the vectors' pointers
  const double* x = cell.x.data();
  for (int v = 0; v < cell.num_vertices; ++v, x += d)
    for (int i = 0; i < d; ++i) sum[i] += x[i];
  for (int i = 0; i < d; ++i) sum[i] /= cell.num_vertices;
  Leaf leaf;
  leaf.pattern = pattern_.data();
  leaf.interior_point = interior_.data();
  leaf.depth = cell.depth;
  const bool vertices = sink_->wants_vertices();
  const bool volume = sink_->wants_volume();
  if (sink_->wants_constraints() && !vertices && !volume) {
    // The codes alone (certify_count's leaf keys, Regions' half-spaces): the constraints tight at
    // d vertices or more, in slot order, counted from the vertices' masks, d bits each.
    const std::size_t num_slots = cell.slots.size();
    slot_counts_.assign(num_slots, 0);
    const std::uint64_t* m = cell.mask.data();
    for (int v = 0; v < cell.num_vertices; ++v)
      for (int w = 0; w < cell.words; ++w, ++m)
        for (std::uint64_t bits = *m; bits; bits &= bits - 1) ++slot_counts_[w * 64 + __builtin_ctzll(bits)];
    for (std::size_t s = 0; s < num_slots; ++s)
      if (slot_counts_[s] >= d && cell.slots[s] != kFreeSlot) leaf.constraints.push_back(cell.slots[s]);
  } else if (sink_->wants_constraints() || vertices || volume) {
    // A constraint is a facet when it is tight at at least d vertices (a facet has at least d);
    // with vertices asked for, their affine rank must be d - 1 as well.
    std::vector<std::vector<int>> facets;
    std::vector<int> on;
    for (std::size_t s = 0; s < cell.slots.size(); ++s) {
      if (cell.slots[s] == kFreeSlot) continue;
      on.clear();
      for (int v = 0; v < cell.num_vertices; ++v)
        if ((cell.vertex_mask(v)[s / 64] >> (s % 64)) & 1) on.push_back(v);
      if (static_cast<int>(on.size()) < d) continue;
      if (vertices && affine_rank(cell.x.data(), d, on) != d - 1) continue;
      leaf.constraints.push_back(cell.slots[s]);
      facets.push_back(on);
    }
    if (volume) leaf.volume = volume_and_centroid(cell.x.data(), cell.num_vertices, d, facets).volume;
    if (vertices) {
      leaf.vertices = cell.x;
      leaf.constraint_vertices = std::move(facets);
    }
  }
  sink_->leaf(leaf);
}

void VertexEngine::Worker::snapshot(const Cell& cell, int layer, int pos) {
  Task task;
  task.cell = cell;
  task.pattern = pattern_;
  task.layer = layer;
  task.pos = pos;
  if (layer >= 0) {
    task.unstable = unstable_[layer];
    task.weight = weight_[layer];
    task.bias = bias_[layer];
    task.error = error_[layer];
    task.carry = carry_[layer];
    task.widest = widest_[layer];
    task.largest = largest_[layer];
    if (layer > 0) {
      task.prev_carry = carry_[layer - 1];
      task.prev_largest = largest_[layer - 1];
    }
    if (layer + 1 < static_cast<int>(engine_.flat_.layers.size())) task.next = map_at(layer, pos, map_);
  }
  frontier_->push_back(std::move(task));
}

void VertexEngine::Worker::descend(const Cell& cell, int layer, int pos, int splits) {
  const int num_layers = static_cast<int>(engine_.flat_.layers.size());
  if (at_cut(splits)) return snapshot(cell, layer, pos);
  if (num_layers == 0) return cutting() ? snapshot(cell, layer, pos) : emit(cell);
  const std::vector<int>& unstable = unstable_[layer];
  const bool last = layer + 1 == num_layers;
  if (pos == static_cast<int>(unstable.size())) {
    if (last) return cutting() ? snapshot(cell, layer, pos) : emit(cell);
    if (!enter_layer(layer + 1, cell, &map_at(layer, pos, map_))) return exact_subtree(engine_.flat_.layers[layer + 1].offset);
    return descend(cell, layer + 1, 0, splits);
  }
  const SplitLayer& split_layer = engine_.flat_.layers[layer];
  if (split_layer.is_max) return descend_max(cell, layer, pos, splits);
  const int global = split_layer.offset + unstable[pos];
  const int j = split_layer.entry_out[unstable[pos]];  // its output, and its row
  w_ = weight_[layer].row(j).transpose();
  Cell& below = below_[splits];
  Cell& above = above_[splits];
  auto decide = [&](int bit) {
    pattern_[global] = static_cast<std::uint8_t>(bit);
    if (!last) decide_output(layer, pos, j);
  };
  switch (split(cell, w_.data(), bias_[layer][j], neuron_code(global, false), neuron_code(global, true), below, above)) {
    case Side::kBelow:
      decide(0);
      return descend(cell, layer, pos + 1, splits);
    case Side::kAbove:
      decide(1);
      return descend(cell, layer, pos + 1, splits);
    case Side::kBoth: {
      // Both sides go on from the map here: summed once for them (see anchor_).
      const Anchor saved = last ? Anchor{} : anchor_[layer];
      if (!last) anchor_[layer] = {&map_at(layer, pos, checkpoints_[layer][pos]), pos};
      decide(0);
      descend(below, layer, pos + 1, splits + 1);
      decide(1);
      descend(above, layer, pos + 1, splits + 1);
      if (!last) anchor_[layer] = saved;
      return;
    }
    case Side::kUndecided: {
      bool active = false;
      if (!on_a_facet_exactly(cell, global, active)) return exact_subtree(global);
      decide(active);
      return descend(cell, layer, pos + 1, splits);
    }
  }
}

VertexEngine::Worker::Exactly VertexEngine::Worker::decide_exactly(const Cell& cell, ConstraintCode code) {
  std::vector<ConstraintCode> codes{code};
  for (ConstraintCode slot : cell.slots)
    if (slot != kFreeSlot && slot >= 0) codes.push_back(slot);
  ++counters.exact_decisions;
  // Rows f(x) = a·x - b, with f <= 0 on the cell for each slot, and f <= 0 the side `code` names.
  ExactNetwork::Matrix a;
  ExactNetwork::Vector b;
  engine_.exact_.network().side_rows(pattern_, codes, a, b);
  const std::size_t d = a[0].size();
  if (std::all_of(a[0].begin(), a[0].end(), [](const mpq_class& v) { return sgn(v) == 0; })) {
    // Constant on the cell (a unit fed only by inactive ReLUs; two rows of a Max unit that differ
    // by a constant): f = -b.
    const int sign = sgn(b[0]);
    return sign > 0 ? Exactly::kInside : sign < 0 ? Exactly::kOutside : Exactly::kIdentical;
  }
  for (std::size_t k = 1; k < codes.size(); ++k) {
    // f_new = lambda f_k exactly, for some lambda != 0?
    std::size_t lead = 0;
    while (lead < d && sgn(a[k][lead]) == 0) ++lead;
    if (lead == d) continue;
    const mpq_class lambda = a[0][lead] / a[k][lead];
    if (sgn(lambda) == 0 || b[0] != lambda * b[k]) continue;
    bool proportional = true;
    for (std::size_t i = 0; i < d && proportional; ++i) proportional = a[0][i] == lambda * a[k][i];
    if (!proportional) continue;
    // f_k <= 0 on the cell, so f_new = lambda f_k has the sign of -lambda there.
    return sgn(lambda) > 0 ? Exactly::kInside : Exactly::kOutside;
  }
  return Exactly::kUnknown;
}

void VertexEngine::Worker::descend_max(const Cell& cell, int layer, int pos, int splits) {
  const SplitLayer& split_layer = engine_.flat_.layers[layer];
  const int entry = unstable_[layer][pos];
  const int global = split_layer.offset + entry;
  const int o = split_layer.entry_out[entry];
  const bool last = layer + 1 == static_cast<int>(engine_.flat_.layers.size());
  auto decide = [&](int state) {
    pattern_[global] = static_cast<std::uint8_t>(state);
    if (!last) decide_output(layer, pos, o);
  };
  if (!max_pieces(cell, layer, entry, splits)) return exact_subtree(global);
  MaxPieces& pieces = pieces_[splits];  // deeper levels may grow pieces_: a deque keeps this reference
  const int num_pieces = static_cast<int>(pieces.states.size());
  if (num_pieces == 1 && !pieces.clipped[0]) {  // the whole cell
    decide(pieces.states[0]);
    return descend(cell, layer, pos + 1, splits);
  }
  const Anchor saved = last ? Anchor{} : anchor_[layer];  // as in descend() at a split
  if (!last) anchor_[layer] = {&map_at(layer, pos, checkpoints_[layer][pos]), pos};
  for (int p = 0; p < num_pieces; ++p) {
    const int state = pieces.states[p];
    decide(state);
    descend(pieces.clipped[p] ? pieces.cells[state] : cell, layer, pos + 1, splits + 1);
  }
  if (!last) anchor_[layer] = saved;
}

bool VertexEngine::Worker::difference_trusted(int layer, int a, int b, double norm) const {
  if (!(norm > 0)) return false;
  const double band = engine_.tol_ * norm;
  if (2 * (error_[layer][a] + error_[layer][b]) <= band) return true;
  return 2 * (tight_error(layer, a) + tight_error(layer, b)) <= band;
}

bool VertexEngine::Worker::on_a_facet_exactly(const Cell& cell, int global, bool& active) {
  // z = 0 on the whole cell is inactive, as the exact engine has it.
  const Exactly side = decide_exactly(cell, neuron_code(global, true));
  active = side == Exactly::kInside;
  return side != Exactly::kUnknown;
}

bool VertexEngine::Worker::max_pieces(const Cell& cell, int layer, int entry, int splits) {
  const SplitLayer& split_layer = engine_.flat_.layers[layer];
  const int global = split_layer.offset + entry;
  const int o = split_layer.entry_out[entry];
  const int first = split_layer.out_row[o], k = split_layer.out_rows[o];
  const int d = cell.dim;
  while (static_cast<int>(pieces_.size()) <= splits) pieces_.emplace_back();
  MaxPieces& out = pieces_[splits];
  if (static_cast<int>(out.cells.size()) < k + 1) out.cells.resize(k + 1);
  out.states.clear();
  out.clipped.clear();
  Eigen::VectorXd f(d);
  Cell& junk = max_junk_;
  const SplitLayer* prev = layer > 0 ? &engine_.flat_.layers[layer - 1] : nullptr;
  for (int state = 0; state < k; ++state) {
    // The piece where row `state` is the largest: clip by z_state >= z_j for every other j,
    // ping-ponging between two scratch cells (the piece is cells[state] in the end).
    const Cell* piece = &cell;
    Cell* spare = &out.cells[k];
    bool empty = false;
    for (int j = 0; j < k && !empty; ++j) {
      if (j == state) continue;
      const int sign = split_layer.difference_sign(first + state, first + j, prev, pattern_.data());
      if (sign != SplitLayer::kUnknownSign) {
        // A tie (the lower index is the state) or one row above the other on the whole cell.
        empty = sign < 0 || (sign == 0 && j < state);
        continue;
      }
      f = weight_[layer].row(first + state).transpose() - weight_[layer].row(first + j).transpose();
      double c = bias_[layer][first + state] - bias_[layer][first + j];
      if (!difference_trusted(layer, first + state, first + j, f.norm())) {
        // z_state - z_j rounds to zero, or to the order of its rounding error: its exact value
        // decides, never the rounded constants; a real tiny difference cuts the piece like any
        // other (scaled, the sides do not change).
        const ExactNetwork::RowOnRegion exact = engine_.exact_.network().row_on_region(
            pattern_, layer, first + state, engine_.centre_, engine_.scale_, first + j);
        if (exact.rational) ++counters.exact_decisions;
        if (exact.decided) {  // equal rows: the lower index is the state, and they do not split it
          empty = exact.sign < 0 || (exact.sign == 0 && j < state);
          continue;
        }
        f = exact.w;
        c = exact.c;
      }
      Cell* target = piece == &out.cells[state] ? spare : &out.cells[state];
      // A vertex within the tolerance may lie exactly on z_state = z_j, as where the two ReLUs a
      // MaxPool compares are both 0 (a corner of the cell on both their hyperplanes).
      const OnTest on = [&](const Cell& at, int v) {
        const std::uint64_t* m = at.vertex_mask(v);
        return split_layer.difference_vanishes_at(first + state, first + j, prev, pattern_.data(), [&](int entry) {
          for (std::size_t slot = 0; slot < at.slots.size(); ++slot)
            if (((m[slot / 64] >> (slot % 64)) & 1) && at.slots[slot] >= 0 && !is_max_code(at.slots[slot]) &&
                code_entry(at.slots[slot]) == entry)
              return true;
          return false;
        });
      };
      Side side = split(*piece, f.data(), c, max_code(global, j, state), max_code(global, state, j), junk, *target, &on);
      if (side == Side::kUndecided) {
        // Within the tolerance: decided exactly, or the whole unit goes to exact arithmetic.
        const Exactly exactly = decide_exactly(*piece, max_code(global, state, j));
        if (exactly == Exactly::kUnknown) return false;
        // Rows equal on the whole cell: the lower index is the state, and they do not split it.
        side = exactly == Exactly::kInside ? Side::kAbove
               : exactly == Exactly::kOutside ? Side::kBelow
               : j < state ? Side::kBelow : Side::kAbove;
      }
      if (side == Side::kBelow) empty = true;
      if (side == Side::kBoth) {
        if (target == spare) std::swap(out.cells[state], out.cells[k]);  // keep the piece at cells[state]
        piece = &out.cells[state];
      }
    }
    if (empty) continue;
    out.states.push_back(state);
    out.clipped.push_back(piece != &cell);
  }
  return true;
}

void VertexEngine::Worker::exact_subtree(int first) {
  if (cutting()) {  // the exact subtree becomes a task of its own
    Task task;
    task.pattern = pattern_;
    task.exact_from = first;
    frontier_->push_back(std::move(task));
    return;
  }
  if (!engine_.exact_.engine_available()) {
    throw UncertifiedError("a cut at neuron " + std::to_string(first) +
                           " falls within the floating-point tolerance, and exact arithmetic is not available here "
                           "(it needs at most " + std::to_string(kMaxExactDim) + " inputs)");
  }
  if (!exact_) exact_ = std::make_unique<ExactEngine::Worker>(engine_.exact_.engine());
  exact_->run_subtree(pattern_, first, *sink_);
  ++counters.exact_decisions;
}

VertexEngine::Task VertexEngine::root_task() const {
  Task root;
  root.cell = root_;
  root.pattern.assign(flat_.num_neurons, 0);
  return root;
}

void VertexEngine::Worker::run(const Task& task, LeafSink& sink) {
  sink_ = &sink;
  pattern_ = task.pattern;
  if (task.exact_from >= 0) return exact_subtree(task.exact_from);
  if (task.layer < 0) {
    if (engine_.root_undecided_) return exact_subtree(0);
    if (engine_.flat_.layers.empty()) return descend(task.cell, -1, 0, 0);
    if (!enter_layer(0, task.cell, nullptr)) return exact_subtree(0);
    return descend(task.cell, 0, 0, 0);
  }
  unstable_[task.layer] = task.unstable;
  weight_[task.layer] = task.weight;
  bias_[task.layer] = task.bias;
  error_[task.layer] = task.error;
  carry_[task.layer] = task.carry;
  widest_[task.layer] = task.widest;
  largest_[task.layer] = task.largest;
  if (task.layer > 0) {
    carry_[task.layer - 1] = task.prev_carry;
    largest_[task.layer - 1] = task.prev_largest;
  }
  if (task.layer + 1 < static_cast<int>(engine_.flat_.layers.size())) {
    reserve_decisions(task.layer);
    base_[task.layer] = task.next;
    anchor_[task.layer] = {&base_[task.layer], task.pos};
  }
  descend(task.cell, task.layer, task.pos, 0);
}

}  // namespace relutope::detail
