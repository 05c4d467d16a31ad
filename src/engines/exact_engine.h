#pragma once
// The vertex engine's algorithm in exact rational arithmetic (GMP), with no tolerance: a vertex is
// on a hyperplane iff it satisfies its equation exactly; a cell splits iff it has vertices strictly
// on both sides, so every region found has positive volume; a constraint is a facet iff the vertices
// on it form a maximal proper face (contained in no other constraint's). Two vertices span an edge iff no third vertex lies on
// every constraint they share. It backs `count --exact`, and the floating-point engines hand it the
// subtrees they cannot decide (run_subtree). The arithmetic is GMP integers, not rationals: the
// layers over common denominators, the maps and vertices homogeneous (a positive multiple of the
// numbers), so no result is canonicalised; a sign is decided in doubles when a rigorous rounding-error
// bound proves it, else from the integers.
#include <gmpxx.h>

#include <Eigen/Core>

#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>

#include <vector>

#include "detail/exact_network.h"
#include "detail/leaf_sink.h"
#include "detail/search_worker.h"
#include "relutope/domain.h"
#include "relutope/network.h"
#include "relutope/region.h"

namespace relutope::detail {

// The floating-point engines hand undecided subtrees to the exact engine up to this many inputs;
// beyond, a box has too many corners for rational arithmetic, and such a run stops uncertified.
constexpr int kMaxExactDim = 12;

/// While one of these lives on a thread, exact engines built on that thread keep a new vertex as its
/// approximation in doubles with a rigorous error bound, and compute its integers only when a cut
/// needs them (the filter cannot decide a sign there, or a crossing cannot be bounded): on the bench
/// nets no vertex ever does. Counts, patterns and facets are the same; a leaf's interior point is then
/// the mean of the approximations, not of the vertices' roundings, so only a caller that reads the
/// leaves' patterns and facets alone may open one (certify_count's exact pass).
class ExactVerticesOnDemand {
 public:
  ExactVerticesOnDemand();
  ~ExactVerticesOnDemand();
  ExactVerticesOnDemand(const ExactVerticesOnDemand&) = delete;
  ExactVerticesOnDemand& operator=(const ExactVerticesOnDemand&) = delete;
  /// Whether one lives on the calling thread.
  static bool active();

 private:
  bool previous_;
};

class ExactEngine {
 public:
  using Rational = ExactNetwork::Rational;
  using Vector = ExactNetwork::Vector;
  using Matrix = ExactNetwork::Matrix;

  /// The domain's extra half-spaces clip the box exactly. @throws InputError if they leave no interior
  ExactEngine(const Network& net, const Domain& domain);
  /// The same on a network already in rationals, shared (ExactFallback builds it once for both uses).
  ExactEngine(std::shared_ptr<const ExactNetwork> network, const Domain& domain);

  const ExactNetwork& network() const { return *network_; }

  using Integer = mpz_class;
  using IntVector = std::vector<mpz_class>;

  // Vertices in homogeneous integer coordinates: a vertex is [X_0 .. X_{d-1}, w] with w > 0 and no
  // common factor, the point x = X / w. Sign tests are integer dot products, a new vertex on an edge
  // is an integer combination of its ends: no rational canonicalisation but one gcd per new vertex.
  // A cell keeps the storage of the vertices it held before (the workers reuse cells): entries past
  // num_vertices() are spare.
  struct Cell {
    std::size_t num_vertices() const { return n; }
    const mpz_class* vertex(std::size_t v, int d) const { return &x[v * (d + 1)]; }
    void clear() { n = 0, approx.clear(), filterable.clear(), cofactor.clear(), lazy.clear(), error.clear(); }
    // Appends [X, w] (d + 1 integers, w > 0) with its rounding.
    void push(const mpz_class* xw, int d, const std::vector<ConstraintCode>& tight, bool is_cofactor);
    // Appends a vertex without its integers: y (d doubles) within `bound` of it in every coordinate,
    // tight on exactly d constraints (`tight`, sorted), whose rows' cofactor vector it is.
    void push_lazy(const double* y, int d, double bound, const std::vector<ConstraintCode>& tight);
    // Appends vertex v of `from`, tight also on `id` when id != 0.
    void push(const Cell& from, std::size_t v, int d, ConstraintCode id);
    // The same, moving vertex v's integers and tight set out of `from` (left unspecified there).
    void take(Cell& from, std::size_t v, int d, ConstraintCode id);

    std::size_t n = 0;
    IntVector x;                 // num_vertices x (d + 1)
    std::vector<double> approx;  // num_vertices x d: X_j / w in doubles (relative error < 3 2^-52), for the sign filter
    std::vector<char> filterable;  // per vertex: every approx coordinate 0 (exactly) or in [2^-900, 2^900]
    // Per vertex: [X, w] is, up to sign, the cofactor vector of the rows (Worker::row) of its d tight
    // constraints (the minors of that d x (d + 1) matrix), not reduced. See Worker::split.
    std::vector<char> cofactor;
    // Per vertex: 1 if its integers are not computed (see ExactVerticesOnDemand); then approx is
    // within error[v] of it in every coordinate (for the others error[v] is 0 and approx their
    // rounding), and the vertex is tight on exactly d constraints, which determine it.
    std::vector<char> lazy;
    std::vector<double> error;
    // Sorted ids of the constraints tight at each vertex: the domain's as domain_code (the box's
    // faces first, then its extra half-spaces), a neuron's hyperplane as neuron_code(g, false), a
    // Max unit's hyperplane z_i = z_j (i < j) as max_code(g, i, j).
    std::vector<std::vector<ConstraintCode>> on;

