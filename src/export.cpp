#include "relutope/export.h"

#include <Eigen/Geometry>
#include <Eigen/LU>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>

#include "relutope/error.h"
#include "relutope/polytope.h"

namespace relutope {

const std::vector<std::string>& jsonl_fields() {
  static const std::vector<std::string> kFields = {"id",        "pattern",  "interior_point", "volume",
                                                   "centroid",  "chebyshev_center", "inradius", "vertices",
                                                   "halfspaces", "map",      "depth"};
  return kFields;
}

JsonlWriter::JsonlWriter(std::ostream& out, const Network& net, const Domain& domain, const std::set<std::string>& fields)
    : out_(out), net_(net), domain_(domain), fields_(fields) {
  for (const std::string& f : fields)
    if (std::find(jsonl_fields().begin(), jsonl_fields().end(), f) == jsonl_fields().end()) {
      std::string known;
      for (const std::string& k : jsonl_fields()) known += (known.empty() ? "" : ", ") + k;
      throw InputError("unknown field \"" + f + "\" (known: " + known + ")");
    }
}

std::optional<std::string> neighbor_pattern(const Network& net, const Domain& domain, const Region& region,
                                            std::size_t f) {
  const Halfspace& h = region.halfspaces[f];
  if (h.origin.kind == HalfspaceOrigin::Kind::kDomain) return std::nullopt;
  Eigen::VectorXd point = Eigen::VectorXd::Zero(h.a.size());
  for (int v : region.facet_vertices[f]) point += region.vertices[v];
  point /= static_cast<double>(region.facet_vertices[f].size());
  // A step far below any region's size but far above rounding, outwards across the facet.
  point += (1e-7 * domain.diameter() / h.a.norm()) * h.a;
  ActivationPattern pattern;
  net.evaluate(point, &pattern);
  return pattern_string(pattern, net);
}

namespace {

// A JSON line written straight into a string: regions are many and small, and building a DOM
// (nlohmann::json) for each cost more than everything else in an export. Doubles print in the
// shortest form that reads back exactly (std::to_chars), like nlohmann's dump.
class Line {
 public:
  explicit Line(std::string& out) : out_(out) { out_.clear(); }
  Line& key(const char* name) {
    out_ += first_ ? "{\"" : ",\"";
    first_ = false;
    out_ += name;
    out_ += "\":";
    return *this;
  }
  void close() { out_ += first_ ? "{}\n" : "}\n"; }
  void number(double v) {
    if (!std::isfinite(v)) {
      out_ += "null";
      return;
    }
    char buffer[32];
    const auto end = std::to_chars(buffer, buffer + sizeof buffer, v).ptr;
    out_.append(buffer, end);
    if (std::find_if(buffer, end, [](char c) { return c == '.' || c == 'e' || c == 'n' || c == 'i'; }) == end)
      out_ += ".0";  // keep it a JSON float, as nlohmann does
  }
  void integer(long long v) { out_ += std::to_string(v); }
  void string(const std::string& s) {  // patterns and fixed words only: nothing to escape
    out_ += '"';
    out_ += s;
    out_ += '"';
  }
  template <class V>
  void numbers(const V& v) {
    out_ += '[';
    for (Eigen::Index i = 0; i < v.size(); ++i) {
      if (i) out_ += ',';
      number(v[i]);
    }
    out_ += ']';
  }
  void raw(const char* text) { out_ += text; }

