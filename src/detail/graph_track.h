#pragma once
// What the segment walk (src/engines/segment_walk.cpp) and the plane walk (src/engines/plane_walk.cpp)
// share: the values of a graph's nodes on the current cell of a slice, every unit before the current
// one decided, as families of `cols` columns (a point and cols - 1 directions: 2 on a line, 3 on a
// plane) in double-double, each with a rigorous bound on its rounding error per column, so that the
// true value at slice coordinates u lies within E(r, 0) + sum_c |u_c| E(r, c) of the computed one.
// Affine nodes propagate the bound as E_y = |op|(E_x + g_n |x|) + g_n |shift| (Higham, Accuracy and
// Stability of Numerical Algorithms, 2nd ed., section 3.1), where |op| is the node with the absolute
// values of its weights and no shift and g_n = dd_dot_error(n). Where the double-double bounds cannot
// decide a unit, refine() recomputes every value before it in triple-double. Private to src/.
#include <Eigen/Core>
#include <functional>
#include <cstdint>
#include <map>
#include <tuple>
#include <utility>
#include <vector>

#include "detail/affine_dd.h"
#include "relutope/graph.h"

namespace relutope::detail {

constexpr double kRoundoff = 0x1p-53;
/// Far above the underflow range, far below any weight or input: values this close to zero are refused.
constexpr double kSmallest = 0x1p-900;

/// The most entries the exact recomputation at an exact point of a slice may read off the affine nodes
/// (detail/exact_end.h; about a second of rational arithmetic on small CNNs). Larger graphs do without.
constexpr double kExactEndWork = 1e8;

/// gamma_n of Higham: n u / (1 - n u) for n = fan_in + 2.
double gamma_for(std::int64_t fan_in);

/// What every walker of a graph shares, read-only: the units in order, and per affine node its
/// magnitude twin (|weights|, no shift), the |shift| it adds per value, its dd_dot_error and the
/// factor that covers the rounding of the bound's own computation.
struct WalkPrepared {
  explicit WalkPrepared(const Graph& graph);
  std::vector<int> units;
  std::vector<GraphNode> magnitude;
  std::vector<Eigen::VectorXd> shift_magnitude;
  std::vector<double> gamma, inflate;
  double exact_work = 0;  ///< detail::exact_end_work(graph)
};

/// What a computed value stands for, as a true function on the current cell: element `element` of node
/// `node` (node >= 0), the constant `level` (node -1), or something outside the graph (node -2: a
/// domain edge or an end of a segment, `element` telling which). Equal terms are the same function;
/// two computed values with identical bits are not, unless GraphTrack::same_function proves it.
struct Term {
  int node = -1;
  std::int64_t element = 0;
  double level = 0;
  bool operator==(const Term& o) const { return node == o.node && element == o.element && level == o.level; }
};

/// The values and error bounds of a graph's nodes on one cell (see the file comment).
class GraphTrack {
 public:
  /// The states of a unit's values (state(u)): for a Max node the index (into max_input) of the row it
  /// takes; otherwise one of these.
  static constexpr std::int64_t kPass = 0, kSlope = 1, kAtLow = 2, kAtHigh = 3;
  /// The most columns a family may have.
  static constexpr int kMaxCols = 3;

  /// @param cols     columns of every family (2: a line, 3: a plane; at most kMaxCols)
  /// @param certify  false: no error bounds (all zero), for measuring the walk only
  GraphTrack(const Graph& graph, const WalkPrepared& prepared, int cols, bool certify);

  /// The input node's family: hi + lo (input_dim x cols; lo holds the directions' second words), exact.
  void set_input(const Eigen::MatrixXd& hi, const Eigen::MatrixXd& lo);
  /// Affine nodes from `first` up to (not including) `last`, with their error bounds. Only what changed
  /// since a node was last computed is computed again (a convolution at the output positions that read
  /// a changed input; see changed_at_): the same bits as computing everything.
  /// @throws UncertifiedError if a value comes within kSmallest of zero (underflow)
  void compute_affine(int first, int last);
  /// Unit u's output from its states (state(u), set by the walk).
  void apply_unit(int u);

