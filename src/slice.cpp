#include "relutope/slice.h"

#include <glpk.h>

#include <Eigen/QR>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "relutope/error.h"

namespace relutope {

Network compose(const Network& net, const Slice& slice) {
  net.validate();
  if (slice.origin.size() != net.input_dim())
    throw InputError("slice: the points have " + std::to_string(slice.origin.size()) + " coordinates but the network has " +
                     std::to_string(net.input_dim()) + " inputs");
  Network out = net;
  Layer& first = out.layers.front();
  first.bias = first.weight * slice.origin + first.bias;
  first.weight = first.weight * slice.basis;
  out.default_domain.reset();
  out.source = net.source + " on " + slice.description;
  return out;
}

Slice plane_through(const Eigen::VectorXd& p0, const Eigen::VectorXd& p1, const Eigen::VectorXd& p2) {
  const Eigen::VectorXd e1 = p1 - p0, e2 = p2 - p0;
  const double scale = std::max(e1.norm(), e2.norm());
  Eigen::VectorXd u = e1 / e1.norm();
  Eigen::VectorXd v = e2 - u.dot(e2) * u;
  if (!(scale > 0) || v.norm() < 1e-9 * scale) throw InputError("--plane: the three points are (nearly) collinear");
  v /= v.norm();
  Slice s;
  s.origin = (p0 + p1 + p2) / 3;
  s.basis.resize(p0.size(), 2);
  s.basis.col(0) = u;
  s.basis.col(1) = v;
  s.description = "the plane through three points";
  return s;
}

namespace {

Eigen::Vector2d coords(const Slice& plane, const Eigen::VectorXd& p) { return plane.basis.transpose() * (p - plane.origin); }

}  // namespace

Domain triangle_domain(const Slice& plane, const Eigen::VectorXd& p0, const Eigen::VectorXd& p1, const Eigen::VectorXd& p2) {
  const Eigen::Vector2d a = coords(plane, p0), b = coords(plane, p1), c = coords(plane, p2);
  Domain d = Domain::box(a.cwiseMin(b).cwiseMin(c), a.cwiseMax(b).cwiseMax(c));
  const Eigen::Vector2d corners[3] = {a, b, c};
  for (int i = 0; i < 3; ++i) {
    const Eigen::Vector2d& p = corners[i];
    const Eigen::Vector2d& q = corners[(i + 1) % 3];
    const Eigen::Vector2d& r = corners[(i + 2) % 3];
    Halfspace h;
    h.a = Eigen::Vector2d(q.y() - p.y(), p.x() - q.x());  // normal of edge pq
    h.b = h.a.dot(p);
    if (h.a.dot(r) > h.b) {  // point outwards, away from the third corner
      h.a = -h.a;
      h.b = -h.b;
    }
    d.extra.push_back(h);
  }
  return d;
}

Domain plane_box_domain(const Slice& plane, const Eigen::VectorXd& p0, const Eigen::VectorXd& p1, const Eigen::VectorXd& p2,
                        double scale) {
  if (!(scale > 0)) throw InputError("--plane-scale: expected a positive number");
  const Eigen::Vector2d a = coords(plane, p0), b = coords(plane, p1), c = coords(plane, p2);
  const double half = scale * std::max({a.cwiseAbs().maxCoeff(), b.cwiseAbs().maxCoeff(), c.cwiseAbs().maxCoeff()});
  return Domain::cube(2, -half, half);
}

Slice line_through(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  if ((b - a).norm() == 0) throw InputError("--line: the two points are the same");
  Slice s;
  s.origin = a;
  s.basis = b - a;
  s.description = "the segment between two points";
  return s;
}

namespace {

Eigen::MatrixXd load_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) throw InputError(path + ": not a .npy file");
  std::uint32_t header_len = 0;
  if (magic[6] == 1) {
    unsigned char len[2];
    in.read(reinterpret_cast<char*>(len), 2);
    header_len = len[0] | (len[1] << 8);
  } else {
    unsigned char len[4];
    in.read(reinterpret_cast<char*>(len), 4);
    header_len = len[0] | (len[1] << 8) | (len[2] << 16) | (static_cast<std::uint32_t>(len[3]) << 24);
  }
  std::string header(header_len, '\0');
  if (!in.read(header.data(), header_len)) throw InputError(path + ": truncated .npy header");
  const bool f8 = header.find("'<f8'") != std::string::npos, f4 = header.find("'<f4'") != std::string::npos;
  if (!f8 && !f4) throw InputError(path + ": .npy dtype must be little-endian float64 or float32 (header: " + header + ")");
  if (header.find("'fortran_order': True") != std::string::npos) throw InputError(path + ": .npy in Fortran order is not supported");
  const auto open = header.find('(', header.find("'shape'")), close = header.find(')', open);
  std::vector<long> shape;
  std::stringstream dims(header.substr(open + 1, close - open - 1));
  std::string item;
  while (std::getline(dims, item, ','))
    if (item.find_first_not_of(' ') != std::string::npos) shape.push_back(std::stol(item));
  if (shape.size() != 2) throw InputError(path + ": expected a 2-D array (points x coordinates)");
  Eigen::MatrixXd m(shape[0], shape[1]);
  for (long i = 0; i < shape[0]; ++i)
    for (long j = 0; j < shape[1]; ++j) {
      if (f8) {
        double v;
        in.read(reinterpret_cast<char*>(&v), 8);
        m(i, j) = v;
      } else {
        float v;
        in.read(reinterpret_cast<char*>(&v), 4);
        m(i, j) = v;
      }
    }
  if (!in) throw InputError(path + ": truncated .npy data");
  return m;
}

}  // namespace

