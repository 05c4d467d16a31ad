#pragma once
// Low-dimensional engine: every region is a cell with its vertices and, per vertex, the set of
// constraints tight there (a bit mask over the cell's constraint slots). A neuron's hyperplane
// splits a cell by signs at the vertices; new vertices sit on the edges whose ends change sign,
// and edges are recognised combinatorially from the masks (two vertices are adjacent iff the
// constraints tight at both define a face holding no third vertex). This is the cell-local form
// of edge subdivision (Berzins 2023), done depth-first so memory stays bounded.
#include <Eigen/Core>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <vector>

#include "detail/flat_network.h"
#include "detail/leaf_sink.h"
#include "detail/search_worker.h"
#include "engines/exact_engine.h"
#include "relutope/domain.h"

namespace relutope::detail {

constexpr ConstraintCode kFreeSlot = std::numeric_limits<ConstraintCode>::min();

struct Cell {
  int dim = 0;
  int num_vertices = 0;
  int words = 1;       // 64-bit words per vertex mask
  bool simple = true;  // every vertex lies on exactly dim constraints
  double depth = std::numeric_limits<double>::infinity();
  std::vector<double> x;              // num_vertices x dim, row-major
  std::vector<std::uint64_t> mask;    // num_vertices x words
  std::vector<ConstraintCode> slots;  // words * 64 constraint codes (kFreeSlot if unused)

  const double* vertex(int v) const { return x.data() + static_cast<std::size_t>(v) * dim; }
  const std::uint64_t* vertex_mask(int v) const { return mask.data() + static_cast<std::size_t>(v) * words; }
};

// The split's test of vertex pairs runs eight pairs at a time on AVX-512 where the CPU has AVX-512F
// and VL, in scalar code otherwise; both find the same edges in the same order, so the same regions
// and the same exports. vertex_simd() says which an engine built now uses: the CPU's, unless the
// process started with RELUTOPE_VERTEX_SIMD=0 or set_vertex_simd(false) was called (the scalar
// code on any CPU: tests compare the two, benchmarks time them). set_vertex_simd(true) cannot turn
// it on where the CPU lacks it. Engines built before a call keep their choice.
bool vertex_simd();
void set_vertex_simd(bool enabled);

// A split is decided in floating point only when every vertex lies farther than the tolerance from
// the hyperplane; otherwise the subtree below it goes to `exact` (input coordinates, the same
// network and domain), or, without one, the run stops with UncertifiedError.
class VertexEngine {
 public:
  /// `domain` is in the engine's coordinates u, with x = centre + scale ⊙ u in the input's.
  VertexEngine(const FlatNetwork& flat, const Domain& domain, double tolerance_abs, const ExactFallback& exact,
               const Eigen::VectorXd& centre, const Eigen::VectorXd& scale);

  // A resumable point of the depth-first search: the cell, its pattern so far, and where in the
  // network the search stands. Tasks are disjoint subtrees: together they cover each region once.
  struct Task {
    Cell cell;
    ActivationPattern pattern;
    int layer = -1;  // -1: the root, no layer entered yet
    int pos = 0;     // next entry of `unstable` to split by
    std::vector<int> unstable;
    Eigen::MatrixXd weight;  // pre-activation map of `layer` on the cell
    Eigen::VectorXd bias;
    Eigen::VectorXd error;   // Worker::error_, carry_, widest_ and largest_ of `layer`
    Eigen::VectorXd carry;
    double widest = 0, largest = 0;
    Eigen::VectorXd prev_carry;  // carry_ and largest_ of `layer` - 1 (tight_error)
    double prev_largest = 0;
    Eigen::MatrixXd next;    // the next layer's pre-activation map accumulated so far (see Worker::base_)
    int exact_from = -1;     // >= 0: the whole task is the exact subtree from this neuron on
  };

  Task root_task() const;

  class Worker : public SearchWorker<Task> {
   public:
    explicit Worker(const VertexEngine& engine);
    void run(const Task& task, LeafSink& sink) override;