   private:
    template <bool kMove, class From>
    void append(From& from, std::size_t v, int d, ConstraintCode id);
  };

  // Affine maps of x as integer rows [w_0 .. w_{d-1}, c], num_rows x (d + 1), equal to the maps
  // times `scale` (> 0, the same for every row): signs, and ratios of values, are the maps'.
  struct IntMap {
    IntVector m;
    Integer scale = 1;
  };

  struct Task {
    Cell cell;
    ActivationPattern pattern;
    int layer = 0;
    int neuron = 0;
    std::vector<IntMap> pre;  // the pre-activations on the cell of layers 0 .. layer
    // When neuron > 0 in a ReLU-family layer before the last: the next layer's pre-activations
    // summed over the outputs decided so far (Worker::descend), and which entries were stable on
    // the cell that entered the layer.
    IntMap next;
    std::vector<char> stable;
  };
  Task root_task() const;

  /// The domain's vertices rounded to doubles, in coordinates u with x = centre + scale ⊙ u, and
  /// for each the domain constraints tight there (as ConstraintCode): the exactly clipped start of
  /// the floating-point vertex engine.
  struct RoundedDomain {
    std::vector<Eigen::VectorXd> vertices;
    std::vector<std::vector<ConstraintCode>> tight;
  };
  RoundedDomain rounded_domain(const Eigen::VectorXd& centre, const Eigen::VectorXd& scale) const;

  class Worker : public SearchWorker<Task> {
   public:
    explicit Worker(const ExactEngine& engine);
    void run(const Task& task, LeafSink& sink) override;

    /// Enumerates exactly the regions whose pattern begins with prefix[0, first): the subtree a
    /// floating-point engine reached with that prefix and could not decide at neuron `first`.
    /// The neurons before `first` are replayed from the root; each must leave positive volume on
    /// the prefix's side. Leaves are in input coordinates (Leaf::in_input_coordinates).
    /// @throws UncertifiedError if the prefix's region has no interior: the floating-point pass
    ///         went where no region is, so its count cannot be trusted
    void run_subtree(const ActivationPattern& prefix, int first, LeafSink& sink);

    /// Subtrees run exactly so far.
    std::uint64_t num_subtrees = 0;

   private:
    friend class ExactEngine;
    enum class Side { kBelow, kAbove, kBoth };
    // The side of f(x) = f[0..d-1]·x + f[d] (d + 1 integers, any positive multiple of the function)
    // the cell is on: kBelow if f <= 0 at every vertex, kAbove if f >= 0 (and not 0 everywhere),
    // else kBoth. Leaves each vertex's sign in sign_ (and its exact value in value_ where computed).
    // Where the filter decided a sign, the value in doubles of f scaled (fd_) and its error bound are
    // left in filter_value_ and filter_bound_ (filtered_ 1), for lazy crossings.
    Side classify(Cell& cell, const mpz_class* f);
    // f·[X, w] at vertex v of `cell`, computed once per classify (value_, has_value_); computes the
    // vertex's integers first if it has none.
    const mpz_class& exact_value(Cell& cell, const mpz_class* f, std::size_t v);
    // Computes lazy vertex v's integers: the cofactor vector of its d constraints' rows, w > 0.
    void materialize(Cell& cell, std::size_t v);
    // The crossing of edge (p, n) (signs decided by the filter in the last classify) in doubles:
    // writes it to lazy_point_ and returns a bound on its error per coordinate, or a negative
    // number when none can be given (the crossing is then computed in integers).
    double lazy_crossing(const Cell& cell, std::size_t p, std::size_t n);
    // Splits `cell` by f: below keeps f <= 0, above f >= 0; vertices with f = 0 go to both and
    // become tight on constraint `id`. below and above are filled only when the side is kBoth, and
    // then the cell's vertices are moved into them: the cell is left unspecified.
    Side split(Cell& cell, const mpz_class* f, ConstraintCode id, Cell& below, Cell& above);
    // The constraint code of the cell's side of hyperplane `id` (Cell::on) in the current pattern.
    ConstraintCode side_code(ConstraintCode id) const;
    // `next` holds the next layer's pre-activations summed so far (see Task::next) in a ReLU-family
    // layer before the last, else it is spare storage; descend may change it either way.
    void descend(Cell& cell, int layer, int neuron, IntMap& next, int splits);
    // Max entry `entry` of `layer`: one subtree per state whose piece {z_s >= z_j for all j} has
    // positive volume. Rows equal on the whole cell do not split it; the lowest is the state.
    void descend_max(const Cell& cell, int layer, int entry, IntMap& next, int splits);
    // The piece of state `state` in `piece`; false when it has no interior.
    bool max_piece(const Cell& cell, int layer, int entry, int state, Cell& piece);
    void emit(Cell& cell);
    // codes_ = the distinct constraints tight at the cell's vertices, sorted; code_index_ = for each
    // (vertex, tight constraint) in the order of Cell::on, the constraint's index in codes_.
    void index_codes(const Cell& cell);
    void snapshot(const Cell& cell, int layer, int neuron, const IntMap& next);
    // next = the bias of layer + 1 (the start of its pre-activations from pre_[layer]); adds output
    // o of `layer`, active or not, to it.
    void start_next(int layer, IntMap& next) const;
    void add_output(int layer, int o, bool below, IntMap& next);
    // The integer row [a, c] of constraint `code` on the current cell (a·x + c = 0 on its
    // hyperplane): the domain's, or a neuron's or Max unit's from pre_ (valid along the current
    // path). Max units' rows are written to max_row_.
    const mpz_class* row(ConstraintCode code);