 private:
  std::string& out_;
  bool first_ = true;
};

}  // namespace

void JsonlWriter::write(const Region& region) { write_formatted(format(region)); }

void JsonlWriter::write_formatted(const std::string& line) {
  if (has("id")) {
    out_ << "{\"id\":" << num_written_;
    if (line.size() > 3) out_ << ',';  // more fields than "{}\n"
    out_.write(line.data() + 1, static_cast<std::streamsize>(line.size() - 1));
  } else {
    out_ << line;
  }
  ++num_written_;
}

std::string JsonlWriter::format(const Region& region) const {
  std::string text;
  Line line(text);
  const bool has_vertices = !region.vertices.empty();
  if (has("pattern")) line.key("pattern").string(pattern_string(region.pattern, net_));
  if (has("interior_point")) line.key("interior_point").numbers(region.interior_point);
  const bool measures = has_vertices && (has("volume") || has("centroid") || has("chebyshev_center") || has("inradius"));
  if (measures) {
    const PolytopeMeasures m = measure_polytope(region);
    if (has("volume")) line.key("volume").number(m.volume);
    if (has("centroid")) line.key("centroid").numbers(m.centroid);
    if (has("chebyshev_center")) line.key("chebyshev_center").numbers(m.chebyshev_center);
    if (has("inradius")) line.key("inradius").number(m.inradius);
  }
  if (has("vertices") && has_vertices) {
    line.key("vertices").raw("[");
    for (std::size_t v = 0; v < region.vertices.size(); ++v) {
      if (v) line.raw(",");
      line.numbers(region.vertices[v]);
    }
    line.raw("]");
  }
  if (has("halfspaces")) {
    line.key("halfspaces").raw("[");
    for (std::size_t f = 0; f < region.halfspaces.size(); ++f) {
      const Halfspace& h = region.halfspaces[f];
      if (f) line.raw(",");
      line.raw("{\"a\":");
      line.numbers(h.a);
      line.raw(",\"b\":");
      line.number(h.b);
      if (h.origin.kind == HalfspaceOrigin::Kind::kNeuron) {
        line.raw(",\"origin\":{\"kind\":\"neuron\",\"layer\":");
        line.integer(h.origin.layer);
        line.raw(",\"neuron\":");
        line.integer(h.origin.neuron);
        line.raw(h.origin.active ? ",\"side\":\"active\"}" : ",\"side\":\"inactive\"}");
      } else if (h.origin.kind == HalfspaceOrigin::Kind::kMaxUnit) {
        line.raw(",\"origin\":{\"kind\":\"max\",\"layer\":");
        line.integer(h.origin.layer);
        line.raw(",\"unit\":");
        line.integer(h.origin.neuron);
        line.raw(",\"row\":");
        line.integer(h.origin.row);
        line.raw(",\"over\":");
        line.integer(h.origin.other_row);
        line.raw("}");
      } else {
        line.raw(",\"origin\":{\"kind\":\"domain\",\"constraint\":");
        line.integer(h.origin.neuron);
        line.raw("}");
      }
      if (has_vertices) {
        line.raw(",\"vertices\":[");
        for (std::size_t k = 0; k < region.facet_vertices[f].size(); ++k) {
          if (k) line.raw(",");
          line.integer(region.facet_vertices[f][k]);
        }
        line.raw("],\"neighbor\":");
        const std::optional<std::string> across = neighbor_pattern(net_, domain_, region, f);
        if (!across) line.raw("null");
        else line.string(*across);
      }
      line.raw("}");
    }
    line.raw("]");
  }
  if (has("map") && region.map_weight.size()) {
    line.key("map").raw("{\"weight\":[");
    for (Eigen::Index i = 0; i < region.map_weight.rows(); ++i) {
      if (i) line.raw(",");
      line.numbers(region.map_weight.row(i));
    }
    line.raw("],\"bias\":");
    line.numbers(region.map_bias);
    line.raw("}");
  }
  if (has("depth")) line.key("depth").number(region.depth);
  line.close();
  return text;
}

const std::vector<std::string>& walked_jsonl_fields() {
  static const std::vector<std::string> kFields = {"id",     "pattern",  "pattern_changes", "interior_point",
                                                   "volume", "centroid", "vertices",        "map"};
  return kFields;
}

Region walked_region_geometry(const WalkedRegion& region, const Eigen::VectorXd& offset, const Eigen::MatrixXd& linear) {
  Region out;
  const Eigen::Index k = offset.size();
  if (linear.rows() != k || linear.cols() != k || region.output.cols() != k + 1)
    throw InputError("walked region: the map to the slice is " + std::to_string(linear.rows()) + "x" +
                     std::to_string(linear.cols()) + " for " + std::to_string(region.output.cols() - 1) + " coordinates");
  if (k == 2) {
    for (const Eigen::Vector2d& w : region.polygon) out.vertices.push_back(offset + linear * w);
    if (linear.determinant() < 0) std::reverse(out.vertices.begin(), out.vertices.end());  // keep them counter-clockwise
    double twice = 0;
    for (std::size_t i = 0; i < out.vertices.size(); ++i) {
      const Eigen::VectorXd& p = out.vertices[i];
      const Eigen::VectorXd& q = out.vertices[(i + 1) % out.vertices.size()];
      twice += p[0] * q[1] - q[0] * p[1];
    }
    out.volume = 0.5 * twice;
  } else {
    for (double t : {region.t_begin, region.t_end})
      out.vertices.push_back(offset + linear * Eigen::VectorXd::Constant(1, t));
    out.volume = std::abs(out.vertices[1][0] - out.vertices[0][0]);
  }
  out.interior_point = Eigen::VectorXd::Zero(k);
  for (const Eigen::VectorXd& v : out.vertices) out.interior_point += v;
  out.interior_point /= static_cast<double>(out.vertices.size());
  // output = O0 + Ow w, w = linear^-1 (u - offset)
  const Eigen::MatrixXd inverse = linear.inverse();
  out.map_weight = region.output.rightCols(k) * inverse;
  out.map_bias = region.output.col(0) - out.map_weight * offset;
  return out;
}

void write_walked_jsonl(std::ostream& out, const Graph& graph, const WalkedRegions& walked,
                        const std::vector<Region>& geometry, const std::set<std::string>& fields) {
  const std::vector<std::string>& known = walked_jsonl_fields();
  for (const std::string& f : fields)
    if (std::find(known.begin(), known.end(), f) == known.end()) {
      std::string list;
      for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
      throw InputError("unknown field \"" + f + "\" for regions found by the walk through the graph (it writes: " + list +
                       ")");
    }
  auto has = [&](const char* f) { return fields.empty() || fields.count(f) > 0; };
  const GraphPattern layout(graph);
  const bool every_pattern = layout.num_entries() <= kFullPatternEntries;
  std::string text;
  for (std::size_t i = 0; i < walked.regions.size(); ++i) {
    const WalkedRegion& r = walked.regions[i];
    const Region& g = geometry[i];
    Line line(text);
    if (has("id")) line.key("id").integer(static_cast<long long>(i));
    if (has("pattern") && (every_pattern || i == 0)) line.key("pattern").string(layout.text(walked.pattern(i)));
    if (has("pattern_changes")) {
      line.key("pattern_changes").raw("[");
      for (std::size_t c = 0; c < r.changes.size(); ++c) {
        const auto [layer, unit] = layout.locate(r.changes[c].entry);
        line.raw(c ? ",[" : "[");
        line.integer(layer);
        line.raw(",");
        line.integer(unit);
        line.raw(",");
        line.integer(r.changes[c].state);
        line.raw("]");
      }
      line.raw("]");
    }
    if (has("interior_point")) line.key("interior_point").numbers(g.interior_point);
    if (has("volume")) line.key("volume").number(g.volume ? *g.volume : 0.0);
    if (has("centroid")) {
      Eigen::VectorXd centroid = g.interior_point;
      if (g.vertices.size() > 2) {  // a polygon's centroid of area
        Eigen::Vector2d c(0, 0);
        double twice = 0;
        for (std::size_t v = 0; v < g.vertices.size(); ++v) {
          const Eigen::VectorXd& p = g.vertices[v];
          const Eigen::VectorXd& q = g.vertices[(v + 1) % g.vertices.size()];
          const double cross = p[0] * q[1] - q[0] * p[1];
          twice += cross;
          c += cross * Eigen::Vector2d(p[0] + q[0], p[1] + q[1]);
        }
        if (twice != 0) centroid = c / (3 * twice);
      }
      line.key("centroid").numbers(centroid);
    }
    if (has("vertices")) {
      line.key("vertices").raw("[");
      for (std::size_t v = 0; v < g.vertices.size(); ++v) {
        if (v) line.raw(",");
        line.numbers(g.vertices[v]);
      }
      line.raw("]");
    }
    if (has("map")) {
      line.key("map").raw("{\"weight\":[");
      for (Eigen::Index row = 0; row < g.map_weight.rows(); ++row) {
        if (row) line.raw(",");
        line.numbers(g.map_weight.row(row));
      }
      line.raw("],\"bias\":");
      line.numbers(g.map_bias);
      line.raw("}");
    }
    line.close();
    out << text;
  }
}

void CellMesh::add(const Region& region, std::uint64_t cell) {
  if (region.vertices.empty() || region.vertices.front().size() != 3)
    throw InputError("mesh export: regions need vertices in 3 dimensions (a 3-input network, vertex engine)");
  const int base = static_cast<int>(vertices.size());
  for (const Eigen::VectorXd& v : region.vertices) vertices.emplace_back(v[0], v[1], v[2]);
  for (std::size_t f = 0; f < region.halfspaces.size(); ++f) {
    const Eigen::Vector3d normal = region.halfspaces[f].a.normalized();
    std::vector<int> face = region.facet_vertices[f];
    Eigen::Vector3d centre = Eigen::Vector3d::Zero();
    for (int v : face) centre += vertices[base + v];
    centre /= static_cast<double>(face.size());
    // Order the facet's vertices by angle around its centre, counter-clockwise about the outward normal.
    const Eigen::Vector3d u = (vertices[base + face[0]] - centre).normalized();
    const Eigen::Vector3d w = normal.cross(u);
    std::vector<double> angle(face.size());
    for (std::size_t i = 0; i < face.size(); ++i) {
      const Eigen::Vector3d r = vertices[base + face[i]] - centre;
      angle[i] = std::atan2(r.dot(w), r.dot(u));
    }
    std::vector<std::size_t> order(face.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return angle[a] < angle[b]; });
    std::vector<int> ordered;
    for (std::size_t i : order) ordered.push_back(base + face[i]);
    faces.push_back(std::move(ordered));
    face_cell.push_back(cell);
  }
}