  /// Recomputes the value and error bound of every node before unit `target` in triple-double, with
  /// every unit before it in its recorded state, and stores them rounded to double-double.
  /// @param stopped  asked between nodes (may be empty); once it says true, refine returns false early,
  ///                 the values before `target` left unusable (the walk then stops)
  /// @return false if stopped
  bool refine(int target, const std::function<bool()>& stopped = {});

  std::vector<std::int64_t>& state(int u) { return state_[u]; }
  const std::vector<std::int64_t>& state(int u) const { return state_[u]; }
  const DdFamily& value(int i) const { return value_[i]; }
  const Eigen::MatrixXd& error(int i) const { return error_[i]; }
  /// The inputs of Max node u as one family (its windows index into it): the input itself, or the
  /// inputs stacked by stack_inputs(u).
  const DdFamily& max_input(int u) const;
  const Eigen::MatrixXd& max_error(int u) const;
  /// Stacks the inputs of Max node u (kept per node, so that the cells below reuse them).
  void stack_inputs(int u);
  /// The node and element of entry `index` of Max node u's stacked inputs.
  std::pair<int, std::int64_t> max_source(int u, std::int64_t index) const;
  int cols() const { return cols_; }
  /// Value `element` of node `node` as a term, followed back through what passes a value on unchanged
  /// in the states of the current cell (a ReLU or clip passing, a Max's chosen input, a copy in an
  /// index map or a scale of 1): a ReLU passing and its input are one term. A unit at a constant (a
  /// ReLU at 0, a clip at a bound) is that constant.
  Term term(int node, std::int64_t element) const;
  /// Whether terms a and b are proven to be the same true function on the current cell (never from
  /// bits alone): they are equal; or their computed values are identical and either both exact (error
  /// bound 0: the computed function is the true one) or both the same operation (the same node, the
  /// same weights, shifts and states) of inputs that are so in turn, padding matching exact zeros.
  bool same_function(const Term& a, const Term& b);
  /// The slope below 0 of element r of ReLU-family node `node`.
  static double relu_slope(const GraphNode& node, Eigen::Index r) {
    return node.slope.size() == 1 ? node.slope[0] : node.slope.size() ? node.slope[r] : 0.0;
  }

 private:
  [[noreturn]] void uncertain_value(int node, Eigen::Index element) const;
  /// Affine node i whole, or convolution i at output positions `at` only (conv_dd_at), with its bounds.
  void compute_whole(int i);
  void compute_conv_at(int i, const std::vector<std::int64_t>& at);
  /// Refuses value r of node i if it is near the underflow range (uncertain_value).
  void check_underflow(int i, Eigen::Index r) const;
  /// Marks every row of node i changed now.
  void changed_all(int i);
  /// The rows of node j that changed after clock value `since`, in order.
  std::vector<std::int64_t> changed_since(int j, std::uint64_t since) const;
  void refine_unit(int i, std::vector<TdFamily>& td, std::vector<Eigen::MatrixXd>& bound) const;
  /// same_function below the terms' equality, with what is already known in proven_.
  bool proven_same(const Term& a, const Term& b);
  /// Whether the computed values of terms a and b have the same bits, and whether both are exact.
  bool same_bits(const Term& a, const Term& b, bool& exact) const;

  const Graph& g_;
  const WalkPrepared& prepared_;
  int cols_;
  bool certify_;
  std::vector<DdFamily> value_;
  std::vector<Eigen::MatrixXd> error_;
  std::vector<DdFamily> stacked_value_;
  std::vector<Eigen::MatrixXd> stacked_error_;  // per Max node with several inputs
  std::vector<std::vector<std::int64_t>> state_;
  // Recomputing only what changed. clock_ counts the changes; changed_at_[i][r] is the clock value at
  // which row r of node i (its value or bound) last changed, computed_at_[i] the clock value at which
  // affine node i was last made up to date with its inputs (0: never, or recompute it whole).
  std::uint64_t clock_ = 1;
  std::vector<std::vector<std::uint64_t>> changed_at_;
  std::vector<std::uint64_t> computed_at_;
  std::map<std::tuple<int, std::int64_t, std::int64_t>, bool> proven_;  // per same_function call
};

}  // namespace relutope::detail
