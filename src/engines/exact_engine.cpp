#include "engines/exact_engine.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "detail/face_lattice.h"
#include "relutope/error.h"

namespace relutope::detail {

namespace {

using Integer = ExactEngine::Integer;
using IntVector = ExactEngine::IntVector;

// `value` (rationals) times the least common multiple of their denominators: integers with the same
// ratios and signs. Sets `den` to that multiple.
IntVector over_common_denominator(const std::vector<const ExactNetwork::Rational*>& value, Integer& den) {
  den = 1;
  for (const ExactNetwork::Rational* q : value) mpz_lcm(den.get_mpz_t(), den.get_mpz_t(), q->get_den_mpz_t());
  IntVector out(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    mpz_divexact(out[i].get_mpz_t(), den.get_mpz_t(), value[i]->get_den_mpz_t());
    out[i] *= value[i]->get_num();
  }
  return out;
}

// 2^e for e in [-1022, 1023] (a normal double): a product with it is rounded as ldexp rounds.
double power_of_two(int e) {
  const std::uint64_t bits = static_cast<std::uint64_t>(e + 1023) << 52;
  double out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

// X / w in doubles, with relative error < 3 2^-52: X and w truncated to 53 bits (< 2^-52 each) and
// divided (< 2^-53), as long as the result is of normal size (push checks). A fifth of a 5-input
// count was mpq_get_d's division of the integers. w is given as its truncation m_den 2^e_den.
double quotient(const mpz_class& num, double m_den, long e_den) {
  long e_num = 0;
  const double m_num = mpz_get_d_2exp(&e_num, num.get_mpz_t());
  const long e = e_num - e_den;
  if (m_num == 0) return 0;
  if (e > 1100) return m_num > 0 ? HUGE_VAL : -HUGE_VAL;
  if (e < -1100) return 0;
  if (e >= -1022 && e <= 1023) return m_num / m_den * power_of_two(static_cast<int>(e));
  return std::ldexp(m_num / m_den, static_cast<int>(e));
}

// The rounding of [X, w] (d + 1 integers, w > 0) to out[0 .. d-1]; whether the filter may use it.
bool round_vertex(const mpz_class* xw, int d, double* out) {
  bool ok = true;
  long e_den = 0;
  const double m_den = mpz_get_d_2exp(&e_den, xw[d].get_mpz_t());
  for (int j = 0; j < d; ++j) {
    const double a = quotient(xw[j], m_den, e_den);
    out[j] = a;
    // The filter's error bound holds for doubles of normal size; a coordinate rounded to 0 must be 0.
    const double m = std::abs(a);
    if (m == 0 ? sgn(xw[j]) != 0 : !(m >= 0x1.0p-900 && m <= 0x1.0p900)) ok = false;
  }
  return ok;
}

// The determinant of the n x n matrix m (row-major; overwritten) by Bareiss' fraction-free
// elimination: every division is exact.
void determinant(mpz_class* m, int n, mpz_class& det) {
  bool negate = false;
  mpz_class previous = 1;
  for (int k = 0; k + 1 < n; ++k) {
    if (sgn(m[k * n + k]) == 0) {
      int r = k + 1;
      while (r < n && sgn(m[r * n + k]) == 0) ++r;
      if (r == n) {
        det = 0;
        return;
      }
      for (int j = k; j < n; ++j) mpz_swap(m[k * n + j].get_mpz_t(), m[r * n + j].get_mpz_t());
      negate = !negate;
    }
    for (int i = k + 1; i < n; ++i) {
      for (int j = k + 1; j < n; ++j) {
        mpz_class& e = m[i * n + j];
        e *= m[k * n + k];
        mpz_submul(e.get_mpz_t(), m[i * n + k].get_mpz_t(), m[k * n + j].get_mpz_t());
        mpz_divexact(e.get_mpz_t(), e.get_mpz_t(), previous.get_mpz_t());
      }
    }
    previous = m[k * n + k];
  }
  det = m[(n - 1) * n + n - 1];
  if (negate) det = -det;
}

}  // namespace

namespace {
thread_local bool vertices_on_demand = false;
}  // namespace

ExactVerticesOnDemand::ExactVerticesOnDemand() : previous_(vertices_on_demand) { vertices_on_demand = true; }
ExactVerticesOnDemand::~ExactVerticesOnDemand() { vertices_on_demand = previous_; }
bool ExactVerticesOnDemand::active() { return vertices_on_demand; }

void ExactEngine::Cell::push(const mpz_class* xw, int d, const std::vector<ConstraintCode>& tight, bool is_cofactor) {
  const std::size_t stride = d + 1;
  approx.resize((n + 1) * d);
  filterable.push_back(round_vertex(xw, d, &approx[n * d]));
  if (x.size() < (n + 1) * stride) x.resize((n + 1) * stride);
  for (std::size_t j = 0; j < stride; ++j) mpz_set(x[n * stride + j].get_mpz_t(), xw[j].get_mpz_t());
  cofactor.push_back(is_cofactor);
  lazy.push_back(0);
  error.push_back(0);
  if (on.size() < n + 1) on.resize(n + 1);
  on[n] = tight;
  ++n;
}

void ExactEngine::Cell::push_lazy(const double* y, int d, double bound, const std::vector<ConstraintCode>& tight) {
  const std::size_t stride = d + 1;
  approx.insert(approx.end(), y, y + d);
  if (x.size() < (n + 1) * stride) x.resize((n + 1) * stride);  // room for its integers
  filterable.push_back(1);
  cofactor.push_back(1);
  lazy.push_back(1);
  error.push_back(bound);
  if (on.size() < n + 1) on.resize(n + 1);
  on[n] = tight;
  ++n;
}

template <bool kMove, class From>
void ExactEngine::Cell::append(From& from, std::size_t v, int d, ConstraintCode id) {
  const std::size_t stride = d + 1;
  if (x.size() < (n + 1) * stride) x.resize((n + 1) * stride);
  auto* src = &from.x[v * stride];
  if (!from.lazy[v]) {
    for (std::size_t j = 0; j < stride; ++j) {
      if constexpr (kMove) mpz_swap(x[n * stride + j].get_mpz_t(), src[j].get_mpz_t());
      else mpz_set(x[n * stride + j].get_mpz_t(), src[j].get_mpz_t());
    }
  }
  approx.insert(approx.end(), from.approx.begin() + v * d, from.approx.begin() + (v + 1) * d);
  filterable.push_back(from.filterable[v]);
  cofactor.push_back(from.cofactor[v]);
  lazy.push_back(from.lazy[v]);
  error.push_back(from.error[v]);
  if (on.size() < n + 1) on.resize(n + 1);
  std::vector<ConstraintCode>& t = on[n];
  if constexpr (kMove) t.swap(from.on[v]);
  else t = from.on[v];
  if (id != 0) t.insert(std::upper_bound(t.begin(), t.end(), id), id);
  ++n;
}

void ExactEngine::Cell::push(const Cell& from, std::size_t v, int d, ConstraintCode id) { append<false>(from, v, d, id); }

void ExactEngine::Cell::take(Cell& from, std::size_t v, int d, ConstraintCode id) { append<true>(from, v, d, id); }

ExactEngine::ExactEngine(const Network& net, const Domain& domain)
    : ExactEngine(std::make_shared<const ExactNetwork>(net), domain) {}

ExactEngine::ExactEngine(std::shared_ptr<const ExactNetwork> network, const Domain& domain)
    : network_(std::move(network)), dim_(domain.dim()) {
  for (const ExactNetwork::Layer& layer : network_->layers) {
    IntLayer e;
    std::vector<const Rational*> values;
    for (const Vector& row : layer.weight)
      for (const Rational& w : row) values.push_back(&w);
    for (const Rational& b : layer.bias) values.push_back(&b);
    IntVector scaled = over_common_denominator(values, e.den);
    const std::size_t num_weights = scaled.size() - layer.bias.size();
    e.weight.assign(std::make_move_iterator(scaled.begin()), std::make_move_iterator(scaled.begin() + num_weights));
    for (const Integer& w : e.weight) e.small_weight.push_back(w.fits_slong_p() ? w.get_si() : kNotSmall);
    e.bias.assign(std::make_move_iterator(scaled.begin() + num_weights), std::make_move_iterator(scaled.end()));
    values.clear();
    for (const Rational& s : layer.slope) values.push_back(&s);
    e.slope = over_common_denominator(values, e.slope_den);
    int_layers_.push_back(std::move(e));
  }
  for (int l = 0; l < static_cast<int>(network_->layers.size()); ++l)
    layer_of_entry_.insert(layer_of_entry_.end(), network_->layers[l].num_entries(), l);
  // The box's rows: constraint 2i is x_i >= lo_i, 2i+1 x_i <= hi_i, as den x_i - num = 0.
  const int stride = dim_ + 1;
  std::vector<Rational> bound(2 * dim_);
  for (int i = 0; i < dim_; ++i) {
    bound[2 * i] = Rational(domain.lo[i]);
    bound[2 * i + 1] = Rational(domain.hi[i]);
  }
  domain_rows_.resize(2 * dim_ * stride);
  for (int k = 0; k < 2 * dim_; ++k) {
    domain_rows_[k * stride + k / 2] = bound[k].get_den();
    domain_rows_[k * stride + dim_] = -bound[k].get_num();
  }
  // The box: vertex v has coordinate i at hi iff bit i is set. Its vector is the cofactor vector of
  // its d faces' rows: X_i = num_i prod_{j != i} den_j, w = prod den_j.
  for (std::uint64_t v = 0; v < (std::uint64_t{1} << dim_); ++v) {
    std::vector<ConstraintCode> on;
    IntVector h(stride, 1);
    for (int i = 0; i < dim_; ++i) {
      const Rational& b = bound[2 * i + ((v >> i) & 1)];
      on.push_back(domain_code(2 * i + ((v >> i) & 1)));
      for (int j = 0; j <= dim_; ++j) h[j] *= j == i ? b.get_num() : b.get_den();
    }
    std::sort(on.begin(), on.end());
    root_.push(h.data(), dim_, on, true);
  }
  Worker clipper(*this);
  for (const Halfspace& h : domain.extra) {
    Vector f(dim_ + 1);  // a·x - b <= 0 is inside
    for (int i = 0; i < dim_; ++i) f[i] = Rational(h.a[i]);
    f[dim_] = -Rational(h.b);
    std::vector<const Rational*> values;
    for (const Rational& c : f) values.push_back(&c);
    Integer den;
    const IntVector fi = over_common_denominator(values, den);
    domain_rows_.insert(domain_rows_.end(), fi.begin(), fi.end());
    Cell inside, outside;
    const ConstraintCode id = domain_code(2 * dim_ + num_domain_constraints_);
    const Worker::Side side = clipper.split(root_, fi.data(), id, inside, outside);
    if (side == Worker::Side::kAbove)
      throw InputError("domain: empty: constraint " + std::to_string(num_domain_constraints_) +
                       " leaves no interior point in the box");
    if (side == Worker::Side::kBoth) root_ = std::move(inside);
    ++num_domain_constraints_;
  }
  lazy_ = ExactVerticesOnDemand::active();  // the domain's vertices above are exact: rounded_domain reads them
}

ExactEngine::RoundedDomain ExactEngine::rounded_domain(const Eigen::VectorXd& centre, const Eigen::VectorXd& scale) const {
  RoundedDomain out;
  for (std::size_t v = 0; v < root_.num_vertices(); ++v) {
    Eigen::VectorXd u(dim_);
    for (int i = 0; i < dim_; ++i) {
      Rational x(root_.vertex(v, dim_)[i], root_.vertex(v, dim_)[dim_]);
      x.canonicalize();
      u[i] = Rational((x - Rational(centre[i])) / Rational(scale[i])).get_d();
    }
    out.vertices.push_back(std::move(u));
    std::vector<ConstraintCode> tight;
    for (ConstraintCode id : root_.on[v]) tight.push_back(id);
    out.tight.push_back(std::move(tight));
  }
  return out;
}

ExactEngine::Task ExactEngine::root_task() const {
  Task task;
  task.cell = root_;
  task.pattern.assign(network_->num_neurons, 0);
  if (!int_layers_.empty()) {  // the first layer's pre-activations: (W x + b) / den
    const IntLayer& first = int_layers_.front();
    const int rows = static_cast<int>(first.bias.size()), stride = dim_ + 1;
    task.pre.resize(1);
    IntMap& pre = task.pre[0];
    pre.m.resize(static_cast<std::size_t>(rows) * stride);
    for (int i = 0; i < rows; ++i) {
      for (int j = 0; j < dim_; ++j) pre.m[i * stride + j] = first.weight[static_cast<std::size_t>(i) * dim_ + j];
      pre.m[i * stride + dim_] = first.bias[i];
    }
    pre.scale = first.den;
  }
  return task;
}

ExactEngine::Worker::Worker(const ExactEngine& engine)
    : engine_(engine),
      pattern_(engine.network_->num_neurons, 0),
      pre_(engine.network_->layers.size()),
      stable_(engine.network_->layers.size()) {}

ExactEngine::Worker::Level& ExactEngine::Worker::level(std::size_t i) {
  while (levels_.size() <= i) levels_.push_back(std::make_unique<Level>());
  return *levels_[i];
}

void ExactEngine::Worker::run(const Task& task, LeafSink& sink) {
  sink_ = &sink;
  pattern_ = task.pattern;
  depth_ = 0;
  for (std::size_t l = 0; l < task.pre.size(); ++l) pre_[l] = task.pre[l];
  if (task.layer < static_cast<int>(pre_.size()) && task.neuron > 0) stable_[task.layer] = task.stable;
  next_ = task.next;
  start_ = task.cell;  // the splits move the vertices out of the cells they split
  descend(start_, task.layer, task.neuron, next_, 0);
}

void ExactEngine::Worker::run_subtree(const ActivationPattern& prefix, int first, LeafSink& sink) {
  ++num_subtrees;
  forced_ = &prefix;
  forced_until_ = first;
  struct Reset {
    Worker& w;
    ~Reset() { w.forced_ = nullptr, w.forced_until_ = 0; }
  } reset{*this};
  run(engine_.root_task(), sink);
}

void ExactEngine::Worker::snapshot(const Cell& cell, int layer, int neuron, const IntMap& next) {
  Task task;
  for (std::size_t v = 0; v < cell.num_vertices(); ++v) task.cell.push(cell, v, engine_.dim_, 0);
  task.pattern = pattern_;
  task.layer = layer;
  task.neuron = neuron;
  task.pre.assign(pre_.begin(), pre_.begin() + std::min<std::size_t>(layer + 1, pre_.size()));
  if (layer < static_cast<int>(pre_.size())) {
    if (neuron > 0) {
      task.next = next;
      task.stable = stable_[layer];
    }
  }
  frontier_->push_back(std::move(task));
}

ConstraintCode ExactEngine::Worker::side_code(ConstraintCode id) const {
  if (id < 0) return id;  // a domain constraint
  const int g = code_entry(id);
  if (!is_max_code(id)) return neuron_code(g, pattern_[g] != 0);
  // The hyperplane z_i = z_j (i < j) bounds the piece of the unit's state, one of the two.
  const int state = pattern_[g];
  return max_code(g, state, state == code_state(id) ? code_other(id) : code_state(id));
}

void ExactEngine::Worker::emit(Cell& cell) {
  const int d = engine_.dim_;
  const std::size_t num_vertices = cell.num_vertices();
  const bool want_vertices = sink_->wants_vertices(), want_volume = sink_->wants_volume();
  if (want_vertices || want_volume)  // their coordinates are the vertices' roundings
    for (std::size_t v = 0; v < num_vertices; ++v)
      if (cell.lazy[v]) materialize(cell, v);
  // The interior point: the mean of the vertices' roundings (a point of the region up to rounding,
  // as the floating-point engines give it).
  interior_.assign(d, 0.0);
  for (std::size_t v = 0; v < num_vertices; ++v)
    for (int j = 0; j < d; ++j) interior_[j] += cell.approx[v * d + j];
  for (int j = 0; j < d; ++j) interior_[j] /= static_cast<double>(num_vertices);
  Leaf leaf;
  leaf.pattern = pattern_.data();
  leaf.interior_point = interior_.data();
  leaf.in_input_coordinates = true;
  leaf.depth = std::numeric_limits<double>::infinity();  // exact: no region is fragile
  if (sink_->wants_constraints() || want_vertices || want_volume) {
    // A constraint is a facet iff the face it cuts out is a maximal proper face: its vertex set is
    // contained in no other constraint's (exact, since the tight sets are exact). The cell's distinct
    // constraints in order (as a map of them would be), each one's vertex set as a bit mask and its
    // size; the vertex lists, in vertex order, only for a sink that uses them.
    index_codes(cell);
    const std::size_t words = (num_vertices + 63) / 64, num_codes = codes_.size();
    masks_.assign(num_codes * words, 0);
    counts_.assign(num_codes, 0);
    for (std::size_t v = 0, i = 0; v < num_vertices; ++v)
      for (std::size_t t = 0; t < cell.on[v].size(); ++t, ++i) {
        const std::size_t g = code_index_[i];
        masks_[g * words + v / 64] |= std::uint64_t{1} << (v % 64);
        ++counts_[g];
      }
    const bool want_lists = want_vertices || want_volume;
    for (std::size_t g = 0; g < num_codes; ++g) {
      const int size = counts_[g];
      if (size < d) continue;
      const std::uint64_t* mine = &masks_[g * words];
      bool maximal = true;
      for (std::size_t h = 0; h < num_codes && maximal; ++h) {
        if (counts_[h] <= size) continue;
        const std::uint64_t* theirs = &masks_[h * words];
        bool inside = true;
        for (std::size_t w = 0; w < words && inside; ++w) inside = (mine[w] & ~theirs[w]) == 0;
        maximal = !inside;
      }
      if (!maximal) continue;
      leaf.constraints.push_back(side_code(codes_[g]));
      if (!want_lists) continue;
      std::vector<int> vertices;
      vertices.reserve(size);
      for (std::size_t w = 0; w < words; ++w)
        for (std::uint64_t bits = mine[w]; bits; bits &= bits - 1)
          vertices.push_back(static_cast<int>(w * 64 + __builtin_ctzll(bits)));
      leaf.constraint_vertices.push_back(std::move(vertices));
    }
    if (want_volume)
      leaf.volume = volume_and_centroid(cell.approx.data(), static_cast<int>(num_vertices), d,
                                        leaf.constraint_vertices).volume;
    if (want_vertices) leaf.vertices = cell.approx;
    else leaf.constraint_vertices.clear();  // the volume's
  }
  sink_->leaf(leaf);
}

void ExactEngine::Worker::start_next(int layer, IntMap& next) const {
  // The next layer's pre-activations are (W' Q + b' s_Q) / (den' s_Q), where Q / s_Q are this
  // layer's outputs: pre / scale times slope_den / slope_den on each row (the slope's numerator
  // below the breakpoint), so s_Q = scale slope_den.
  const int d = engine_.dim_, stride = d + 1;
  const IntLayer& I = engine_.int_layers_[layer];
  const IntLayer& J = engine_.int_layers_[layer + 1];
  const IntMap& pre = pre_[layer];
  const std::size_t rows = J.bias.size();
  next.m.resize(rows * stride);
  mpz_class& s_q = next.scale;
  mpz_mul(s_q.get_mpz_t(), pre.scale.get_mpz_t(), I.slope_den.get_mpz_t());
  for (std::size_t i = 0; i < rows; ++i) {
    mpz_class* z = &next.m[i * stride];
    for (int j = 0; j < d; ++j) mpz_set_ui(z[j].get_mpz_t(), 0);
    mpz_mul(z[d].get_mpz_t(), J.bias[i].get_mpz_t(), s_q.get_mpz_t());
  }
  mpz_mul(next.scale.get_mpz_t(), s_q.get_mpz_t(), J.den.get_mpz_t());
}

void ExactEngine::Worker::add_output(int layer, int o, bool below, IntMap& next) {
  const int d = engine_.dim_, stride = d + 1;
  const ExactNetwork::Layer& L = engine_.network_->layers[layer];
  const IntLayer& I = engine_.int_layers_[layer];
  const IntLayer& J = engine_.int_layers_[layer + 1];
  bool ignored = false;
  const int row = below ? L.out_row[o] : L.source_row(o, pattern_.data(), ignored);
  const mpz_class& factor = below ? I.slope[row] : I.slope_den;
  if (sgn(factor) == 0) return;
  const bool unit = factor == 1;
  const mpz_class* z = &pre_[layer].m[static_cast<std::size_t>(row) * stride];
  const std::size_t rows = J.bias.size(), num_in = L.num_outputs();
  for (std::size_t i = 0; i < rows; ++i) {
    const mpz_class& w = J.weight[i * num_in + o];
    if (sgn(w) == 0) continue;
    const long small = J.small_weight[i * num_in + o];
    if (unit && small != kNotSmall) {  // GMP's forms for a long skip the general product's dispatch
      mpz_class* out = &next.m[i * stride];
      if (small > 0)
        for (int j = 0; j <= d; ++j) mpz_addmul_ui(out[j].get_mpz_t(), z[j].get_mpz_t(), static_cast<unsigned long>(small));
      else
        for (int j = 0; j <= d; ++j) mpz_submul_ui(out[j].get_mpz_t(), z[j].get_mpz_t(), static_cast<unsigned long>(-small));
      continue;
    }
    const mpz_class* wf = &w;
    if (!unit) {
      mpz_mul(t0_.get_mpz_t(), w.get_mpz_t(), factor.get_mpz_t());
      wf = &t0_;
    }
    mpz_class* out = &next.m[i * stride];
    for (int j = 0; j <= d; ++j) mpz_addmul(out[j].get_mpz_t(), wf->get_mpz_t(), z[j].get_mpz_t());
  }
}

const mpz_class* ExactEngine::Worker::row(ConstraintCode code) {
  const int stride = engine_.dim_ + 1;
  if (code < 0) return &engine_.domain_rows_[static_cast<std::size_t>(-1 - code) * stride];
  const int g = code_entry(code), l = engine_.layer_of_entry_[g];
  const ExactNetwork::Layer& L = engine_.network_->layers[l];
  const int o = L.entry_out[g - L.offset];
  const IntVector& pre = pre_[l].m;
  if (!is_max_code(code)) return &pre[static_cast<std::size_t>(L.out_row[o]) * stride];
  max_row_.resize(stride);
  const mpz_class* a = &pre[static_cast<std::size_t>(L.out_row[o] + code_state(code)) * stride];
  const mpz_class* b = &pre[static_cast<std::size_t>(L.out_row[o] + code_other(code)) * stride];
  for (int j = 0; j < stride; ++j) mpz_sub(max_row_[j].get_mpz_t(), a[j].get_mpz_t(), b[j].get_mpz_t());
  return max_row_.data();
}

void ExactEngine::Worker::descend(Cell& cell, int layer, int neuron, IntMap& next, int splits) {
  const int d = engine_.dim_, stride = d + 1;
  const int num_layers = static_cast<int>(engine_.network_->layers.size());
  if (at_cut(splits)) return snapshot(cell, layer, neuron, next);
  if (layer == num_layers) return cutting() ? snapshot(cell, layer, neuron, next) : emit(cell);
  const ExactNetwork::Layer& L = engine_.network_->layers[layer];
  const bool last = layer + 1 == num_layers;
  // In a ReLU-family layer before the last, the next layer's pre-activations are summed as the
  // outputs are decided (the vertex engine's incremental maps): the outputs whose side is the same
  // on the whole cell entering the layer once, for every cell below it; each other output in the
  // cell where it is decided, one row of products per split instead of a full product per cell.
  const bool incremental = !L.is_max && !last;
  if (neuron == 0 && incremental) {
    start_next(layer, next);
    std::vector<char>& stable = stable_[layer];
    stable.assign(L.num_entries(), 0);
    for (int e = 0; e < L.num_entries(); ++e) {
      const Side side = classify(cell, &pre_[layer].m[static_cast<std::size_t>(L.entry_out[e]) * stride]);
      if (side != Side::kBoth) stable[e] = side == Side::kAbove ? 2 : 1;
    }
    for (int o = 0; o < L.num_outputs(); ++o) {
      const int e = L.out_entry[o];
      if (e < 0) add_output(layer, o, false, next);  // a linear row
      else if (stable[e]) add_output(layer, o, stable[e] == 1, next);
    }
  }
  if (neuron == L.num_entries()) {  // the next layer's pre-activations on the cell
    if (!last) {
      IntMap& pre = pre_[layer + 1];
      if (incremental) {
        pre.m.swap(next.m);
        pre.scale.swap(next.scale);
      } else {
        start_next(layer, pre);
        for (int o = 0; o < L.num_outputs(); ++o) {
          const int e = L.out_entry[o];
          add_output(layer, o, e >= 0 && !L.is_max && !pattern_[L.offset + e], pre);
        }
      }
    }
    return descend(cell, layer + 1, 0, next, splits);
  }
  const int global = L.offset + neuron;
  if (L.is_max) return descend_max(cell, layer, neuron, next, splits);
  const int o = L.entry_out[neuron];
  const char stable = incremental ? stable_[layer][neuron] : 0;
  Level& children = level(depth_);
  const Side side = stable ? (stable == 2 ? Side::kAbove : Side::kBelow)
                           : split(cell, &pre_[layer].m[static_cast<std::size_t>(o) * stride],
                                   neuron_code(global, false), children.below, children.above);
  struct Deeper {
    std::size_t& depth;
    Deeper(std::size_t& d) : depth(d) { ++depth; }
    ~Deeper() { --depth; }
  };
  if (global < forced_until_) {
    // Replaying a floating-point engine's path: only the prefix's side, which must have volume.
    const int bit = (*forced_)[global];
    if (side == (bit ? Side::kBelow : Side::kAbove)) {
      std::ostringstream msg;
      msg << "the floating-point pass took neuron " << global << (bit ? " active" : " inactive")
          << " where exact arithmetic finds no interior point; its count cannot be trusted";
      throw UncertifiedError(msg.str());
    }
    pattern_[global] = static_cast<std::uint8_t>(bit);
    if (incremental && !stable) add_output(layer, o, !bit, next);
    if (side != Side::kBoth) return descend(cell, layer, neuron + 1, next, splits);
    Deeper deeper(depth_);
    return descend(bit ? children.above : children.below, layer, neuron + 1, next, splits);
  }
  if (side != Side::kBoth) {
    pattern_[global] = side == Side::kAbove ? 1 : 0;
    if (incremental && !stable) add_output(layer, o, side == Side::kBelow, next);
    return descend(cell, layer, neuron + 1, next, splits);
  }
  Deeper deeper(depth_);
  pattern_[global] = 0;
  if (incremental) {
    children.next = next;
    add_output(layer, o, true, children.next);
  }
  descend(children.below, layer, neuron + 1, incremental ? children.next : next, splits + 1);
  pattern_[global] = 1;
  if (incremental) add_output(layer, o, false, next);
  descend(children.above, layer, neuron + 1, next, splits + 1);
}

bool ExactEngine::Worker::max_piece(const Cell& cell, int layer, int entry, int state, Cell& piece) {
  const int d = engine_.dim_, stride = d + 1;
  const ExactNetwork::Layer& L = engine_.network_->layers[layer];
  const int global = L.offset + entry;
  const int first = L.out_row[L.entry_out[entry]], k = L.out_rows[L.entry_out[entry]];
  const IntVector& pre = pre_[layer].m;  // one scale for every row: differences are exact multiples
  piece = cell;
  IntVector f(stride);
  Cell below, above;
  for (int j = 0; j < k; ++j) {
    if (j == state) continue;
    bool identical = true;
    for (int i = 0; i <= d; ++i) {
      f[i] = pre[static_cast<std::size_t>(first + state) * stride + i] - pre[static_cast<std::size_t>(first + j) * stride + i];
      identical = identical && sgn(f[i]) == 0;
    }
    if (identical) {  // equal on the whole cell: the lower index is the state, and they do not split it
      if (j < state) return false;
      continue;
    }
    const Side side = split(piece, f.data(), max_code(global, std::min(state, j), std::max(state, j)), below, above);
    if (side == Side::kBelow) return false;
    if (side == Side::kBoth) std::swap(piece, above);
  }
  return true;
}

void ExactEngine::Worker::descend_max(const Cell& cell, int layer, int entry, IntMap& next, int splits) {
  const ExactNetwork::Layer& L = engine_.network_->layers[layer];
  const int global = L.offset + entry;
  const int k = L.out_rows[L.entry_out[entry]];
  if (global < forced_until_) {
    // Replaying a floating-point engine's path: only the prefix's state, which must have volume.
    const int state = (*forced_)[global];
    Cell piece;
    if (state >= k || !max_piece(cell, layer, entry, state, piece)) {
      std::ostringstream msg;
      msg << "the floating-point pass took state " << state << " of Max unit " << global
          << " where exact arithmetic finds no interior point; its count cannot be trusted";
      throw UncertifiedError(msg.str());
    }
    pattern_[global] = static_cast<std::uint8_t>(state);
    return descend(piece, layer, entry + 1, next, splits + 1);
  }
  std::vector<Cell> pieces(k);
  std::vector<int> states;
  for (int state = 0; state < k; ++state)
    if (max_piece(cell, layer, entry, state, pieces[state])) states.push_back(state);
  for (int state : states) {
    pattern_[global] = static_cast<std::uint8_t>(state);
    descend(pieces[state], layer, entry + 1, next, splits + (states.size() > 1 ? 1 : 0));
  }
}

void ExactEngine::Worker::materialize(Cell& cell, std::size_t v) {
  // The vertex solves the d rows [a, c] of its constraints, a·X + c w = 0: [X, w] is the null vector
  // of that d x (d + 1) matrix, whose entry j is (-1)^j times the minor without column j, as the
  // eager crossings' vectors are (split), up to sign.
  const int d = engine_.dim_, stride = d + 1;
  minors_.resize(static_cast<std::size_t>(d) * stride);
  square_.resize(static_cast<std::size_t>(d) * d);
  for (int i = 0; i < d; ++i) {
    const mpz_class* r = row(cell.on[v][i]);
    for (int j = 0; j <= d; ++j) minors_[i * stride + j] = r[j];
  }
  mpz_class* x = &cell.x[v * stride];
  for (int j = 0; j <= d; ++j) {
    for (int i = 0; i < d; ++i)
      for (int k = 0, c = 0; k <= d; ++k)
        if (k != j) square_[i * d + c++] = minors_[i * stride + k];
    determinant(square_.data(), d, x[j]);
    if (j % 2) x[j] = -x[j];
  }
  if (sgn(x[d]) == 0) throw std::logic_error("exact engine: a vertex's constraints do not determine it: a bug in relutope");
  if (sgn(x[d]) < 0)
    for (int j = 0; j <= d; ++j) mpz_neg(x[j].get_mpz_t(), x[j].get_mpz_t());
  cell.filterable[v] = round_vertex(x, d, &cell.approx[v * d]);
  cell.cofactor[v] = 1;
  cell.lazy[v] = 0;
  cell.error[v] = 0;
}

double ExactEngine::Worker::lazy_crossing(const Cell& cell, std::size_t p, std::size_t n) {
  // The crossing is xp + t (xn - xp), t = vp / (vp - vn) for the values vp > 0 > vn of f at the
  // ends. In doubles: the filter's values a ~ vp and -b ~ vn of the scaled f, within ea and eb of
  // them (> 0 as the filter decided the signs), t = a / (a + b), and y = yp + t (yn - yp) from the
  // ends' approximations, within ep and en of them per coordinate. With u = 2^-53:
  // |a / (a + b) - t*| <= (ea (b + eb) + (a + ea) eb) / ((a + b)(a + b - ea - eb)), the rounded t
  // within 3u of a / (a + b) (two roundings, t <= 1), and per coordinate
  // |y - x*| <= (1 - t) ep + t en + |t - t*| |xn* - xp*| + 3.01u (|yp| + |yn|) (y's three roundings)
  // <= max(ep, en) + (|t - t*|)(|yn - yp| (1 + 2u) + ep + en) + 3.01u (|yp| + |yn|),
  // plus 2^-1020 for products below the normal range (more than the 2^-1074 each, normal: see classify). The bound is itself computed in doubles, a
  // few dozen roundings of positive terms: the factor 1 + 2^-40 covers them; `low`, a lower bound on
  // a + b - ea - eb, keeps 8u (a + b) for its own three roundings (< 2.01u (a + b)). The bound
  // grows by a factor of about |f|_1 |yn - yp| / |f·(yn - yp)| per cut; a crossing whose bound is
  // not small against its ends (2^-10) is computed in integers at once, as later cuts would need them.
  constexpr double u = 0x1.0p-53;
  const int d = engine_.dim_;
  const double a = filter_value_[p], b = -filter_value_[n];
  const double ea = filter_bound_[p], eb = filter_bound_[n];
  const double* yp = &cell.approx[p * d];
  const double* yn = &cell.approx[n * d];
  // The ends' errors: a rounded vertex is within 3 2^-52 |y_j| of each coordinate (Cell::push).
  const auto end_error = [&](std::size_t v, const double* y) {
    if (cell.lazy[v]) return cell.error[v];
    double top = 0;
    for (int j = 0; j < d; ++j) top = std::max(top, std::abs(y[j]));
    return 0x1.8002p-51 * top;
  };
  const double ep = end_error(p, yp), en = end_error(n, yn);
  const double sum = a + b, low = sum * (1 - 8 * u) - ea - eb;
  if (!(low > 0)) return -1;
  const double t = a / sum;
  const double dt = (ea * (b + eb) + (a + ea) * eb) / (sum * (1 - 8 * u) * low) + 3 * u;
  double step = 0, size = 0;
  lazy_point_.resize(d);
  for (int j = 0; j < d; ++j) {
    const double delta = yn[j] - yp[j];
    lazy_point_[j] = yp[j] + t * delta;
    step = std::max(step, std::abs(delta));
    size = std::max(size, std::abs(yp[j]) + std::abs(yn[j]));
    if (!(std::abs(lazy_point_[j]) <= 0x1.0p900)) return -1;
  }
  const double bound =
      (std::max(ep, en) + dt * (step * (1 + 2 * u) + ep + en) + 3.01 * u * size + 0x1.0p-1020) * (1 + 0x1.0p-40);
  return bound <= 0x1.0p-10 * (size + step) ? bound : -1;  // NaN fails too
}

const mpz_class& ExactEngine::Worker::exact_value(Cell& cell, const mpz_class* f, std::size_t v) {
  mpz_class& value = value_[v];
  if (has_value_[v]) return value;
  if (cell.lazy[v]) materialize(cell, v);
  const int d = engine_.dim_;
  const mpz_class* x = cell.vertex(v, d);
  mpz_mul(value.get_mpz_t(), f[d].get_mpz_t(), x[d].get_mpz_t());
  for (int j = 0; j < d; ++j) mpz_addmul(value.get_mpz_t(), f[j].get_mpz_t(), x[j].get_mpz_t());
  has_value_[v] = 1;
  return value;
}

ExactEngine::Worker::Side ExactEngine::Worker::classify(Cell& cell, const mpz_class* f) {
  const int d = engine_.dim_, stride = d + 1;
  const std::size_t num_vertices = cell.num_vertices();
  // Signs first in doubles with a rounding-error bound (a filter, as in CGAL's Epeck): only the
  // vertices whose sign it cannot prove, and the edges a split cuts, need integer arithmetic.
  // f in doubles, scaled by a power of two to largest |f_j| in [1/2, 1) (the signs do not change):
  // each f_j truncated (relative error < 2^-52), those below 2^-900 set to 0 (absolute error
  // < 2^-900, accounted for below).
  long top = std::numeric_limits<long>::min();
  fd_.resize(stride);
  exponent_.resize(stride);
  double* fd = fd_.data();
  long* exponent = exponent_.data();
  for (int j = 0; j <= d; ++j) {
    fd[j] = mpz_get_d_2exp(&exponent[j], f[j].get_mpz_t());
    if (fd[j] != 0) top = std::max(top, exponent[j]);
  }
  bool flushed = false;
  for (int j = 0; j <= d; ++j) {
    if (fd[j] == 0) continue;
    const long shift = exponent[j] - top;
    if (shift < -900) {
      fd[j] = 0;
      flushed = true;
    } else {
      fd[j] = std::ldexp(fd[j], static_cast<int>(shift));
    }
  }
  sign_.assign(num_vertices, 0);
  has_value_.assign(num_vertices, 0);
  filtered_.assign(num_vertices, 0);
  if (value_.size() < num_vertices) value_.resize(num_vertices);
  if (filter_value_.size() < num_vertices) filter_value_.resize(num_vertices), filter_bound_.resize(num_vertices);
  const bool no_filter = top == std::numeric_limits<long>::min();  // f = 0
  if (no_filter) return Side::kBelow;  // 0 at every vertex
  // A lazy vertex is within error[v] of its approximation in every coordinate: |f*|_1 error[v] more
  // on the value, with |f*|_1 < (|fd|_1 + d 2^-899)(1 + 2^-52) for the scaled exact f (truncated
  // and flushed coefficients; the factor 1 + 2^-40 also covers this sum's roundings).
  double f_norm = d * 0x1.0p-899;
  for (int j = 0; j < d; ++j) f_norm += std::abs(fd[j]);
  f_norm *= 1 + 0x1.0p-40;
  bool pos = false, neg = false;
  for (std::size_t v = 0; v < num_vertices; ++v) {
    if (!cell.filterable[v]) {
      sign_[v] = sgn(exact_value(cell, f, v));
    } else {
      const double* y = &cell.approx[v * d];
      double approx = fd[d], magnitude = std::abs(fd[d]), size = 1;
      for (int j = 0; j < d; ++j) {
        const double term = fd[j] * y[j];
        approx += term;
        magnitude += std::abs(term);
        size += std::abs(y[j]);
      }
      // The sum of d + 1 products of roundings (relative error < 2^-52 for f_j, < 3 2^-52 for y_j)
      // in d + 1 rounded operations: < (4.01 + (d + 1) / 2) 2^-52 magnitude < 4 (d + 3) 2^-52
      // magnitude, plus the flushed f_j (< 2^-900 |y_j|) and the products that fall below the
      // normal range (< 2^-1074 each, < 2^-1020 together: a normal number, as arithmetic that makes
      // a subnormal takes a microcode assist of ~150 cycles, which cost most of this loop). NaNs
      // fail the test and go exact.
      double bound = 4 * (d + 3) * 0x1.0p-52 * magnitude + 0x1.0p-1020;
      if (flushed) bound += 0x1.0p-899 * size;
      if (cell.lazy[v]) bound = (bound + f_norm * cell.error[v]) * (1 + 0x1.0p-50);
      if (std::abs(approx) > bound) {
        sign_[v] = approx > 0 ? 1 : -1;
        filtered_[v] = 1;
        filter_value_[v] = approx;
        filter_bound_[v] = bound;
      } else {
        sign_[v] = sgn(exact_value(cell, f, v));
      }
    }
    pos |= sign_[v] > 0;
    neg |= sign_[v] < 0;
  }
  return pos && neg ? Side::kBoth : pos ? Side::kAbove : Side::kBelow;
}

void ExactEngine::Worker::index_codes(const Cell& cell) {
  // A cell has a few dozen distinct constraints among its n d incidences: an open-addressing table
  // (at most half full; a slot counts only with the current stamp, so it is never cleared) numbers
  // them as they come, then the numbers are put in code order.
  std::size_t incidences = 0;
  for (std::size_t v = 0; v < cell.num_vertices(); ++v) incidences += cell.on[v].size();
  std::size_t size = 64;
  int bits = 6;
  while (size < 2 * incidences) size *= 2, ++bits;
  if (slots_.size() < size) slots_.assign(size, Slot{}), stamp_ = 0;
  while (size < slots_.size()) size *= 2, ++bits;
  if (++stamp_ == 0) {
    for (Slot& slot : slots_) slot.stamp = 0;
    stamp_ = 1;
  }
  const std::size_t mask = size - 1;
  unsorted_.clear();
  code_index_.clear();
  for (std::size_t v = 0; v < cell.num_vertices(); ++v)
    for (ConstraintCode c : cell.on[v]) {
      std::size_t h = (static_cast<std::uint64_t>(c) * 0x9E3779B97F4A7C15ull) >> (64 - bits);
      while (slots_[h].stamp == stamp_ && slots_[h].code != c) h = (h + 1) & mask;
      Slot& slot = slots_[h];
      if (slot.stamp != stamp_) {
        slot.stamp = stamp_;
        slot.code = c;
        slot.index = static_cast<std::uint32_t>(unsorted_.size());
        unsorted_.push_back(c);
      }
      code_index_.push_back(slot.index);
    }
  const std::size_t num_codes = unsorted_.size();
  order_.resize(num_codes);
  for (std::size_t k = 0; k < num_codes; ++k) order_[k] = static_cast<std::uint32_t>(k);
  std::sort(order_.begin(), order_.end(), [&](std::uint32_t a, std::uint32_t b) { return unsorted_[a] < unsorted_[b]; });
  codes_.resize(num_codes);
  rank_.resize(num_codes);
  for (std::size_t k = 0; k < num_codes; ++k) {
    codes_[k] = unsorted_[order_[k]];
    rank_[order_[k]] = static_cast<std::uint32_t>(k);
  }
  for (std::uint32_t& i : code_index_) i = rank_[i];
}

ExactEngine::Worker::Side ExactEngine::Worker::split(Cell& cell, const mpz_class* f, ConstraintCode id,
                                                     Cell& below, Cell& above) {
  const int d = engine_.dim_, stride = d + 1;
  const Side side = classify(cell, f);
  if (side != Side::kBoth) return side;
  const std::size_t num_vertices = cell.num_vertices();
  below.clear();
  above.clear();
  cuts_.clear();  // the new vertices, found first: the crossings read the cell's, which are then moved
  point_.resize(stride);
  point2_.resize(stride);
  mpz_class* x = point_.data();
  // The crossing of edge (p, n), p above and n below: with values Vp = f·[Xp, wp] > 0 and Vn < 0,
  // u = Vp [Xn, wn] - Vn [Xp, wp] (the point (vp xn - vn xp) / (vp - vn) for the values vp = Vp / wp,
  // vn = Vn / wn of f/scale), tight on `common` and `id`. u is then divided by a common factor of its
  // entries, or they grow twofold per cut. When p and n are the cofactor vectors C(A, h_p) and
  // C(A, h_n) of their d constraints, A the d - 1 they share, the Grassmann-Plücker relations give
  // u = ±(h_p·C(A, h_n)) C(A, f): u divided by h_p·[Xn, wn] is the cofactor vector of the new vertex,
  // an exact division (the division is checked, q·D = u, so a wrong guess only costs the gcd below,
  // which reduces u to lowest terms otherwise). A gcd cost half of a 5-input count.
  const auto cross = [&](std::size_t p, std::size_t n) {
    if (engine_.lazy_ && filtered_[p] && filtered_[n] && static_cast<int>(common_.size()) == d - 1) {
      const double bound = lazy_crossing(cell, p, n);
      if (bound >= 0) {
        common_.insert(std::upper_bound(common_.begin(), common_.end(), id), id);
        cuts_.push_lazy(lazy_point_.data(), d, bound, common_);
        return;
      }
    }
    exact_value(cell, f, p);
    exact_value(cell, f, n);
    const mpz_class* xp = cell.vertex(p, d);
    const mpz_class* xn = cell.vertex(n, d);
    for (int j = 0; j <= d; ++j) {
      mpz_mul(x[j].get_mpz_t(), value_[p].get_mpz_t(), xn[j].get_mpz_t());
      mpz_submul(x[j].get_mpz_t(), value_[n].get_mpz_t(), xp[j].get_mpz_t());
    }
    bool is_cofactor = false;
    if (cell.cofactor[p] && cell.cofactor[n] && static_cast<int>(cell.on[p].size()) == d &&
        static_cast<int>(cell.on[n].size()) == d && static_cast<int>(common_.size()) == d - 1) {
      ConstraintCode hp = 0;
      for (ConstraintCode c : cell.on[p])
        if (!std::binary_search(common_.begin(), common_.end(), c)) hp = c;
      const mpz_class* h = row(hp);
      mpz_class& D = divisor_;
      mpz_mul(D.get_mpz_t(), h[d].get_mpz_t(), xn[d].get_mpz_t());
      for (int j = 0; j < d; ++j) mpz_addmul(D.get_mpz_t(), h[j].get_mpz_t(), xn[j].get_mpz_t());
      if (sgn(D) != 0) {
        is_cofactor = true;
        mpz_class& remainder = t0_;
        for (int j = 0; j <= d && is_cofactor; ++j) {
          mpz_tdiv_qr(point2_[j].get_mpz_t(), remainder.get_mpz_t(), x[j].get_mpz_t(), D.get_mpz_t());
          is_cofactor = sgn(remainder) == 0;
        }
        if (is_cofactor) {
          const bool negate = sgn(point2_[d]) < 0;
          for (int j = 0; j <= d; ++j) {
            if (negate) mpz_neg(x[j].get_mpz_t(), point2_[j].get_mpz_t());
            else mpz_swap(x[j].get_mpz_t(), point2_[j].get_mpz_t());
          }
        }
      }
    }
    if (!is_cofactor) {
      mpz_class& g = t0_;
      g = x[d];
      for (int j = 0; j < d && g != 1; ++j) mpz_gcd(g.get_mpz_t(), g.get_mpz_t(), x[j].get_mpz_t());
      if (g != 1)
        for (int j = 0; j <= d; ++j) mpz_divexact(x[j].get_mpz_t(), x[j].get_mpz_t(), g.get_mpz_t());
    }
    common_.insert(std::upper_bound(common_.begin(), common_.end(), id), id);
    cuts_.push(x, d, common_, is_cofactor);
  };
  // Two vertices span an edge iff they share d - 1 constraints that no third vertex lies on all of.
  // The tight sets as bit masks over the constraints of the cell when there are at most 64 (the
  // float vertex engine's test), else as sorted lists.
  index_codes(cell);
  if (codes_.size() <= 64) {
    masks_.assign(num_vertices, 0);
    for (std::size_t v = 0, i = 0; v < num_vertices; ++v)
      for (std::size_t t = 0; t < cell.on[v].size(); ++t, ++i) masks_[v] |= std::uint64_t{1} << code_index_[i];
    for (std::size_t p = 0; p < num_vertices; ++p) {
      if (sign_[p] <= 0) continue;
      for (std::size_t n = 0; n < num_vertices; ++n) {
        if (sign_[n] >= 0) continue;
        const std::uint64_t shared = masks_[p] & masks_[n];
        if (__builtin_popcountll(shared) < d - 1) continue;
        bool third = false;
        for (std::size_t w = 0; w < num_vertices && !third; ++w)
          third = w != p && w != n && (masks_[w] & shared) == shared;
        if (third) continue;
        common_.clear();
        for (std::uint64_t bits = shared; bits; bits &= bits - 1) common_.push_back(codes_[__builtin_ctzll(bits)]);
        cross(p, n);
      }
    }
  } else {
    for (std::size_t p = 0; p < num_vertices; ++p) {
      if (sign_[p] <= 0) continue;
      for (std::size_t n = 0; n < num_vertices; ++n) {
        if (sign_[n] >= 0) continue;
        common_.clear();
        std::set_intersection(cell.on[p].begin(), cell.on[p].end(), cell.on[n].begin(), cell.on[n].end(),
                              std::back_inserter(common_));
        if (static_cast<int>(common_.size()) < d - 1) continue;
        bool third = false;
        for (std::size_t w = 0; w < num_vertices && !third; ++w)
          third = w != p && w != n && std::includes(cell.on[w].begin(), cell.on[w].end(), common_.begin(), common_.end());
        if (third) continue;
        cross(p, n);
      }
    }
  }
  // The children: the cell's vertices on their sides (those on f in both, tight on it too), then the
  // new ones, in order; each moved where it goes last.
  for (std::size_t v = 0; v < num_vertices; ++v) {
    if (sign_[v] > 0) {
      above.take(cell, v, d, 0);
    } else if (sign_[v] < 0) {
      below.take(cell, v, d, 0);
    } else {
      above.push(cell, v, d, id);
      below.take(cell, v, d, id);
    }
  }
  for (std::size_t v = 0; v < cuts_.num_vertices(); ++v) {
    above.push(cuts_, v, d, 0);
    below.take(cuts_, v, d, 0);
  }
  return Side::kBoth;
}

}  // namespace relutope::detail
