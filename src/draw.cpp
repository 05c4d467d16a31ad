#include "relutope/draw.h"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <sstream>

#include "relutope/error.h"

namespace relutope {

ColorBy parse_color_by(const std::string& name) {
  if (name == "region") return ColorBy::kRegion;
  if (name == "output") return ColorBy::kOutput;
  if (name == "class") return ColorBy::kClass;
  throw InputError("--color: expected region, output or class, got \"" + name + "\"");
}

namespace {

struct Rgb {
  double r, g, b;
};

using Polygon = std::vector<Eigen::Vector2d>;

// What both back ends draw: polygons, segments and text, in pixel coordinates.
class Canvas {
 public:
  virtual ~Canvas() = default;
  virtual void polygon(const Polygon& p, Rgb fill, Rgb stroke, double stroke_width) = 0;
  virtual void segment(const Eigen::Vector2d& a, const Eigen::Vector2d& b, Rgb colour, double width) = 0;
  virtual void text(double x, double y, const std::string& s, double size) = 0;
  virtual void dot(const Eigen::Vector2d& at, double radius, Rgb fill) = 0;
};

std::string hex(Rgb c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", static_cast<int>(std::lround(255 * c.r)),
                static_cast<int>(std::lround(255 * c.g)), static_cast<int>(std::lround(255 * c.b)));
  return buf;
}

class SvgCanvas : public Canvas {
 public:
  SvgCanvas(std::ostream& out, int width, int height) : out_(out) {
    out_ << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width
         << "\" height=\"" << height << "\" viewBox=\"0 0 " << width << ' ' << height << "\">\n"
         << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    out_.precision(6);
  }
  ~SvgCanvas() override { out_ << "</svg>\n"; }
  void polygon(const Polygon& p, Rgb fill, Rgb stroke, double width) override {
    out_ << "<polygon points=\"";
    for (const auto& q : p) out_ << q.x() << ',' << q.y() << ' ';
    out_ << "\" fill=\"" << hex(fill) << "\" stroke=\"" << hex(stroke) << "\" stroke-width=\"" << width
         << "\" stroke-linejoin=\"round\"/>\n";
  }
  void segment(const Eigen::Vector2d& a, const Eigen::Vector2d& b, Rgb c, double width) override {
    out_ << "<line x1=\"" << a.x() << "\" y1=\"" << a.y() << "\" x2=\"" << b.x() << "\" y2=\"" << b.y() << "\" stroke=\""
         << hex(c) << "\" stroke-width=\"" << width << "\" stroke-linecap=\"round\"/>\n";
  }
  void dot(const Eigen::Vector2d& at, double radius, Rgb fill) override {
    out_ << "<circle cx=\"" << at.x() << "\" cy=\"" << at.y() << "\" r=\"" << radius << "\" fill=\"" << hex(fill)
         << "\" stroke=\"black\" stroke-width=\"1.5\"/>\n";
  }
  void text(double x, double y, const std::string& s, double size) override {
    std::string escaped;
    for (char ch : s) escaped += ch == '<' ? "&lt;" : ch == '>' ? "&gt;" : ch == '&' ? "&amp;" : std::string(1, ch);
    out_ << "<text x=\"" << x << "\" y=\"" << y << "\" font-family=\"sans-serif\" font-size=\"" << size << "\">"
         << escaped << "</text>\n";
  }

