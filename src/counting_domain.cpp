#include "relutope/counting_domain.h"

#include <Eigen/Cholesky>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "relutope/error.h"

namespace relutope {

const char* domain_origin_name(DomainOrigin origin) {
  switch (origin) {
    case DomainOrigin::kDefault: return "default";
    case DomainOrigin::kModel: return "model";
    case DomainOrigin::kBox: return "box";
    case DomainOrigin::kPolytope: return "domain";
    case DomainOrigin::kPlane: return "plane";
    case DomainOrigin::kLine: return "line";
  }
  return "?";
}

CountingDomain default_domain(Network net) {
  CountingDomain out;
  if (net.default_domain) {
    out.domain = *net.default_domain;
    out.origin = DomainOrigin::kModel;
  } else {
    out.domain = Domain::cube(net.input_dim(), -1, 1);
    out.origin = DomainOrigin::kDefault;
  }
  out.net = std::move(net);
  return out;
}

CountingDomain on_domain(Network net, Domain domain, DomainOrigin origin) {
  if (origin != DomainOrigin::kBox && origin != DomainOrigin::kPolytope)
    throw std::invalid_argument(std::string("on_domain: origin must be box or domain, got ") + domain_origin_name(origin));
  domain.validate();
  if (domain.dim() != net.input_dim())
    throw InputError(std::string(origin == DomainOrigin::kBox ? "the box" : "the polytope") + " has dimension " +
                     std::to_string(domain.dim()) + " but " + net.source + " has " + std::to_string(net.input_dim()) +
                     " inputs");
  CountingDomain out;
  out.domain = std::move(domain);
  out.origin = origin;
  out.net = std::move(net);
  return out;
}

namespace {

// The rows of `points` as column vectors, after checking the points' dimension and the indices.
template <std::size_t N>
std::array<Eigen::VectorXd, N> pick_rows(const Network& net, const Eigen::MatrixXd& points,
                                         const std::array<Eigen::Index, N>& rows, const std::string& points_name) {
  if (points.cols() != net.input_dim())
    throw InputError(points_name + " has " + std::to_string(points.cols()) + " coordinates per row but " + net.source +
                     " has " + std::to_string(net.input_dim()) + " inputs");
  std::array<Eigen::VectorXd, N> out;
  for (std::size_t i = 0; i < N; ++i) {
    if (rows[i] < 0 || rows[i] >= points.rows())
      throw InputError("row " + std::to_string(rows[i]) + " is not a row of " + points_name + " (0 to " +
                       std::to_string(points.rows() - 1) + ")");
    out[i] = points.row(rows[i]).transpose();
  }
  return out;
}

// The points in the slice's coordinates: its basis is orthonormal for a plane; for a line, the
// parameter t of x = a + t (b - a) (0 and 1 at the two points).
template <std::size_t N>
void add_anchors(CountingDomain& where, const std::array<Eigen::VectorXd, N>& points, const std::array<Eigen::Index, N>& rows) {
  const Slice& s = *where.slice;
  const Eigen::MatrixXd gram = s.basis.transpose() * s.basis;
  for (std::size_t i = 0; i < N; ++i)
    where.anchors.emplace_back(gram.ldlt().solve(s.basis.transpose() * (points[i] - s.origin)), "row " + std::to_string(rows[i]));
}

}  // namespace

CountingDomain on_plane(const Network& net, const Eigen::MatrixXd& points, const std::array<Eigen::Index, 3>& rows,
                        PlaneRegion region, double scale, const std::string& points_name) {
  const auto [p0, p1, p2] = pick_rows(net, points, rows, points_name);
  const std::string which = "rows " + std::to_string(rows[0]) + "," + std::to_string(rows[1]) + "," +
                            std::to_string(rows[2]) + " of " + points_name;
  CountingDomain out;
  try {
    out.slice = plane_through(p0, p1, p2);
  } catch (const InputError& e) {
    throw InputError(which + ": " + e.what());
  }
  out.slice->description = "the plane through " + which;
  out.domain = region == PlaneRegion::kTriangle ? triangle_domain(*out.slice, p0, p1, p2)
                                                : plane_box_domain(*out.slice, p0, p1, p2, scale);
  out.origin = DomainOrigin::kPlane;
  out.net = compose(net, *out.slice);
  add_anchors<3>(out, {p0, p1, p2}, rows);
  return out;
}

CountingDomain on_line(const Network& net, const Eigen::MatrixXd& points, const std::array<Eigen::Index, 2>& rows,
                       const std::string& points_name, double t_begin, double t_end) {
  if (!(t_begin < t_end) || !std::isfinite(t_begin) || !std::isfinite(t_end)) {
    std::ostringstream message;
    message << "expected a part of the segment t_begin < t_end, got " << t_begin << " and " << t_end;
    throw InputError(message.str());
  }
  const auto [a, b] = pick_rows(net, points, rows, points_name);
  CountingDomain out;
  try {
    out.slice = line_through(a, b);
  } catch (const InputError& e) {
    throw InputError("rows " + std::to_string(rows[0]) + "," + std::to_string(rows[1]) + " of " + points_name + ": " +
                     e.what());
  }
  out.slice->description = "the segment from row " + std::to_string(rows[0]) + " to row " + std::to_string(rows[1]) +
                           " of " + points_name + " (t = 0 to 1)";
  out.domain = Domain::cube(1, t_begin, t_end);
  out.origin = DomainOrigin::kLine;
  out.net = compose(net, *out.slice);
  add_anchors<2>(out, {a, b}, rows);
  return out;
}

namespace {

std::vector<double> to_std(const Eigen::VectorXd& v) { return {v.data(), v.data() + v.size()}; }

}  // namespace

std::string domain_json(const CountingDomain& where) {
  nlohmann::ordered_json out = {{"lo", to_std(where.domain.lo)},
                                {"hi", to_std(where.domain.hi)},
                                {"source", domain_origin_name(where.origin)}};
  if (!where.domain.extra.empty()) {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const Halfspace& h : where.domain.extra) rows.push_back({{"a", to_std(h.a)}, {"b", h.b}});
    out["halfspaces"] = rows;
  }
  if (where.slice) {
    nlohmann::ordered_json basis = nlohmann::ordered_json::array();
    for (Eigen::Index j = 0; j < where.slice->basis.cols(); ++j) basis.push_back(to_std(where.slice->basis.col(j)));
    out["slice"] = {{"description", where.slice->description}, {"origin", to_std(where.slice->origin)}, {"basis", basis}};
  }
  return out.dump();
}

}  // namespace relutope