    // Cells and sums for the children of a split, one set per level of the recursion (reused).
    struct Level {
      Cell below, above;
      IntMap next;
    };
    Level& level(std::size_t i);

    const ExactEngine& engine_;
    ActivationPattern pattern_;
    std::vector<IntMap> pre_;
    std::vector<std::vector<char>> stable_;  // per layer, per entry: 0 unstable, 1 inactive, 2 active
    std::vector<std::unique_ptr<Level>> levels_;
    std::size_t depth_ = 0;
    IntMap next_;
    // classify's scratch: per vertex its sign, its value f·[X, w] and whether that is computed
    std::vector<int> sign_;
    IntVector value_;
    std::vector<char> has_value_;
    Cell start_, cuts_;  // run's copy of the task's cell; split's new vertices
    std::vector<ConstraintCode> common_, codes_;
    std::vector<std::uint64_t> masks_;
    std::vector<int> counts_;
    struct Slot {  // index_codes' table
      ConstraintCode code = 0;
      std::uint32_t stamp = 0, index = 0;
    };
    std::vector<Slot> slots_;
    std::uint32_t stamp_ = 0;
    std::vector<ConstraintCode> unsorted_;
    std::vector<std::uint32_t> code_index_, order_, rank_;
    std::vector<double> fd_, filter_value_, filter_bound_, lazy_point_;
    std::vector<char> filtered_;
    IntVector minors_, square_;  // materialize's scratch
    std::vector<long> exponent_;
    Integer t0_;
    IntVector point_, point2_, max_row_;
    Integer divisor_;
    LeafSink* sink_ = nullptr;
    std::vector<double> interior_;
    const ActivationPattern* forced_ = nullptr;  // run_subtree's prefix, followed up to forced_until_
    int forced_until_ = 0;
  };

 private:
  std::shared_ptr<const ExactNetwork> network_;
  int dim_;
  bool lazy_ = false;  // built under ExactVerticesOnDemand
  int num_domain_constraints_ = 0;
  Cell root_;
  // The split layers over common denominators: W = weight / den, b = bias / den, and a row's
  // output below its breakpoint is slope_i / slope_den times its pre-activation (above: 1).
  struct IntLayer {
    IntVector weight;  // num_rows x num_in
    std::vector<long> small_weight;  // each weight where it fits in a long, else kNotSmall
    IntVector bias;
    Integer den;
    IntVector slope;
    Integer slope_den;
  };
  static constexpr long kNotSmall = std::numeric_limits<long>::min();
  std::vector<IntLayer> int_layers_;
  std::vector<int> layer_of_entry_;  // per pattern entry, its split layer
  // Per domain constraint (domain_code), its row [a, c]: the box's x_i - lo_i and x_i - hi_i over
  // their denominators, the extra half-spaces a·x - b likewise.
  IntVector domain_rows_;
};

// Exact arithmetic for what the floating-point engines cannot decide, on the network and domain as
// given, built on first use: most runs never need it, and folding a wide network in rationals
// costs more than counting it. Thread-safe.
class ExactFallback {
 public:
  ExactFallback(const Network& net, const Domain& domain)
      : net_(net), domain_(domain), engine_available_(domain.dim() <= kMaxExactDim) {}
  const Domain& domain() const { return domain_; }
  // The network in rationals (any dimension).
  const ExactNetwork& network() const {
    std::call_once(network_once_, [this] { network_ = std::make_shared<const ExactNetwork>(net_); });
    return *network_;
  }
  // The exact engine, for domains of at most kMaxExactDim inputs.
  bool engine_available() const { return engine_available_; }
  // @throws InputError as ExactEngine's constructor does
  const ExactEngine& engine() const {
    std::call_once(engine_once_, [this] {
      network();  // the engine shares the network in rationals: folding it is the costly part
      engine_ = std::make_unique<ExactEngine>(network_, domain_);
    });
    return *engine_;
  }

 private:
  const Network& net_;
  const Domain& domain_;
  bool engine_available_;
  mutable std::once_flag network_once_, engine_once_;
  mutable std::shared_ptr<const ExactNetwork> network_;
  mutable std::unique_ptr<ExactEngine> engine_;
};

}  // namespace relutope::detail