 private:
  std::ostream& out_;
};

class CairoCanvas : public Canvas {
 public:
  CairoCanvas(int width, int height)
      : surface_(cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height)), cr_(cairo_create(surface_)) {
    cairo_set_source_rgb(cr_, 1, 1, 1);
    cairo_paint(cr_);
    cairo_set_line_join(cr_, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr_, CAIRO_LINE_CAP_ROUND);
    cairo_select_font_face(cr_, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  }
  ~CairoCanvas() override {
    cairo_destroy(cr_);
    cairo_surface_destroy(surface_);
  }
  void polygon(const Polygon& p, Rgb fill, Rgb stroke, double width) override {
    cairo_move_to(cr_, p[0].x(), p[0].y());
    for (std::size_t i = 1; i < p.size(); ++i) cairo_line_to(cr_, p[i].x(), p[i].y());
    cairo_close_path(cr_);
    cairo_set_source_rgb(cr_, fill.r, fill.g, fill.b);
    cairo_fill_preserve(cr_);
    cairo_set_source_rgb(cr_, stroke.r, stroke.g, stroke.b);
    cairo_set_line_width(cr_, width);
    cairo_stroke(cr_);
  }
  void segment(const Eigen::Vector2d& a, const Eigen::Vector2d& b, Rgb c, double width) override {
    cairo_move_to(cr_, a.x(), a.y());
    cairo_line_to(cr_, b.x(), b.y());
    cairo_set_source_rgb(cr_, c.r, c.g, c.b);
    cairo_set_line_width(cr_, width);
    cairo_stroke(cr_);
  }
  void dot(const Eigen::Vector2d& at, double radius, Rgb fill) override {
    cairo_new_path(cr_);  // no line from where the last text ended
    cairo_arc(cr_, at.x(), at.y(), radius, 0, 2 * M_PI);
    cairo_set_source_rgb(cr_, fill.r, fill.g, fill.b);
    cairo_fill_preserve(cr_);
    cairo_set_source_rgb(cr_, 0, 0, 0);
    cairo_set_line_width(cr_, 1.5);
    cairo_stroke(cr_);
  }
  void text(double x, double y, const std::string& s, double size) override {
    cairo_set_source_rgb(cr_, 0, 0, 0);
    cairo_set_font_size(cr_, size);
    cairo_move_to(cr_, x, y);
    cairo_show_text(cr_, s.c_str());
  }
  void save(const std::string& path) {
    if (cairo_surface_write_to_png(surface_, path.c_str()) != CAIRO_STATUS_SUCCESS)
      throw InputError(path + ": cannot write the PNG file");
  }

 private:
  cairo_surface_t* surface_;
  cairo_t* cr_;
};

Rgb hsl(double h, double s, double l) {
  auto f = [&](double n) {
    const double k = std::fmod(n + h * 12, 12.0);
    const double a = s * std::min(l, 1 - l);
    return l - a * std::max(-1.0, std::min({k - 3, 9 - k, 1.0}));
  };
  return {f(0), f(8), f(4)};
}

// Blue (negative) through white to red (positive), t in [-1, 1].
Rgb diverging(double t) {
  t = std::clamp(t, -1.0, 1.0);
  const Rgb blue{0.23, 0.38, 0.75}, red{0.80, 0.25, 0.20}, white{0.97, 0.97, 0.97};
  const Rgb& end = t < 0 ? blue : red;
  const double a = std::abs(t);
  return {white.r + a * (end.r - white.r), white.g + a * (end.g - white.g), white.b + a * (end.b - white.b)};
}

const Rgb kClassColours[] = {{0.31, 0.47, 0.74}, {0.87, 0.52, 0.32}, {0.33, 0.66, 0.41}, {0.77, 0.31, 0.32},
                             {0.51, 0.45, 0.70}, {0.58, 0.47, 0.38}, {0.85, 0.55, 0.77}, {0.55, 0.55, 0.55},
                             {0.80, 0.73, 0.45}, {0.39, 0.71, 0.80}};

// The region's vertices counter-clockwise around their centroid.
Polygon ordered_polygon(const Region& region) {
  Eigen::Vector2d c = Eigen::Vector2d::Zero();
  for (const auto& v : region.vertices) c += v.head<2>();
  c /= static_cast<double>(region.vertices.size());
  Polygon p;
  for (const auto& v : region.vertices) p.push_back(v.head<2>());
  std::sort(p.begin(), p.end(), [&](const Eigen::Vector2d& a, const Eigen::Vector2d& b) {
    return std::atan2(a.y() - c.y(), a.x() - c.x()) < std::atan2(b.y() - c.y(), b.x() - c.x());
  });
  return p;
}

// Keeps the part of a convex polygon where a·x + b <= 0.
Polygon clip(const Polygon& p, const Eigen::Vector2d& a, double b) {
  Polygon out;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const Eigen::Vector2d& u = p[i];
    const Eigen::Vector2d& v = p[(i + 1) % p.size()];
    const double fu = a.dot(u) + b, fv = a.dot(v) + b;
    if (fu <= 0) out.push_back(u);
    if ((fu < 0 && fv > 0) || (fu > 0 && fv < 0)) out.push_back(u + fu / (fu - fv) * (v - u));
  }
  return out;
}

