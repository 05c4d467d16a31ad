#pragma once
#include <Eigen/Core>
#include <string>
#include <vector>

#include "relutope/domain.h"
#include "relutope/network.h"

namespace relutope {

/// An affine slice through input space: x = origin + basis * u, with u in a k-dimensional domain.
/// Counting a network on a slice is counting the network composed with this map (compose()), so
/// count, export, pictures, bounds and neurons all work on slices unchanged.
struct Slice {
  Eigen::VectorXd origin;  ///< input_dim
  Eigen::MatrixXd basis;   ///< input_dim x k
  std::string description;  ///< for reports, e.g. "the plane through rows 0,5,17 of points.csv"
  /// The slice exactly, when origin and basis are its rounding (line_through, plane_through: the map
  /// that sends the points' coordinates exactly to the points); empty: origin and basis are exact.
  /// compose() hands it to exact arithmetic (Network::exact).
  ExactAffineMap exact;

  /// k, the slice's dimension.
  int dim() const { return static_cast<int>(basis.cols()); }
  /// The input-space point (input_dim) of slice coordinates u (k).
  Eigen::VectorXd to_input(const Eigen::VectorXd& u) const { return origin + basis * u; }
};

/// The network x -> net(origin + basis u): the slice folded into the first layer in floating point,
/// and the exact definition (Network::exact: net as given and the slice's exact map) for exact
/// arithmetic, so that exact decisions are those of the network as stored on the slice as given.
/// @param[in] net    network with d = slice.origin.size() inputs
/// @param[in] slice  origin (d) and basis (d x k), and its exact map if any
/// @return a network with k inputs and net's outputs; no default domain; source names the slice
/// @throws InputError if the slice's input dimension differs from the network's
Network compose(const Network& net, const Slice& slice);

/// The plane through three points. Coordinates are orthonormal (areas are input-space areas),
/// centred at the points' centroid, first axis along p1 - p0.
/// @param[in] p0, p1, p2  three points of the same dimension d
/// @return origin the centroid (d), basis d x 2 with orthonormal columns (both rounded), and exactly
///         (Slice::exact) the map that sends the corners of the triangle of triangle_domain (the
///         exact intersections of its edges as rounded to doubles) to p0, p1, p2, so that a tie that
///         holds at a point holds exactly at a corner of the domain
/// @throws InputError if the points are (nearly) collinear
Slice plane_through(const Eigen::VectorXd& p0, const Eigen::VectorXd& p1, const Eigen::VectorXd& p2);

/// The triangle of the three points in the plane's coordinates: the box around it and the three
/// edges as extra constraints.
/// @param[in] plane       plane_through(p0, p1, p2)
/// @param[in] p0, p1, p2  the same three points (d each)
/// @return a 2-D domain with three extra half-spaces: the edges through the points' coordinates,
///         rounded to doubles; the box holds their exact triangle, whose corners plane.exact sends
///         to the points exactly
Domain triangle_domain(const Slice& plane, const Eigen::VectorXd& p0, const Eigen::VectorXd& p1, const Eigen::VectorXd& p2);

/// The square in plane coordinates centred at the points' centroid that holds the triangle, scaled by `scale`.
/// @param[in] plane, p0, p1, p2  as for triangle_domain
/// @param[in] scale              > 0: half-width = scale x the largest |coordinate| of the three points
/// @return a 2-D box
/// @throws InputError if scale is not positive
Domain plane_box_domain(const Slice& plane, const Eigen::VectorXd& p0, const Eigen::VectorXd& p1, const Eigen::VectorXd& p2,
                        double scale);

/// The line through a and b, parametrised by t with x = a + t (b - a): the segment is t in [0, 1].
/// @param[in] a, b  two points of the same dimension d
/// @return origin a (d), basis b - a (d x 1) rounded, and exactly the map sending t = 0, 1 to a, b
/// @throws InputError if a == b
Slice line_through(const Eigen::VectorXd& a, const Eigen::VectorXd& b);

/// Reads points, one per row, from a CSV file (comma, space or tab separated; a header line of
/// non-numbers is skipped) or a .npy file (a 2-D float32/float64 array in C order).
/// @param[in] path  a .npy file by its extension, else CSV
/// @return n x d, one point per row
/// @throws InputError naming the file, line and field
Eigen::MatrixXd load_points(const std::string& path);

/// Reads an H-polytope domain { x : A x <= b } from JSON: {"A": [[...], ...], "b": [...]} and optionally
/// "lo"/"hi" (a box to intersect with). Without a box, the bounding box is found by 2 d LPs.
/// @param[in] path  the JSON file; A is k x d, b has k entries
/// @return a valid domain of dimension d with the k rows as extra half-spaces
/// @throws InputError if it is malformed, empty (no interior), or unbounded
Domain load_polytope_domain(const std::string& path);

}  // namespace relutope
