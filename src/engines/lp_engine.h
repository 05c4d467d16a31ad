#pragma once
// Engine for any input dimension: a depth-first search over activation patterns, neuron by neuron.
// Each node keeps a witness point strictly inside its region. A neuron's side that holds the
// witness is known to be non-empty; the other side costs one LP, which maximises the margin t of
// a point from every constraint of the path (a·x + t <= b, rows normalised, x in the box). The
// side has positive volume iff the optimal t exceeds the tolerance. Neurons whose sign is fixed on
// the whole box (interval bounds) cost nothing. The LP goes to a small dense simplex that certifies
// its answer (margin_lp.h), warm-started from the tableau of the LP that made the node; GLPK
// decides what it cannot.
// A region is near-degenerate when its largest margin is below `near_degenerate_depth`. A witness
// of margin above it proves that it is not; only below it does an LP run to its optimum. So a side
// needs no optimum unless the caller wants the interior points and depths of max-margin LPs
// (`max_margin_points`): without them, a side's LP stops once a point of margin above the threshold
// is found, and a witness side certified only below the threshold gets an LP that stops there too.
// A side whose margin lies within the tolerance of 0, or an LP neither solver settles, is not
// decided in floating point but by the same LP in exact rational arithmetic (exact_margin_lp.h)
// on the network and domain as given.
#include <Eigen/Core>
#include <limits>
#include <memory>
#include <vector>

#include "detail/flat_network.h"
#include "detail/leaf_sink.h"
#include "detail/margin_lp.h"
#include "detail/search_worker.h"
#include "engines/exact_engine.h"
#include "relutope/domain.h"

namespace relutope::detail {

class LpEngine {
 public:
  /// `domain` is in the engine's coordinates u, with x = centre + scale ⊙ u in the input's.
  /// `max_margin_points`: the leaves' interior points and depths are the max-margin LPs' along the
  /// path (every side solved to its optimum), as exports want them; else any certified ones.
  LpEngine(const FlatNetwork& flat, const Domain& domain, double tolerance_abs, const ExactFallback& exact,
           const Eigen::VectorXd& centre, const Eigen::VectorXd& scale, double near_degenerate_depth,
           bool max_margin_points);

  struct Row {  // a·x <= b with |a| = 1
    Eigen::VectorXd a;
    double b = 0;
    ConstraintCode code = 0;
  };

  struct Task {
    ActivationPattern pattern;
    int layer = -1;  // -1: the root, no layer entered yet
    int neuron = 0;  // next neuron of `layer` to decide
    std::vector<Row> rows;
    Eigen::VectorXd witness;
    double depth = 0;
    bool thin = false;  // near-degenerate (Worker::thin_)
    Eigen::MatrixXd weight;
    Eigen::VectorXd bias;
    Eigen::VectorXd error;  // Worker::error_ of `layer`
    // The dense simplex's tableau for a prefix of `rows` (Worker::state_), or none.
    std::shared_ptr<const MarginLp::State> lp;
  };

  const Task& root_task() const { return root_; }

  class Worker : public SearchWorker<Task> {
   public:
    explicit Worker(const LpEngine& engine);
    ~Worker() override;
    void run(const Task& task, LeafSink& sink) override;