   private:
    friend class VertexEngine;
    enum class Side { kBelow, kAbove, kBoth, kUndecided };
    // False when some neuron of the layer comes within the tolerance of the cell.
    bool enter_layer(int layer, const Cell& cell, const Eigen::MatrixXd* next);
    // enter_layer() for a ReLU-family layer: its stable entries into the pattern, the others into
    // unstable_[layer]; false as enter_layer().
    bool relu_states(int layer, const Cell& cell);
    // base_[layer]: the next layer's map summed over this layer's decided outputs.
    void start_map(int layer, Eigen::MatrixXd& start);
    // The regions below the current node, from neuron `first` on, decided exactly.
    void exact_subtree(int first);
    // Within the tolerance because neuron `global`'s hyperplane is exactly (in rationals) that of a
    // neuron constraint of the cell, as with duplicated neurons or relu(relu(z)) (a common case of
    // exact degeneracy)? Then the cell lies on one side of it: its state goes to `active`.
    bool on_a_facet_exactly(const Cell& cell, int global, bool& active);
    // relu_states() for row `row` of `layer` when its rounding error (error_) may not be small
    // against its tolerance band: kTrusted if it is after all (with tight_error(), and the row's
    // Euclidean norm), else its state: 0 or 1 where its rounded values (`top`, `bottom`: the
    // largest and smallest at the vertices) keep one sign by more than the error and the band, or
    // otherwise from untrusted_row_state (-1: exact arithmetic decides the layer).
    static constexpr int kTrusted = 2;
    __attribute__((noinline)) int state_of_untrusted(const Cell& cell, int layer, int row, double top, double bottom);
    // The state of the ReLU-family neuron of row `row` of `layer`, whose row on the cell rounds to
    // zero or to no more than its rounding error (its products underflow, or cancel in the rounded
    // sums): from its exact row (ExactNetwork::row_on_region), never from its rounding. -1 when that
    // row cuts the cell, or comes within the tolerance of a vertex: exact arithmetic decides the layer.
    __attribute__((noinline)) int untrusted_row_state(const Cell& cell, int layer, int row);
    // A bound on the error of row `row` of `layer` from the sum of the terms the row sums on the cell
    // (row_carry of each output of the layer before that passes a row on, times |weight x factor|)
    // instead of |W_row|_1 times the widest of them (error_); the smaller of the two.
    __attribute__((noinline)) double tight_error(int layer, int row) const;
    // Whether the rounded difference of rows a and b of `layer` (Euclidean norm `norm`) is trusted:
    // its rounding error (the rows' errors, tightened if need be) within half its tolerance band.
    bool difference_trusted(int layer, int a, int b, double norm) const;
    // carry_, widest_ and largest_ of `layer` from error_[layer], the map's rows and their l1 norms.
    void carry_errors(int layer, const double* l1);
    // Where the cell lies relative to constraint `code` (its a·x <= b side), decided in rationals
    // for a cut floating point could not decide: inside or outside when the constraint is constant
    // on the cell or exactly a multiple of one of its facets; kIdentical when it reads 0 <= 0 there.
    enum class Exactly { kInside, kOutside, kIdentical, kUnknown };
    Exactly decide_exactly(const Cell& cell, ConstraintCode code);
    // The pieces of the cell for Max entry `entry` of `layer`: for each state s whose piece
    // {z_s >= z_j for all j} has positive volume, the piece (clipped by the k - 1 half-spaces) in
    // pieces_[splits]. Rows equal on the whole cell do not split it: the lowest is the state.
    // False when a cut falls within the tolerance and exact arithmetic cannot decide it alone.
    bool max_pieces(const Cell& cell, int layer, int entry, int splits);
    // enter_layer() for Max unit (output) o: the index of the row that is the largest by more than
    // the tolerance at every vertex of the cell (`values`: vertices x rows, without bias), or -1.
    __attribute__((noinline)) int max_stable_state(int layer, int o, const Eigen::MatrixXd& values) const;
    // descend() at a Max entry: one subtree per piece.
    void descend_max(const Cell& cell, int layer, int pos, int splits);
    // to = from + factor W_{l+1}[:, o] [z_row | c_row] (layer = l; from and to may be one matrix).
    void accumulate(int layer, int o, int row, double factor, const Eigen::MatrixXd& from, Eigen::MatrixXd& to) const;
    void descend(const Cell& cell, int layer, int pos, int splits);
    // Splits by w·x + c: below keeps <= 0 (its new facet is labelled below_code), above >= 0. A
    // vertex within the tolerance makes it kUndecided, unless `exactly_on` proves that it lies
    // exactly on the hyperplane (then it goes to both sides).
    using OnTest = std::function<bool(const Cell& cell, int vertex)>;
    Side split(const Cell& cell, const double* w, double c, ConstraintCode below_code, ConstraintCode above_code,
               Cell& below, Cell& above, const OnTest* exactly_on = nullptr);
    const Cell& collect_garbage(const Cell& cell);
    void emit(const Cell& cell);
    void snapshot(const Cell& cell, int layer, int pos);