int predicted_class(const Eigen::VectorXd& y) {
  if (y.size() == 1) return y[0] > 0 ? 1 : 0;
  Eigen::Index k;
  y.maxCoeff(&k);
  return static_cast<int>(k);
}

// Pieces of the decision boundary inside one region: where the single output is 0, or where the
// argmax changes. For each class, the region's part where it wins is a convex polygon; its edges
// that are not on the region's boundary lie on the decision boundary.
std::vector<std::pair<Eigen::Vector2d, Eigen::Vector2d>> decision_segments(const Region& region, const Polygon& polygon) {
  std::vector<std::pair<Eigen::Vector2d, Eigen::Vector2d>> out;
  const Eigen::MatrixXd& m = region.map_weight;
  const Eigen::VectorXd& c = region.map_bias;
  const int outputs = static_cast<int>(m.rows());
  const int classes = outputs == 1 ? 2 : outputs;
  auto score = [&](int k, int j) -> std::pair<Eigen::Vector2d, double> {  // class j beats k where a·x + b > 0
    if (outputs == 1) {
      const double s = k == 1 ? -1 : 1;
      return {s * Eigen::Vector2d(m(0, 0), m(0, 1)), s * c[0]};
    }
    return {Eigen::Vector2d(m(j, 0) - m(k, 0), m(j, 1) - m(k, 1)), c[j] - c[k]};
  };
  auto on_boundary = [&](const Eigen::Vector2d& x) {
    for (std::size_t i = 0; i < polygon.size(); ++i) {
      const Eigen::Vector2d& u = polygon[i];
      const Eigen::Vector2d e = polygon[(i + 1) % polygon.size()] - u;
      const double len = e.norm();
      if (len > 0 && std::abs(e.x() * (x.y() - u.y()) - e.y() * (x.x() - u.x())) / len < 1e-9 * (1 + len)) return true;
    }
    return false;
  };
  for (int k = 0; k < classes; ++k) {
    Polygon part = polygon;
    for (int j = 0; j < classes && part.size() >= 3; ++j)
      if (j != k && !(outputs == 1 && j == k)) {
        const auto [a, b] = score(k, j);
        part = clip(part, a, b);
        if (outputs == 1) break;
      }
    if (part.size() < 3) continue;
    for (std::size_t i = 0; i < part.size(); ++i) {
      const Eigen::Vector2d& u = part[i];
      const Eigen::Vector2d& v = part[(i + 1) % part.size()];
      if ((u - v).norm() > 0 && !on_boundary((u + v) / 2)) out.emplace_back(u, v);
    }
  }
  return out;
}

