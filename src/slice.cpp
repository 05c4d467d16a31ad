#include "relutope/slice.h"

#include <glpk.h>

#include <Eigen/QR>
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "detail/exact_network.h"
#include "detail/glpk_problem.h"
#include "io/json_file.h"
#include "io/points.h"
#include "relutope/error.h"

namespace relutope {

Network compose(const Network& net, const Slice& slice) {
  net.validate();
  if (slice.origin.size() != net.input_dim())
    throw InputError("slice: the points have " + std::to_string(slice.origin.size()) + " coordinates but the network has " +
                     std::to_string(net.input_dim()) + " inputs");
  if (slice.basis.rows() != slice.origin.size())
    throw InputError("slice: the basis has " + std::to_string(slice.basis.rows()) + " rows but the origin " +
                     std::to_string(slice.origin.size()) + " coordinates");
  ExactAffineMap map = slice.exact;
  if (map.points.size() == 0) {  // origin and basis are the slice, exactly
    map.points.resize(slice.origin.size(), slice.dim() + 1);
    map.points << slice.origin, slice.basis;
    map.coords.resize(0, 0);
  } else if (map.points.rows() != slice.origin.size() || map.num_inputs() != slice.dim() ||
             (map.coords.size() != 0 && (map.coords.rows() != slice.dim() || map.coords.cols() != slice.dim() + 1))) {
    throw InputError("slice: its exact map does not have the slice's dimensions");
  }
  auto exact = std::make_shared<ExactDefinition>();
  if (net.exact) {
    *exact = *net.exact;
  } else {
    auto stored = std::make_shared<Network>(net);
    stored->default_domain.reset();
    exact->network = std::move(stored);
  }
  exact->input_maps.push_back(std::move(map));  // applied first, as the slice's u are the new inputs
  Network out = net;
  out.exact = std::move(exact);
  Layer& first = out.layers.front();
  first.bias = first.weight * slice.origin + first.bias;
  first.weight = first.weight * slice.basis;
  out.default_domain.reset();
  out.source = net.source + " on " + slice.description;
  return out;
}

namespace {

Eigen::Vector2d coords(const Slice& plane, const Eigen::VectorXd& p) { return plane.basis.transpose() * (p - plane.origin); }

// The edges of the triangle with corners c[0..2] as half-planes a·u <= b that hold the third corner:
// edge i joins c[i] and c[i + 1]. Their coefficients are rounded to doubles.
std::array<Halfspace, 3> triangle_edges(const std::array<Eigen::Vector2d, 3>& c) {
  std::array<Halfspace, 3> out;
  for (int i = 0; i < 3; ++i) {
    const Eigen::Vector2d& p = c[i];
    const Eigen::Vector2d& q = c[(i + 1) % 3];
    const Eigen::Vector2d& r = c[(i + 2) % 3];
    Halfspace& h = out[i];
    h.a = Eigen::Vector2d(q.y() - p.y(), p.x() - q.x());  // normal of edge pq
    h.b = h.a.dot(p);
    if (h.a.dot(r) > h.b) {  // point outwards, away from the third corner
      h.a = -h.a;
      h.b = -h.b;
    }
  }
  return out;
}

// Whether the plane's exact map is the one plane_through made for these three points.
bool made_for(const Slice& plane, const Eigen::VectorXd& p0, const Eigen::VectorXd& p1, const Eigen::VectorXd& p2) {
  const ExactAffineMap& m = plane.exact;
  return m.facets.size() == 3 && m.points.cols() == 3 && m.points.rows() == p0.size() && m.points.col(0) == p0 &&
         m.points.col(1) == p1 && m.points.col(2) == p2;
}

// q rounded to a double towards -inf (down) or +inf.
double round_to_double(const mpq_class& q, bool down) {
  double v = q.get_d();  // truncated towards zero
  const double towards = down ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  while (down ? mpq_class(v) > q : mpq_class(v) < q) v = std::nextafter(v, towards);
  return v;
}

}  // namespace

Slice plane_through(const Eigen::VectorXd& p0, const Eigen::VectorXd& p1, const Eigen::VectorXd& p2) {
  const Eigen::VectorXd e1 = p1 - p0, e2 = p2 - p0;
  const double scale = std::max(e1.norm(), e2.norm());
  Eigen::VectorXd u = e1 / e1.norm();
  Eigen::VectorXd v = e2 - u.dot(e2) * u;
  if (!(scale > 0) || v.norm() < 1e-9 * scale) throw InputError("the three points are (nearly) collinear: they span no plane");
  v /= v.norm();
  Slice s;
  s.origin = (p0 + p1 + p2) / 3;
  s.basis.resize(p0.size(), 2);
  s.basis.col(0) = u;
  s.basis.col(1) = v;
  s.description = "the plane through three points";
  // Exactly: the map that sends the corners of the triangle, as its rounded edges define it, to the
  // three points (within a rounding of origin + basis u).
  const std::array<Eigen::Vector2d, 3> c = {coords(s, p0), coords(s, p1), coords(s, p2)};
  const std::array<Halfspace, 3> edges = triangle_edges(c);
  s.exact.points.resize(p0.size(), 3);
  s.exact.points << p0, p1, p2;
  s.exact.coords.resize(2, 3);
  s.exact.coords << c[0], c[1], c[2];
  s.exact.facets = {edges[1], edges[2], edges[0]};  // corner j is opposite edge j + 1
  return s;
}

Domain triangle_domain(const Slice& plane, const Eigen::VectorXd& p0, const Eigen::VectorXd& p1, const Eigen::VectorXd& p2) {
  if (made_for(plane, p0, p1, p2)) {
    // The triangle of the exact map's facets; its box is that of its exact corners rounded outwards,
    // so that the box adds no vertex and the corners are exactly those the map sends to the points.
    const std::vector<detail::ExactNetwork::Vector> corners = detail::exact_anchors(plane.exact);
    Eigen::Vector2d lo, hi;
    for (int i = 0; i < 2; ++i) {
      const mpq_class least = std::min({corners[0][i], corners[1][i], corners[2][i]});
      const mpq_class most = std::max({corners[0][i], corners[1][i], corners[2][i]});
      lo[i] = round_to_double(least, true);
      hi[i] = round_to_double(most, false);
    }
    Domain d = Domain::box(lo, hi);
    const std::vector<Halfspace>& f = plane.exact.facets;
    d.extra = {f[2], f[0], f[1]};
    return d;
  }
  const std::array<Eigen::Vector2d, 3> c = {coords(plane, p0), coords(plane, p1), coords(plane, p2)};
  Domain d = Domain::box(c[0].cwiseMin(c[1]).cwiseMin(c[2]), c[0].cwiseMax(c[1]).cwiseMax(c[2]));
  const std::array<Halfspace, 3> edges = triangle_edges(c);
  d.extra.assign(edges.begin(), edges.end());
  return d;
}

Domain plane_box_domain(const Slice& plane, const Eigen::VectorXd& p0, const Eigen::VectorXd& p1, const Eigen::VectorXd& p2,
                        double scale) {
  if (!(scale > 0)) {
    std::ostringstream message;
    message << "scale: expected a positive number, got " << scale;
    throw InputError(message.str());
  }
  const Eigen::Vector2d a = coords(plane, p0), b = coords(plane, p1), c = coords(plane, p2);
  const double half = scale * std::max({a.cwiseAbs().maxCoeff(), b.cwiseAbs().maxCoeff(), c.cwiseAbs().maxCoeff()});
  return Domain::cube(2, -half, half);
}

Slice line_through(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  if ((b - a).norm() == 0) throw InputError("the two points are the same: they span no line");
  Slice s;
  s.origin = a;
  s.basis = b - a;
  s.exact.points.resize(a.size(), 2);
  s.exact.points << a, b;
  s.exact.coords = Eigen::RowVector2d(0, 1);
  s.description = "the segment between two points";
  return s;
}

Eigen::MatrixXd load_points(const std::string& path) {
  if (path.size() > 4 && path.substr(path.size() - 4) == ".npy") return detail::read_npy_points(path);
  return detail::read_csv_points(path);
}

namespace {

// max/min of x_i over { A x <= b } (and the box if given): one small LP each.
double extreme(const Eigen::MatrixXd& A, const Eigen::VectorXd& b, int i, bool maximise, int& status) {
  const int n = static_cast<int>(A.cols()), m = static_cast<int>(A.rows());
  const detail::GlpkProblem lp = detail::make_glpk_problem();
  glp_set_obj_dir(lp.get(), maximise ? GLP_MAX : GLP_MIN);
  glp_add_cols(lp.get(), n);
  for (int j = 1; j <= n; ++j) glp_set_col_bnds(lp.get(), j, GLP_FR, 0, 0);
  glp_set_obj_coef(lp.get(), i + 1, 1);
  glp_add_rows(lp.get(), m);
  std::vector<int> index(n + 1);
  std::vector<double> value(n + 1);
  for (int j = 0; j < n; ++j) index[j + 1] = j + 1;
  for (int r = 0; r < m; ++r) {
    for (int j = 0; j < n; ++j) value[j + 1] = A(r, j);
    glp_set_mat_row(lp.get(), r + 1, n, index.data(), value.data());
    glp_set_row_bnds(lp.get(), r + 1, GLP_UP, 0, b[r]);
  }
  glp_smcp params;
  glp_init_smcp(&params);
  params.msg_lev = GLP_MSG_OFF;
  glp_simplex(lp.get(), &params);
  status = glp_get_status(lp.get());
  return glp_get_obj_val(lp.get());
}

}  // namespace

Domain load_polytope_domain(const std::string& path) {
  using nlohmann::json;
  const json doc = detail::read_json_file(path);
  const std::vector<std::string> keys = {"A", "b", "lo", "hi"};
  if (!doc.is_object())
    throw InputError(path + ": expected an object {\"A\": [[...], ...], \"b\": [...]} (rows of A x <= b), got " +
                     std::string(doc.type_name()));
  // Every problem goes into one message, as for models.
  std::ostringstream problems;
  auto fail = [&](const std::string& where, const std::string& what) { problems << "\n  " << where << ": " << what; };
  std::vector<std::string> meant;
  for (const std::string& key : detail::unknown_keys(doc, keys)) {
    fail("top level", detail::unknown_key_message(key, keys));
    meant.push_back(detail::closest_key(key, keys));
  }
  auto missing = [&](const std::string& key) {
    return !doc.contains(key) && std::find(meant.begin(), meant.end(), key) == meant.end();
  };
  auto read_vector = [&](const json& v, const std::string& what, Eigen::Index size) {
    Eigen::VectorXd out;
    if (!v.is_array()) {
      fail(what, "expected an array of numbers, got " + std::string(v.type_name()));
      return out;
    }
    if (size >= 0 && static_cast<Eigen::Index>(v.size()) != size) {
      fail(what, "expected " + std::to_string(size) + " numbers, got " + std::to_string(v.size()));
      return out;
    }
    out.resize(static_cast<Eigen::Index>(v.size()));
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_number()) {
        fail(what + "[" + std::to_string(i) + "]", "expected a number, got " + v[i].dump().substr(0, 40));
        return Eigen::VectorXd();
      }
      out[static_cast<Eigen::Index>(i)] = v[i].get<double>();
    }
    return out;
  };
  if (missing("A")) fail("top level", "missing key \"A\" (the rows of A x <= b)");
  if (missing("b")) fail("top level", "missing key \"b\" (the right-hand sides of A x <= b)");
  Eigen::MatrixXd A;
  Eigen::VectorXd b;
  Eigen::Index n = -1;
  if (doc.contains("A")) {
    const json& rows = doc["A"];
    if (!rows.is_array() || rows.empty() || !rows[0].is_array() || rows[0].empty()) {
      fail("A", "expected a non-empty array of non-empty rows, got " + rows.dump().substr(0, 40));
    } else {
      n = static_cast<Eigen::Index>(rows[0].size());
      A.resize(static_cast<Eigen::Index>(rows.size()), n);
      for (std::size_t r = 0; r < rows.size(); ++r) {
        const Eigen::VectorXd row = read_vector(rows[r], "A[" + std::to_string(r) + "]", n);
        if (row.size() != n) break;
        A.row(static_cast<Eigen::Index>(r)) = row.transpose();
      }
    }
  }
  if (doc.contains("b")) b = read_vector(doc["b"], "b", A.rows() > 0 ? A.rows() : -1);
  if (doc.contains("lo") != doc.contains("hi")) fail("top level", "\"lo\" and \"hi\" go together: give both or neither");
  Domain d;
  const bool has_box = doc.contains("lo") && doc.contains("hi");
  if (has_box) {
    d.lo = read_vector(doc["lo"], "lo", n);
    d.hi = read_vector(doc["hi"], "hi", n);
  }
  const std::string found = problems.str();
  if (!found.empty()) throw InputError(path + ": invalid domain:" + found);
  const int m = static_cast<int>(A.rows());
  if (!has_box) {
    d.lo.resize(n);
    d.hi.resize(n);
    for (int i = 0; i < n; ++i)
      for (bool maximise : {false, true}) {
        int status = 0;
        const double v = extreme(A, b, i, maximise, status);
        if (status == GLP_NOFEAS) throw InputError(path + ": the polytope is empty (A x <= b has no solution)");
        if (status == GLP_UNBND)
          throw InputError(path + ": the polytope is unbounded in coordinate " + std::to_string(i) +
                           " (add rows, or give \"lo\" and \"hi\")");
        if (status != GLP_OPT) throw InputError(path + ": could not bound coordinate " + std::to_string(i));
        (maximise ? d.hi : d.lo)[i] = v;
      }
  }
  for (int r = 0; r < m; ++r) {
    Halfspace h;
    h.a = A.row(r).transpose();
    h.b = b[r];
    d.extra.push_back(h);
  }
  try {
    d.validate();
  } catch (const InputError& e) {
    throw InputError(path + ": " + e.what());
  }
  return d;
}

}  // namespace relutope