   private:
    friend class LpEngine;
    // Largest margin t of a point from all rows plus `extra`, with the point in the box.
    // Returns t (NaN when no solver settles it) and the point in `x`. The dense simplex starts
    // from slot state_'s tableau when it has one, and leaves its own in slot `to` (margin_lp.h).
    // `stop_above` finite: the answer may be any point of margin above it (certified), short of
    // the optimum.
    double max_margin(const Row* extra, int num_extra, Eigen::VectorXd& x, int to,
                      double stop_above = std::numeric_limits<double>::infinity());
    // Whether the current region within `extra` has a point of margin at least
    // near_degenerate_depth (an LP that stops either way once it knows); if so, the point goes to
    // `x` and its checked margin to `margin`.
    bool reaches_threshold(const Row* extra, int num_extra, Eigen::VectorXd& x, double& margin, int to);
    // The slot for a child whose rows are rows_ (+ the side's) after max_margin(..., to): `to` when
    // it holds an optimal tableau, else the node's state_ (a prefix of the child's rows).
    int child_state(int to) const;
    // Puts rows_ and `extra` into rows_a_ and rows_b_.
    void load_rows(const Row* extra, int num_extra);
    // The first `wanted` rows load_rows() put, as a wanted x n matrix.
    Eigen::Map<const Eigen::MatrixXd> rows_a(int wanted) const;
    void descend(int layer, int neuron, int splits);
    // One side of a split (a Max unit's piece) as the search enters it.
    struct Side {
      bool feasible = false;
      Eigen::VectorXd point;  // the child's witness
      // The point's margin: from the side's rows (the node's witness), or from all rows (an LP's).
      double margin = 0;
      bool from_lp = false;
      bool thin = false;  // the child's thin_
      int state = -1;     // the child's state_
    };
    // Sets side.thin: for an LP's side from its margin; for the witness's, from the witness when
    // it proves the threshold, else by an LP into slot `to` (whose point then becomes the child's
    // witness, unless exports want the max-margin points).
    void judge(Side& side, const Row* extra, int num_extra, int to);
    // Makes `side` the current node: witness_, state_, thin_, depth_ (saved_depth: the parent's).
    void enter(const Side& side, double saved_depth);
    // max_margin()'s stop_above for a side's LP.
    double stop_above() const;
    // Without max_margin_points: a point of the side `row` (the witness outside it) found without
    // an LP, on the ray from the witness along -row.a (coordinates held where the witness is at
    // the bound the ray leaves by), where every row clears near_degenerate_depth (the middle of
    // that stretch). The point goes to `x` and its margin, checked against every row, to `margin`.
    bool across(const Row& row, Eigen::VectorXd& x, double& margin);
    // Max entry `entry` of `layer`: an LP (or the witness) per state s for the piece {z_s >= z_j
    // for all j}, one subtree per piece with interior points. Rows equal in rationals do not split
    // (the lowest index is the state).
    void descend_max(int layer, int entry, int splits);
    // Whether the current region has interior points within the rows `extra` (a neuron's side, or
    // a Max unit's piece), decided exactly; if so, one of them (in u) goes to `point`.
    // @throws UncertifiedError past the pivot limit
    bool exact_side(const Row* extra, int num_extra, Eigen::VectorXd& point);
    void emit();
    void snapshot(int layer, int neuron);

    const LpEngine& engine_;
    struct Glpk;
    std::unique_ptr<Glpk> lp_;
    ActivationPattern pattern_;
    std::vector<Eigen::MatrixXd> weight_;
    std::vector<Eigen::VectorXd> bias_;
    // Per split layer on the current path, per row of its map: a bound on |rounded - exact|_1 of the
    // row, coefficients and constant (flat_network.h, row_errors).
    std::vector<Eigen::VectorXd> error_;
    // weight_, bias_ and error_ of `layer`, from those of the layer before.
    void enter_layer(int layer);
    // Whether the rounded row (w, c) of error `error` decides nothing alone: rounded to zero, or
    // with its error not within half its tolerance band tol |w|.
    bool untrusted(const Eigen::VectorXd& w, double error) const;
    // The least and largest value of w·x + c over the box, in doubles.
    void range_on_box(const Eigen::VectorXd& w, double c, double& lo, double& hi) const;
    std::vector<Row> rows_;
    Eigen::VectorXd witness_, interior_;
    Eigen::VectorXd ray_;  // across()'s
    // The dense simplex's slot holding an optimal tableau for a prefix of rows_ (-1: none), and
    // the first slot no node on the current path uses: the slots are a stack along the path.
    int state_ = -1, free_slot_ = 0;
    MarginLp margin_lp_;
    Eigen::VectorXd rows_a_;  // column-major, wanted x n (rows_a())
    Eigen::VectorXd rows_b_;
    // A lower bound on the witness's margin from rows_ (with max_margin_points, the exported depth:
    // the least margin along the path, also where the witness's side took no LP).
    double depth_ = 0;
    // Whether the region's largest margin is below near_degenerate_depth: known once an LP's
    // optimum (or the exact decision of a side within the tolerance) said so, then for the subtree.
    bool thin_ = false;
    LeafSink* sink_ = nullptr;
  };

 private:
  const FlatNetwork& flat_;
  const Domain& domain_;
  double tol_;
  const ExactFallback& exact_;
  Eigen::VectorXd centre_, scale_;
  double near_degenerate_depth_;
  bool max_margin_points_;
  Task root_;
};

}  // namespace relutope::detail