namespace {

// A distinct, stable colour per cell (golden-ratio hues).
void cell_colour(std::uint64_t cell, int& r, int& g, int& b) {
  const double h = std::fmod(cell * 0.618033988749895, 1.0) * 6;
  const double x = 1 - std::abs(std::fmod(h, 2.0) - 1);
  double rgb[3];
  const int sector = static_cast<int>(h);
  const double c = 1;
  switch (sector) {
    case 0: rgb[0] = c, rgb[1] = x, rgb[2] = 0; break;
    case 1: rgb[0] = x, rgb[1] = c, rgb[2] = 0; break;
    case 2: rgb[0] = 0, rgb[1] = c, rgb[2] = x; break;
    case 3: rgb[0] = 0, rgb[1] = x, rgb[2] = c; break;
    case 4: rgb[0] = x, rgb[1] = 0, rgb[2] = c; break;
    default: rgb[0] = c, rgb[1] = 0, rgb[2] = x; break;
  }
  r = static_cast<int>(90 + 150 * rgb[0]);
  g = static_cast<int>(90 + 150 * rgb[1]);
  b = static_cast<int>(90 + 150 * rgb[2]);
}

// "k v0 .. vk-1 [cell] r g b": the face lines OFF and PLY share.
void write_faces(std::ostream& out, const CellMesh& mesh, bool with_cell) {
  for (std::size_t f = 0; f < mesh.faces.size(); ++f) {
    out << mesh.faces[f].size();
    for (int v : mesh.faces[f]) out << ' ' << v;
    int r, g, b;
    cell_colour(mesh.face_cell[f], r, g, b);
    if (with_cell) out << ' ' << mesh.face_cell[f];
    out << ' ' << r << ' ' << g << ' ' << b << '\n';
  }
}

}  // namespace

