#pragma once
#include <Eigen/Core>
#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "relutope/domain.h"
#include "relutope/network.h"
#include "relutope/slice.h"

namespace relutope {

/// Where the domain of a count comes from. Reports give it as domain.source (domain_origin_name()).
enum class DomainOrigin {
  kDefault,   ///< nothing was given and the model has no domain: [-1,1]^input_dim
  kModel,     ///< the model's own domain (Network::default_domain, a JSON model's "domain")
  kBox,       ///< a box the caller gave
  kPolytope,  ///< an H-polytope the caller gave (load_polytope_domain)
  kPlane,     ///< a 2-D plane through three points (on_plane)
  kLine,      ///< the segment between two points (on_line)
};

/// "default", "model", "box", "domain", "plane" or "line" (the names the CLI and Python give the choice).
const char* domain_origin_name(DomainOrigin origin);

/// How much of the plane through three points on_plane() counts in.
enum class PlaneRegion {
  kTriangle,  ///< the triangle of the three points
  kSquare,    ///< a square around it (plane_box_domain)
};

/// A network and the domain it is counted on. With a slice (plane or line), `net` is the model
/// composed with it (compose()), so that its inputs, the domain and every region are in slice
/// coordinates u (x = slice->origin + slice->basis * u).
struct CountingDomain {
  Network net;
  Domain domain;
  DomainOrigin origin = DomainOrigin::kDefault;
  std::optional<Slice> slice;  ///< set exactly when origin is kPlane or kLine
  /// The data points the slice was made from, in slice coordinates (slice->dim() entries each),
  /// labelled "row i": pictures mark them (DrawOptions::marks). Empty without a slice.
  std::vector<std::pair<Eigen::VectorXd, std::string>> anchors;
};

/// The model's own domain if it has one (kModel), else the cube [-1,1]^input_dim (kDefault).
/// @param[in] net  a network (moved into the result)
CountingDomain default_domain(Network net);

/// A domain the caller chose.
/// @param[in] net     a network (moved into the result)
/// @param[in] domain  a box or polytope of dimension net.input_dim()
/// @param[in] origin  kBox or kPolytope
/// @throws InputError if the domain is invalid (Domain::validate) or its dimension is not net.input_dim()
CountingDomain on_domain(Network net, Domain domain, DomainOrigin origin);

/// The plane through three data points, in orthonormal coordinates (plane_through).
/// @param[in] net          a network with d inputs
/// @param[in] points       n x d, one point per row
/// @param[in] rows         three row indices into points, each in [0, n)
/// @param[in] region       the triangle of the points, or a square around it of half-width `scale`
///                         times the farthest point's coordinate (plane_box_domain)
/// @param[in] points_name  what the points are called in the slice's description (a file name)
/// @return net composed with the plane (2 inputs), the 2-D domain, origin kPlane and the slice
/// @throws InputError if points has not d columns, a row is out of range, the points are (nearly)
///         collinear, or scale is not positive
CountingDomain on_plane(const Network& net, const Eigen::MatrixXd& points, const std::array<Eigen::Index, 3>& rows,
                        PlaneRegion region = PlaneRegion::kTriangle, double scale = 1.5,
                        const std::string& points_name = "the points");

/// The segment from one data point to another, parametrised by t (line_through: t = 0 at the first
/// point, 1 at the second), restricted to t in [t_begin, t_end].
/// @param[in] net          a network with d inputs
/// @param[in] points       n x d, one point per row
/// @param[in] rows         two row indices into points, each in [0, n)
/// @param[in] points_name  what the points are called in the slice's description
/// @param[in] t_begin      start of the part of the line counted on (0: the first point)
/// @param[in] t_end        its end, above t_begin (1: the second point)
/// @return net composed with the line (1 input), the domain [t_begin, t_end], origin kLine and the slice
/// @throws InputError if points has not d columns, a row is out of range, the two points are equal, or
///         t_begin < t_end does not hold
CountingDomain on_line(const Network& net, const Eigen::MatrixXd& points, const std::array<Eigen::Index, 2>& rows,
                       const std::string& points_name = "the points", double t_begin = 0.0, double t_end = 1.0);

/// The domain as reports give it: a JSON object with "lo" and "hi" (input_dim numbers each), "source"
/// (domain_origin_name), "halfspaces" ([{"a": [...], "b": b}, ...], a·x <= b) for a polytope, and
/// "slice" ({"description", "origin" (the model's input_dim), "basis" (k columns of input_dim)}) for
/// a plane or line.
/// @param[in] where  a network and its domain (default_domain, on_domain, on_plane, on_line)
/// @return the object as compact JSON text (doubles in their shortest exact form)
std::string domain_json(const CountingDomain& where);

}  // namespace relutope