    const VertexEngine& engine_;
    ActivationPattern pattern_;
    std::vector<Eigen::MatrixXd> weight_;  // per split layer, valid along the current path
    std::vector<Eigen::VectorXd> bias_;
    // Per split layer on the current path, per row of its map: error_, a bound on |rounded - exact|_1
    // of the row (coefficients and constant, flat_network.h), at first |W_j|_1 times the widest_
    // carry of the layer before (row_errors), tightened where that does not clear the row's band
    // (tight_error); carry_, what the row carries into each row of the next layer per unit
    // |weight x factor| (row_carry). widest_: the largest max(1, |slope|) carry_ of the layer;
    // largest_: the largest max(1, |slope|) (s_t + E_t), for a next layer with fold errors.
    std::vector<Eigen::VectorXd> error_, carry_;
    std::vector<double> widest_, largest_;
    std::vector<std::vector<int>> unstable_;
    // The pre-activation map of layer l+1 (rows [w | c]) at position pos of unstable_[l] is the map at
    // an earlier position of the current path, anchor_[l], plus one outer product per neuron decided
    // since (decided_[l][p], the decision at position p) whose output passes a row on, in position
    // order. The anchor is base_[l] (from start_map(), or a task's) or, below a split, the map at the
    // split, summed there into checkpoints_[l][pos] for both sides. A sum is made only where a map is
    // read or shared, all its terms at once in registers, in the order and with the roundings of
    // adding them one decision at a time; each decision is summed once, as before, but a neuron
    // decided inactive and a decision under a cut that only one side keeps cost no pass of their own.
    struct Decision {
      int output, row;
      double factor;  // 0: adds nothing
    };
    struct Anchor {
      const Eigen::MatrixXd* map = nullptr;
      int pos = 0;
    };
    std::vector<Eigen::MatrixXd> base_;
    std::vector<Anchor> anchor_;
    std::vector<std::vector<Decision>> decided_;
    std::vector<std::vector<Eigen::MatrixXd>> checkpoints_;
    Eigen::MatrixXd map_;  // the map a cell enters the next layer with, or a snapshot takes
    // Records the decision at position pos of unstable_[layer] (output o, pattern_ already set).
    void decide_output(int layer, int pos, int o);
    // The next layer's map at position pos of unstable_[layer]: the anchor's map, or `out` summed.
    const Eigen::MatrixXd& map_at(int layer, int pos, Eigen::MatrixXd& out);
    // out = *init (none: 0) + the terms_ of `layer` (outputs of nonzero factor) in their order: the
    // one summation of the next layer's map, for start_map() and map_at().
    void sum_terms(int layer, const Eigen::MatrixXd* init, Eigen::MatrixXd& out);
    // Sizes decided_[layer] and checkpoints_[layer] for the layer's unstable entries (only grows).
    void reserve_decisions(int layer);
    std::vector<Cell> below_, above_;  // scratch per split depth
    struct MaxPieces {
      std::vector<Cell> cells;  // cells[s]: the piece of state s; cells[k]: scratch
      std::vector<int> states;  // the states with a piece, ascending
      std::vector<char> clipped;  // per entry of states: false if the piece is the whole cell
    };
    std::deque<MaxPieces> pieces_;  // per split depth, grown on demand (a deque: references stay valid)
    Cell max_junk_;
    Cell garbage_free_;
    std::vector<double> values_, interior_;  // values_: split(), per vertex; only grows
    std::vector<int> slot_counts_;  // emit(): vertices per slot
    std::vector<double> hi_, lo_, l1_;  // relu_states(): per row
    std::vector<int> codes_;  // relu_states(): per row
    std::vector<Decision> terms_;  // sum_terms(): the outputs summed
    std::vector<double> coefficients_;
    std::vector<const double*> columns_;
    std::vector<int> pos_, neg_;          // split(): the vertices above and below the cut; only grow
    std::vector<int> edge_p_, edge_n_;    // split(): the crossed edges (pos_ end, neg_ end); only grows
    std::vector<std::uint64_t> neg_mask_;  // split(): the masks of neg_ (one-word cells)
    std::vector<char> on_;
    Eigen::VectorXd w_;
    LeafSink* sink_ = nullptr;
    std::unique_ptr<ExactEngine::Worker> exact_;
  };

 private:
  const FlatNetwork& flat_;
  double tol_;
  const ExactFallback& exact_;
  Eigen::VectorXd centre_, scale_;
  // A row of error E and l1 norm l1 (coefficients) may not be trusted when E trust_ >= l1: its
  // error may exceed half its tolerance band, tol |z|_2 / 2 >= tol l1 / (2 sqrt(d)).
  double trust_ = 0;
  // error_ of the second split layer's rows, for every cell at once: the rows of the first are the
  // same on every cell, and the sum over all of them bounds the sum over those a cell passes on.
  Eigen::VectorXd second_error_;
  Cell root_;
  bool root_undecided_ = false;  // a domain constraint came within the tolerance of a box corner
  bool avx512_ = vertex_simd();  // split(): the pair test eight pairs at a time
};

}  // namespace relutope::detail
