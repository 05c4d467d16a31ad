#pragma once
// The linear pieces of a graph network along a segment, computed through the graph's own
// operations: a convolution is applied to the segment's origin and direction, never turned into a
// dense matrix. This is how relutope walks a line through networks far too large for the layered
// engines, such as ResNet-18 on 3x224x224 images.
#include <Eigen/Core>
#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "relutope/graph.h"
#include "relutope/walked_regions.h"

namespace relutope {

/// What to walk and how to report.
struct SegmentOptions {
  /// The part of the line x = origin + t * direction to walk: t from t_begin to t_end (t_begin < t_end).
  double t_begin = 0.0;
  double t_end = 1.0;
  /// Carry the error bounds and certify every cut (the default). false skips them, which halves the
  /// work, and the result is then NOT certified: for measuring the walk itself, never for a count
  /// that is reported as exact.
  bool certify = true;
  /// Keep every breakpoint (a t where some unit changes state) in SegmentPieces::breakpoints.
  bool keep_breakpoints = false;
  /// Threads; 0 = all cores. The segment is cut into equal chunks that the threads walk in turn.
  int threads = 0;
  /// Called after each finished piece (from the thread that finished it, one call at a time) with
  /// the share of the segment's length finished and the pieces found so far.
  std::function<void(double share_done, std::int64_t pieces)> progress;
  /// Checked after each unit evaluation; once true, the walk stops and throws relutope::Cancelled.
  const std::atomic<bool>* cancel = nullptr;
  /// Stopping early with a partial result. Unlike `cancel`, these end the call normally with
  /// SegmentPieces::complete false: the pieces certified on [t_begin, t_reached]. Checked after each
  /// unit evaluation (on ResNet-18 that is within seconds).
  /// Stop switch: once the flag it points to is true, the walk stops. Not owned; may be set from a
  /// signal handler (lock-free).
  const std::atomic<bool>* stop = nullptr;
  /// Stop after this many seconds from the start of the call (0 = no limit).
  double time_limit = 0;
  /// If set, every piece goes into it (its interval of t, pattern and output map; see
  /// relutope/walked_regions.h), in pattern order whatever the thread count. A stopped walk leaves
  /// the pieces of every part it walked (SegmentPieces::walked), the first and last of a part clipped
  /// to it. Not owned.
  WalkedRegions* regions = nullptr;
};

/// A part of the segment that the walk finished, with its pieces (SegmentPieces::walked).
struct SegmentInterval {
  double t_begin = 0, t_end = 0;
  /// Pieces meeting [t_begin, t_end]: the first and last may continue past its ends.
  std::int64_t pieces = 0;
};

/// The result of pieces_on_segment.
struct SegmentPieces {
  /// Number of joint unit states with a sub-segment of positive length: the linear pieces.
  std::int64_t pieces = 0;
  /// The t at which the state changes, increasing (when SegmentOptions::keep_breakpoints).
  std::vector<double> breakpoints;
  /// Unit nodes evaluated over the whole walk (the nodes of the search tree).
  std::int64_t units_evaluated = 0;
  /// Unit evaluations that the double-double bounds could not decide and that were decided after
  /// recomputing every value before the unit in triple-double.
  std::int64_t refinements = 0;
  /// The smallest gap between two distinct breakpoints (or a breakpoint and an end of the segment),
  /// in units of their certified floating-point error; always > 1 in a result (otherwise the walk
  /// throws), and the margin by which the count is certain.
  double least_margin = std::numeric_limits<double>::infinity();
  /// false when SegmentOptions::stop or time_limit ended the walk early. Then `pieces` and
  /// `breakpoints` are those of the prefix [t_begin, t_reached] of the segment, certified like a
  /// complete count: pieces is the number of pieces meeting it (a lower bound of the whole count, and
  /// the breakpoints are the first ones of a complete walk).
  bool complete = true;
  /// The end of the part walked from t_begin without a gap: t_end when complete.
  double t_reached = 0;
  /// Every part of the segment the walk finished, in order of t (the threads walk chunks of the
  /// segment, so a stopped walk may have finished parts beyond t_reached too); one interval
  /// [t_begin, t_end] when complete.
  std::vector<SegmentInterval> walked;
};

/// Counts the linear pieces of `graph` on x = origin + t * direction, t in [t_begin, t_end].
///
/// Depth-first over the units in topological order: on each sub-segment every unit before the
/// current one is decided, so the current unit's input is affine in t (a point and a direction per
/// value, computed with apply_affine); its breakpoints cut the sub-segment. Every value carries a
/// rigorous bound on its floating-point error (Higham, Accuracy and Stability of Numerical
/// Algorithms, 2nd ed., section 3.1: |fl(w.x) - w.x| <= gamma_n |w|.|x|), and a cut is made only
/// where the bounds separate it from every other cut. Values are carried in double-double; where its
/// bounds cannot decide a unit, every value before it is recomputed in triple-double (a posteriori
/// bounds) and the unit decided again (SegmentPieces::refinements). Breakpoints of what is proven to be
/// one function (the same hyperplane met twice, as a ReLU feeding a MaxPool: proven from the graph and
/// the states, never from identical bits alone) coincide exactly.
///
/// @param graph      the network (see load_graph_onnx); units Relu, LeakyRelu, PRelu, Clip, Max
/// @param origin     input_dim values, the point at t = 0
/// @param direction  input_dim values, the step per unit of t
/// @return the count and statistics
/// @throws InputError if origin or direction has the wrong size or is not finite, or t_begin >= t_end
/// @throws UncertifiedError if two breakpoints (or a breakpoint and an end) lie within their error
///         bounds of each other: no count is given
/// @throws Cancelled if options.cancel became true (options.stop and time_limit return a partial result)
SegmentPieces pieces_on_segment(const Graph& graph, const Eigen::VectorXd& origin, const Eigen::VectorXd& direction,
                                const SegmentOptions& options = {});

/// pieces_on_segment on the segment between two points, x = a + t (b - a) exactly: b - a is carried in
/// two words (it is rarely a double), so that t = 1 is b itself and ties that hold exactly at b are
/// decided there (the direction b - a rounded to doubles would end a rounding away from b).
/// @param a, b  input_dim values each, the points at t = 0 and t = 1
/// @throws as pieces_on_segment, and InputError if a and b differ in size or b - a overflows
SegmentPieces pieces_between(const Graph& graph, const Eigen::VectorXd& a, const Eigen::VectorXd& b,
                             const SegmentOptions& options = {});

}  // namespace relutope
