#pragma once
// The linear regions of a graph network on a plane through input space, computed through the graph's
// own operations: a convolution is applied to the plane's origin and two directions, never turned
// into a dense matrix. The 2-D analogue of pieces_on_segment (relutope/segment.h), for networks far
// too large for the layered engines, such as ResNet-18 on 3x224x224 images.
#include <Eigen/Core>
#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "relutope/graph.h"
#include "relutope/walked_regions.h"

namespace relutope {

/// How to walk and how to report.
struct PlaneOptions {
  /// Carry the error bounds and certify every cut (the default). false skips them and the result is
  /// then NOT certified: for measuring the walk itself, never for a count reported as exact.
  bool certify = true;
  /// Threads; 0 = all cores. A thread that finds another idle hands it cells of the search tree
  /// (the same count for any number of threads).
  int threads = 0;
  /// Called after each finished region (from the thread that finished it, one call at a time) with
  /// the share of the domain's area finished and the regions found so far.
  std::function<void(double share_done, std::int64_t regions)> progress;
  /// Checked before each unit evaluation; once true, the walk stops and throws relutope::Cancelled.
  const std::atomic<bool>* cancel = nullptr;
  /// Stopping early with a partial result: unlike `cancel`, these end the call normally with
  /// PlaneRegions::complete false, the regions finished so far (certified). Stop switch: once the
  /// flag it points to is true, the walk stops (not owned; may be set from a signal handler).
  const std::atomic<bool>* stop = nullptr;
  /// Stop after this many seconds from the start of the call (0 = no limit).
  double time_limit = 0;
  /// If set, every region finished goes into it (its polygon in (s, t), pattern and output map; see
  /// relutope/walked_regions.h), in pattern order whatever the thread count; a stopped walk leaves
  /// the regions it finished. Not owned.
  WalkedRegions* regions = nullptr;
};

/// The result of regions_on_plane.
struct PlaneRegions {
  /// Number of joint unit states whose region has positive area in the domain (when complete).
  std::int64_t regions = 0;
  /// Unit nodes evaluated over the whole walk (the nodes of the search tree).
  std::int64_t units_evaluated = 0;
  /// Unit evaluations that the double-double bounds could not decide and that were decided after
  /// recomputing every value before the unit in triple-double.
  std::int64_t refinements = 0;
  /// The smallest ratio, over every sign decided at a vertex of a cell, of the computed value to its
  /// certified error bound (see regions_on_plane); always > 1.
  double least_margin = std::numeric_limits<double>::infinity();
  /// false when PlaneOptions::stop or time_limit ended the walk early: then `regions` counts the
  /// regions finished, each certified (a lower bound of the count), and area_done says how much of
  /// the domain they cover.
  bool complete = true;
  /// The share of the domain's area covered by the regions finished (1 when complete; computed in
  /// floating point, for reports).
  double area_done = 0;
};

/// Counts the linear regions of `graph` on the plane x = origin + s d_0 + t d_1, (s, t) in a convex
/// polygon.
///
/// Depth-first over the units in topological order: on each cell (a convex polygon in (s, t)) every
/// unit before the current one is decided, so the current unit's input is affine in (s, t), a point
/// and two directions per value in double-double with a rigorous bound E0 + |s| E1 + |t| E2 on its
/// error (the values of pieces_on_segment, with three columns); the lines where its values change
/// state (a ReLU's zero, a clip's two bounds, the pairwise differences of a Max window's inputs)
/// split the cell. Every vertex of a cell is a corner of the domain (exact) or the crossing of two
/// computed lines, and carries a bound on its distance to the true crossing: ||M^-1|| times the two
/// lines' errors, M their 2x2 matrix of gradients. A line is decided on a cell only if at every
/// vertex its value exceeds its error bound plus its gradient times the vertex's distance bound, so
/// that the true line meets the true cell's edges exactly where the computed one meets the computed
/// cell's: the count is that of the network as stored, on the plane as given. A line proven to be a
/// line through the vertex (the same hyperplane met again, as a ReLU feeding a MaxPool; proven from the
/// graph and the states, never from identical bits alone) vanishes there, and so does one between two values that both vanish there (a PRelu or LeakyRelu output on its
/// slope side vanishes where its input does); at a corner of the domain on an axis (s = 0 or t = 0) the exact value decides where the
/// bounds cannot (detail/exact_end.h, on graphs small enough). Where the double-double bounds cannot
/// decide a unit, every value before it is recomputed in triple-double and the unit decided again.
/// Inputs of a Max window that are the same function on a whole cell do not split it: its state is
/// the lowest such index. Memory: the families along the current path of the search tree, per thread.
///
/// @param graph       the network (see load_graph_onnx); units Relu, LeakyRelu, PRelu, Clip, Max
/// @param origin      input_dim values, the point at (0, 0)
/// @param directions  input_dim x 2: d_0 and d_1
/// @param directions_lo  input_dim x 2 added to directions (their second words, so that differences of
///                    points are exact; zeros, or empty, for one word)
/// @param polygon     the domain in (s, t): at least three vertices, counter-clockwise, convex
/// @return the count and statistics
/// @throws InputError if sizes disagree, values are not finite, or the polygon is not convex and
///         counter-clockwise with positive area
/// @throws UncertifiedError if a line passes within its error bounds of a vertex of a cell: no count is given
/// @throws Cancelled if options.cancel became true (options.stop and time_limit return a partial result)
PlaneRegions regions_on_plane(const Graph& graph, const Eigen::VectorXd& origin, const Eigen::MatrixXd& directions,
                              const Eigen::MatrixXd& directions_lo, const std::vector<Eigen::Vector2d>& polygon,
                              const PlaneOptions& options = {});

/// regions_on_plane on the triangle of three points, or the part of it near the first: x = p0 +
/// s (p1 - p0) + t (p2 - p0) with s, t >= 0 and s + t <= scale. p1 - p0 and p2 - p0 are carried in
/// two words (exactly), so that the corners are p0, p0 + scale (p1 - p0) and p0 + scale (p2 - p0)
/// exactly (the points themselves at scale 1), and ties that hold at the points are decided there.
/// The regions are those of the triangle of plane_through and triangle_domain (relutope/slice.h):
/// the same set of inputs, parametrised by another affine map.
/// @param scale  in (0, 1]: the triangle shrunk towards p0 by this factor
/// @throws as regions_on_plane, and InputError if the points differ in size, are collinear, a
///         difference overflows, or scale is not in (0, 1]
PlaneRegions regions_in_triangle(const Graph& graph, const Eigen::VectorXd& p0, const Eigen::VectorXd& p1,
                                 const Eigen::VectorXd& p2, double scale = 1.0, const PlaneOptions& options = {});

}  // namespace relutope