void draw(Canvas& canvas, int plot_w, int plot_h, const Network& net, const Domain& domain,
          const std::vector<Region>& regions, const DrawOptions& options) {
  const double margin = 10;
  auto to_pixel = [&](const Eigen::Vector2d& x) {
    return Eigen::Vector2d(margin + (x.x() - domain.lo[0]) / (domain.hi[0] - domain.lo[0]) * plot_w,
                           margin + (domain.hi[1] - x.y()) / (domain.hi[1] - domain.lo[1]) * plot_h);
  };
  std::vector<Polygon> polygons;
  polygons.reserve(regions.size());
  double largest_output = 0;
  for (const Region& r : regions) {
    if (r.vertices.empty()) throw InputError("drawing: regions need vertices (use the vertex engine)");
    polygons.push_back(ordered_polygon(r));
    if (options.color_by == ColorBy::kOutput)
      for (const auto& v : r.vertices) largest_output = std::max(largest_output, std::abs((r.map_weight * v + r.map_bias)[0]));
  }
  const double line = std::max(0.2, std::min(1.0, 300.0 / std::sqrt(static_cast<double>(regions.size()) + 1)));
  for (std::size_t i = 0; i < regions.size(); ++i) {
    const Region& r = regions[i];
    Eigen::Vector2d centroid = Eigen::Vector2d::Zero();
    for (const auto& v : polygons[i]) centroid += v;
    centroid /= static_cast<double>(polygons[i].size());
    const Eigen::VectorXd y = r.map_weight * centroid + r.map_bias;
    Rgb fill;
    switch (options.color_by) {
      case ColorBy::kRegion: fill = hsl(std::fmod(i * 0.618033988749895, 1.0), 0.55, 0.72); break;
      case ColorBy::kOutput: fill = diverging(largest_output > 0 ? y[0] / largest_output : 0); break;
      case ColorBy::kClass: {
        const Rgb base = kClassColours[predicted_class(y) % 10];
        const double shade = 0.85 + 0.3 * std::fmod(i * 0.618033988749895, 1.0);
        fill = {std::min(1.0, base.r * shade), std::min(1.0, base.g * shade), std::min(1.0, base.b * shade)};
        break;
      }
    }
    Polygon px;
    for (const auto& v : polygons[i]) px.push_back(to_pixel(v));
    const Rgb edge = options.region_boundaries ? Rgb{0.25, 0.25, 0.25} : fill;
    canvas.polygon(px, fill, edge, options.region_boundaries ? line : 0.3);
  }
  if (options.decision_boundary)
    for (std::size_t i = 0; i < regions.size(); ++i)
      for (const auto& [a, b] : decision_segments(regions[i], polygons[i]))
        canvas.segment(to_pixel(a), to_pixel(b), {0, 0, 0}, 2.5);

  for (const auto& [at, label] : options.marks) {
    const Eigen::Vector2d p = to_pixel(at);
    canvas.dot(p, 6, {1, 1, 1});
    canvas.text(p.x() + 9, p.y() - 7, label, 14);
  }

  // Legend below the plot.
  const double y0 = plot_h + 2 * margin + 16;
  std::ostringstream first;
  first << regions.size() << " regions in " << domain.describe();
  if (!options.title.empty()) first << "  ·  " << options.title;
  canvas.text(margin, y0, first.str(), 15);
  std::ostringstream second;
  second << "fill: "
         << (options.color_by == ColorBy::kRegion ? "one colour per region"
             : options.color_by == ColorBy::kOutput ? "output at the centroid (blue < 0 < red)"
                                                    : "predicted class")
         << (options.decision_boundary ? "  ·  black: decision boundary" : "")
         << (options.region_boundaries ? "  ·  grey: region boundaries" : "");
  canvas.text(margin, y0 + 20, second.str(), 12);
  (void)net;
}

void check_drawable(const Network& net, const Domain& domain) {
  if (net.input_dim() != 2 || domain.dim() != 2)
    throw InputError("drawing needs a 2-input network (this one has " + std::to_string(net.input_dim()) +
                     " inputs; 2-D slices of larger inputs are planned)");
}

void plot_size(const Domain& domain, const DrawOptions& options, int& w, int& h) {
  const double aspect = (domain.hi[1] - domain.lo[1]) / (domain.hi[0] - domain.lo[0]);
  const int side = std::clamp(options.width, 100, 10000);
  w = aspect <= 1 ? side : std::max(50, static_cast<int>(side / aspect));
  h = aspect <= 1 ? std::max(50, static_cast<int>(side * aspect)) : side;
}

}  // namespace

void write_svg(const std::string& path, const Network& net, const Domain& domain, const std::vector<Region>& regions,
               const DrawOptions& options) {
  check_drawable(net, domain);
  std::ofstream out(path);
  if (!out) throw InputError(path + ": cannot open for writing");
  int w, h;
  plot_size(domain, options, w, h);
  {
    SvgCanvas canvas(out, w + 20, h + 70);
    draw(canvas, w, h, net, domain, regions, options);
  }
  if (!out) throw InputError(path + ": write failed");
}

void write_png(const std::string& path, const Network& net, const Domain& domain, const std::vector<Region>& regions,
               const DrawOptions& options) {
  check_drawable(net, domain);
  int w, h;
  plot_size(domain, options, w, h);
  CairoCanvas canvas(w + 20, h + 70);
  draw(canvas, w, h, net, domain, regions, options);
  canvas.save(path);
}

}  // namespace relutope