void write_off(std::ostream& out, const CellMesh& mesh) {
  out.precision(17);
  out << "OFF\n" << mesh.vertices.size() << ' ' << mesh.faces.size() << " 0\n";
  for (const Eigen::Vector3d& v : mesh.vertices) out << v[0] << ' ' << v[1] << ' ' << v[2] << '\n';
  write_faces(out, mesh, false);
}

void write_ply(std::ostream& out, const CellMesh& mesh) {
  out.precision(17);
  out << "ply\nformat ascii 1.0\ncomment relutope: one closed cell per region\n"
      << "element vertex " << mesh.vertices.size() << "\nproperty double x\nproperty double y\nproperty double z\n"
      << "element face " << mesh.faces.size() << "\nproperty list uchar int vertex_indices\nproperty int cell\n"
      << "property uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n";
  for (const Eigen::Vector3d& v : mesh.vertices) out << v[0] << ' ' << v[1] << ' ' << v[2] << '\n';
  write_faces(out, mesh, true);
}

void write_obj(std::ostream& out, const CellMesh& mesh) {
  out.precision(17);
  out << "# relutope: one closed cell per region, one group per cell\n";
  for (const Eigen::Vector3d& v : mesh.vertices) out << "v " << v[0] << ' ' << v[1] << ' ' << v[2] << '\n';
  std::uint64_t current = ~std::uint64_t{0};
  for (std::size_t f = 0; f < mesh.faces.size(); ++f) {
    if (mesh.face_cell[f] != current) {
      current = mesh.face_cell[f];
      out << "g cell_" << current << '\n';
    }
    out << 'f';
    for (int v : mesh.faces[f]) out << ' ' << v + 1;
    out << '\n';
  }
}

}  // namespace relutope