Eigen::MatrixXd load_points(const std::string& path) {
  if (path.size() > 4 && path.substr(path.size() - 4) == ".npy") return load_npy(path);
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open file (does it exist and is it readable?)");
  std::vector<std::vector<double>> rows;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    for (char& ch : line)
      if (ch == ',' || ch == '\t' || ch == ';' || ch == '\r') ch = ' ';
    std::stringstream fields(line);
    std::vector<double> row;
    std::string field;
    bool numeric = true;
    while (fields >> field) {
      char* end = nullptr;
      const double v = std::strtod(field.c_str(), &end);
      if (*end != '\0') {
        numeric = false;
        if (!rows.empty() || number > 1)
          throw InputError(path + ":" + std::to_string(number) + ": field " + std::to_string(row.size()) +
                           " is not a number: \"" + field + "\"");
        break;
      }
      row.push_back(v);
    }
    if (!numeric || row.empty()) continue;  // a header line, or a blank line
    if (!rows.empty() && row.size() != rows[0].size())
      throw InputError(path + ":" + std::to_string(number) + ": expected " + std::to_string(rows[0].size()) + " values, got " +
                       std::to_string(row.size()));
    rows.push_back(std::move(row));
  }
  if (rows.empty()) throw InputError(path + ": no points");
  Eigen::MatrixXd m(rows.size(), rows[0].size());
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t j = 0; j < rows[i].size(); ++j) m(i, j) = rows[i][j];
  return m;
}

namespace {

// max/min of x_i over { A x <= b } (and the box if given): one small LP each.
double extreme(const Eigen::MatrixXd& A, const Eigen::VectorXd& b, int i, bool maximise, int& status) {
  const int n = static_cast<int>(A.cols()), m = static_cast<int>(A.rows());
  std::unique_ptr<glp_prob, void (*)(glp_prob*)> lp(glp_create_prob(), glp_delete_prob);
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
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open file (does it exist and is it readable?)");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path + ": not valid JSON: " + e.what());
  }
  auto read_vector = [&](const nlohmann::json& v, const std::string& what) {
    if (!v.is_array()) throw InputError(path + ": " + what + ": expected an array of numbers");
    Eigen::VectorXd out(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_number()) throw InputError(path + ": " + what + "[" + std::to_string(i) + "]: expected a number");
      out[i] = v[i].get<double>();
      if (!std::isfinite(out[i])) throw InputError(path + ": " + what + "[" + std::to_string(i) + "]: not finite");
    }
    return out;
  };
  if (!doc.is_object() || !doc.contains("A") || !doc.contains("b") || !doc["A"].is_array() || doc["A"].empty())
    throw InputError(path + ": expected {\"A\": [[...], ...], \"b\": [...]} (rows of A x <= b)");
  const Eigen::VectorXd b = read_vector(doc["b"], "b");
  const int m = static_cast<int>(doc["A"].size());
  const Eigen::VectorXd row0 = read_vector(doc["A"][0], "A[0]");
  const int n = static_cast<int>(row0.size());
  Eigen::MatrixXd A(m, n);
  for (int r = 0; r < m; ++r) {
    const Eigen::VectorXd row = read_vector(doc["A"][r], "A[" + std::to_string(r) + "]");
    if (row.size() != n) throw InputError(path + ": A[" + std::to_string(r) + "]: expected " + std::to_string(n) + " entries");
    A.row(r) = row.transpose();
  }
  if (b.size() != m) throw InputError(path + ": b: expected " + std::to_string(m) + " entries (one per row of A)");
  Domain d;
  if (doc.contains("lo") || doc.contains("hi")) {
    d.lo = read_vector(doc.value("lo", nlohmann::json()), "lo");
    d.hi = read_vector(doc.value("hi", nlohmann::json()), "hi");
  } else {
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
