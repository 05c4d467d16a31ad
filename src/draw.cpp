#include "relutope/draw.h"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <optional>
#include <sstream>

#include "relutope/error.h"

namespace relutope {

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
  virtual void outline(const Polygon& p, Rgb stroke, double stroke_width) = 0;  ///< the boundary only
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
  void outline(const Polygon& p, Rgb stroke, double width) override {
    out_ << "<polygon points=\"";
    for (const auto& q : p) out_ << q.x() << ',' << q.y() << ' ';
    out_ << "\" fill=\"none\" stroke=\"" << hex(stroke) << "\" stroke-width=\"" << width << "\" stroke-linejoin=\"round\"/>\n";
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
  void outline(const Polygon& p, Rgb stroke, double width) override {
    cairo_move_to(cr_, p[0].x(), p[0].y());
    for (std::size_t i = 1; i < p.size(); ++i) cairo_line_to(cr_, p[i].x(), p[i].y());
    cairo_close_path(cr_);
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

Rgb class_colour(int k) {
  if (k < 10) return kClassColours[k];
  return hsl(std::fmod(k * 0.618033988749895, 1.0), 0.5, 0.6);  // more classes than the table: still distinct
}

Rgb shaded(Rgb c, double shade) {
  return {std::min(1.0, c.r * shade), std::min(1.0, c.g * shade), std::min(1.0, c.b * shade)};
}

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

double signed_area(const Polygon& p) {
  double twice = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const Eigen::Vector2d& u = p[i];
    const Eigen::Vector2d& v = p[(i + 1) % p.size()];
    twice += u.x() * v.y() - u.y() * v.x();
  }
  return twice / 2;
}

// A convex polygon whose edge i (p[i] -> p[i+1]) carries label[i]: -1 for the region's boundary, else
// the class whose tie line cut it.
struct LabelledPolygon {
  Polygon p;
  std::vector<std::optional<int>> label;  // per edge: the class whose tie it lies on, none on the region's boundary
};

// Keeps the part of a convex polygon where a·x + b <= 0 (Sutherland-Hodgman on one line); the new edge
// along the line gets `line_label`, the others keep theirs. A constant (a = 0) keeps all or nothing:
// `strict` asks for a·x + b < 0, which only matters there (elsewhere the closure is the same).
LabelledPolygon clip(const LabelledPolygon& in, const Eigen::Vector2d& a, double b, bool strict, int line_label) {
  if (a.x() == 0 && a.y() == 0) return (strict ? b < 0 : b <= 0) ? in : LabelledPolygon{};
  LabelledPolygon out;
  auto emit = [&](const Eigen::Vector2d& x, std::optional<int> label) {
    out.p.push_back(x);
    out.label.push_back(label);
  };
  const std::size_t n = in.p.size();
  for (std::size_t i = 0; i < n; ++i) {
    const Eigen::Vector2d& u = in.p[i];
    const Eigen::Vector2d& v = in.p[(i + 1) % n];
    const double fu = a.dot(u) + b, fv = a.dot(v) + b;
    if (fu <= 0) {
      if (fv <= 0) {
        emit(u, in.label[i]);
      } else if (fu < 0) {  // leaves: the edge up to the line, then along the line
        emit(u, in.label[i]);
        emit(u + fu / (fu - fv) * (v - u), line_label);
      } else {  // on the line, v outside: along the line from here
        emit(u, line_label);
      }
    } else if (fv < 0) {  // enters: from the line along the rest of the edge
      emit(u + fu / (fu - fv) * (v - u), in.label[i]);
    }
  }
  return out;
}

// The class cells of one region (see class_pieces). Class k's scores are affine, s_k(x) = g_k·x + h_k;
// its cell is where s_k >= s_j for j > k and s_k > s_j for j < k: the region clipped by one line per other class.
std::vector<ClassPiece> split_by_class(const Region& region, const Polygon& polygon) {
  const Eigen::MatrixXd& m = region.map_weight;
  const Eigen::VectorXd& c = region.map_bias;
  const int classes = num_classes(static_cast<int>(m.rows()));
  Eigen::MatrixXd g(classes, 2);
  Eigen::VectorXd h(classes);
  if (m.rows() == 1) {  // scores (0, o): class 1 exactly where o > 0, as predicted_class
    g << 0, 0, m(0, 0), m(0, 1);
    h << 0, c[0];
  } else {
    g = m;
    h = c;
  }
  const LabelledPolygon whole{polygon, std::vector<std::optional<int>>(polygon.size())};
  std::vector<ClassPiece> pieces;
  for (int k = 0; k < classes; ++k) {
    LabelledPolygon part = whole;
    for (int j = 0; j < classes && part.p.size() >= 3; ++j)
      if (j != k) part = clip(part, (g.row(j) - g.row(k)).transpose(), h[j] - h[k], j < k, j);
    if (part.p.size() >= 3 && signed_area(part.p) > 0)
      pieces.push_back(ClassPiece{std::move(part.p), std::move(part.label), k});
  }
  return pieces;
}

using Segment = std::pair<Eigen::Vector2d, Eigen::Vector2d>;

// The decision boundary within one region, from its class pieces: the edges on a tie inside the region, and
// the region's own edges across which the class changes. The output is continuous, so across such an edge
// the tie o_c = o_j holds along all of it, as seen from this region: only those edges are candidates (a
// boundary crossing an edge ties at one point, not at both ends), and the class beyond is the forward pass
// just past the edge's middle (a step of 1e-7 of the domain's diameter; outside the domain, none).
void append_decision_boundary(const DrawnNetwork& net, const Domain& domain, const Region& region,
                              const std::vector<ClassPiece>& pieces, std::vector<Segment>& out) {
  const Eigen::MatrixXd& m = region.map_weight;
  const Eigen::VectorXd& c = region.map_bias;
  const int classes = num_classes(static_cast<int>(m.rows()));
  auto scores = [&](const Eigen::Vector2d& x) {
    const Eigen::VectorXd y = m * x + c;
    if (y.size() > 1) return y;
    return Eigen::VectorXd(Eigen::Vector2d(0, y[0]));
  };
  double scale = 0;  // of the scores on the region: ties are judged relative to it
  for (const auto& v : region.vertices) scale = std::max(scale, scores(v.head<2>()).cwiseAbs().maxCoeff());
  const double tie = 1e-9 * scale;
  const double step = 1e-7 * domain.diameter();
  auto inside_domain = [&](const Eigen::Vector2d& x) {
    if ((x.array() < domain.lo.array()).any() || (x.array() > domain.hi.array()).any()) return false;
    return std::all_of(domain.extra.begin(), domain.extra.end(), [&](const Halfspace& h) { return h.violation(x) <= 0; });
  };
  for (const ClassPiece& piece : pieces)
    for (std::size_t e = 0; e < piece.polygon.size(); ++e) {
      const Eigen::Vector2d& a = piece.polygon[e];
      const Eigen::Vector2d& b = piece.polygon[(e + 1) % piece.polygon.size()];
      if (a == b) continue;
      if (piece.edge_class[e]) {
        out.emplace_back(a, b);
        continue;
      }
      const Eigen::VectorXd sa = scores(a), sb = scores(b);
      const int k = piece.class_index;
      bool tied = false;
      for (int j = 0; j < classes && !tied; ++j)
        tied = j != k && std::abs(sa[j] - sa[k]) <= tie && std::abs(sb[j] - sb[k]) <= tie;
      if (!tied) continue;
      const Eigen::Vector2d outward = Eigen::Vector2d(b.y() - a.y(), a.x() - b.x()).normalized();  // polygon is ccw
      const Eigen::Vector2d beyond = (a + b) / 2 + step * outward;
      if (inside_domain(beyond) && predicted_class(net.evaluate(beyond)) != k) out.emplace_back(a, b);
    }
}

// One entry of the legend: a text, with a colour swatch before it or not.
struct LegendItem {
  std::string label;
  bool has_swatch = false;
  Rgb colour{};
  double size = 12;  // font size; the caption's items are larger
  double x = 0;      // where it starts
  int row = 0;       // 0 = the first line below the plot
};

constexpr double kMargin = 10;
constexpr double kLegendRow = 20;
constexpr double kGap = 18;  // between items of a row

// Text widths for the legend's layout, from Cairo with the font both pictures name (an SVG viewer's
// sans-serif may differ by a few per cent).
class TextMeasure {
 public:
  TextMeasure() : surface_(cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1)), cr_(cairo_create(surface_)) {
    cairo_select_font_face(cr_, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr_, 12);
  }
  ~TextMeasure() {
    cairo_destroy(cr_);
    cairo_surface_destroy(surface_);
  }
  TextMeasure(const TextMeasure&) = delete;
  TextMeasure& operator=(const TextMeasure&) = delete;
  double width(const std::string& text, double size) {
    cairo_text_extents_t extents;
    cairo_text_extents(cr_, text.c_str(), &extents);
    return extents.x_advance * size / 12;  // a font's widths scale with its size
  }

 private:
  cairo_surface_t* surface_;
  cairo_t* cr_;
};

// The caption (the count, the domain, the title), what the fill and the lines mean, then with ColorBy::kClass
// one swatch per class, each group on rows of its own, flowing over as many rows of `width` pixels as it needs
// (a long domain or title must not run off the picture).
std::vector<LegendItem> legend(const DrawnNetwork& net, const Domain& domain, std::size_t num_regions,
                               const DrawOptions& options, double width) {
  std::vector<LegendItem> caption, meaning, classes;
  caption.push_back({std::to_string(num_regions) + " regions in " + domain.describe()});
  if (!options.title.empty()) caption.push_back({options.title});
  for (LegendItem& item : caption) item.size = 15;
  meaning.push_back({std::string("fill: ") + (options.color_by == ColorBy::kRegion   ? "one colour per region"
                                              : options.color_by == ColorBy::kOutput ? "output at the centroid (blue < 0 < red)"
                                                                                     : "predicted class")});
  if (options.decision_boundary) meaning.push_back({"black: decision boundary"});
  if (options.region_boundaries) meaning.push_back({"grey: region boundaries"});
  if (options.color_by == ColorBy::kClass)
    for (int k = 0; k < num_classes(net.output_dim()); ++k) {
      std::string label = options.class_names.empty() ? "class " + std::to_string(k) : options.class_names[k];
      if (net.output_dim() == 1) label += k == 0 ? " (output \u2264 0)" : " (output > 0)";
      classes.push_back({label, true, class_colour(k)});
    }
  TextMeasure measure;
  auto item_width = [&](const LegendItem& item) {
    return (item.has_swatch ? 17 : 0) + measure.width(item.label, item.size);
  };
  std::vector<LegendItem> out;
  int row = 0;
  for (auto* group : {&caption, &meaning, &classes}) {
    double x = kMargin;
    for (LegendItem& item : *group) {
      const double room = width - 2 * kMargin;  // an item wider than a row gets a smaller font
      if (item_width(item) > room) item.size = std::max(6.0, item.size * room / item_width(item));
      if (x > kMargin && x + item_width(item) > width - kMargin) {
        x = kMargin;
        ++row;
      }
      item.x = x;
      item.row = row;
      x += item_width(item) + kGap;
      out.push_back(item);
    }
    ++row;
  }
  return out;
}

// The picture's size: the plot (its longer side options.width pixels), a margin around it, and the legend below.
struct Layout {
  int plot_w = 0, plot_h = 0, width = 0, height = 0;
  std::vector<LegendItem> legend;
};

Layout layout(const DrawnNetwork& net, const Domain& domain, std::size_t num_regions, const DrawOptions& options) {
  Layout out;
  const double aspect = (domain.hi[1] - domain.lo[1]) / (domain.hi[0] - domain.lo[0]);
  const int side = std::clamp(options.width, 100, 10000);
  out.plot_w = aspect <= 1 ? side : std::max(50, static_cast<int>(side / aspect));
  out.plot_h = aspect <= 1 ? std::max(50, static_cast<int>(side * aspect)) : side;
  out.width = out.plot_w + static_cast<int>(2 * kMargin);
  out.legend = legend(net, domain, num_regions, options, out.width);
  // The first line's baseline is 16 pixels below the plot's margin; 14 pixels below the last baseline.
  out.height = out.plot_h + static_cast<int>(2 * kMargin + 16 + kLegendRow * out.legend.back().row + 14);
  return out;
}

void draw(Canvas& canvas, const Layout& layout, const DrawnNetwork& net, const Domain& domain,
          const std::vector<Region>& regions, const DrawOptions& options) {
  const double plot_w = layout.plot_w, plot_h = layout.plot_h;
  auto to_pixel = [&](const Eigen::Vector2d& x) {
    return Eigen::Vector2d(kMargin + (x.x() - domain.lo[0]) / (domain.hi[0] - domain.lo[0]) * plot_w,
                           kMargin + (domain.hi[1] - x.y()) / (domain.hi[1] - domain.lo[1]) * plot_h);
  };
  auto to_pixels = [&](const Polygon& p) {
    Polygon px;
    for (const auto& v : p) px.push_back(to_pixel(v));
    return px;
  };
  const bool by_class = options.color_by == ColorBy::kClass;
  std::vector<Polygon> polygons;
  std::vector<std::vector<ClassPiece>> pieces;  // the class cells: fills and the decision boundary alike
  polygons.reserve(regions.size());
  double largest_output = 0;
  for (const Region& r : regions) {
    if (r.vertices.empty()) throw InputError("drawing: regions need vertices (use the vertex engine)");
    polygons.push_back(ordered_polygon(r));
    if (by_class || options.decision_boundary) pieces.push_back(split_by_class(r, polygons.back()));
    if (options.color_by == ColorBy::kOutput)
      for (const auto& v : r.vertices) largest_output = std::max(largest_output, std::abs((r.map_weight * v + r.map_bias)[0]));
  }
  const double line = std::max(0.2, std::min(1.0, 300.0 / std::sqrt(static_cast<double>(regions.size()) + 1)));
  const Rgb grey{0.25, 0.25, 0.25};
  for (std::size_t i = 0; i < regions.size(); ++i) {
    const Region& r = regions[i];
    const double golden = std::fmod(i * 0.618033988749895, 1.0);
    const Polygon px = to_pixels(polygons[i]);
    if (by_class) {
      // Each piece in its class's colour, shaded per region so that regions stay visible; the thin
      // stroke in the fill colour closes anti-aliasing seams between pieces.
      const double shade = 0.85 + 0.3 * golden;
      for (const ClassPiece& piece : pieces[i]) {
        const Rgb fill = shaded(class_colour(piece.class_index), shade);
        canvas.polygon(to_pixels(piece.polygon), fill, fill, 0.3);
      }
      if (options.region_boundaries) canvas.outline(px, grey, line);
      continue;
    }
    Rgb fill;
    if (options.color_by == ColorBy::kRegion) {
      fill = hsl(golden, 0.55, 0.72);
    } else {
      Eigen::Vector2d centroid = Eigen::Vector2d::Zero();
      for (const auto& v : polygons[i]) centroid += v;
      centroid /= static_cast<double>(polygons[i].size());
      fill = diverging(largest_output > 0 ? (r.map_weight * centroid + r.map_bias)[0] / largest_output : 0);
    }
    canvas.polygon(px, fill, options.region_boundaries ? grey : fill, options.region_boundaries ? line : 0.3);
  }
  if (options.decision_boundary) {
    std::vector<Segment> boundary;
    for (std::size_t i = 0; i < regions.size(); ++i) append_decision_boundary(net, domain, regions[i], pieces[i], boundary);
    for (const auto& [a, b] : boundary) canvas.segment(to_pixel(a), to_pixel(b), {0, 0, 0}, 2.5);
  }

  TextMeasure measure;
  for (const auto& [at, label] : options.marks) {
    const Eigen::Vector2d p = to_pixel(at);
    canvas.dot(p, 6, {1, 1, 1});
    // Above right of the point, or where the picture has room for it: a corner of the plot is on its margin.
    const double label_width = measure.width(label, 14);
    const double x = p.x() + 9 + label_width <= layout.width ? p.x() + 9 : p.x() - 9 - label_width;
    const double y = p.y() - 7 >= 14 ? p.y() - 7 : p.y() + 20;
    canvas.text(x, y, label, 14);
  }

  // Legend below the plot.
  const double y0 = plot_h + 2 * kMargin + 16;
  for (std::size_t i = 0; i < layout.legend.size(); ++i) {
    const LegendItem& item = layout.legend[i];
    const double y = y0 + kLegendRow * item.row;  // text baseline; a swatch sits on it
    double x = item.x;
    if (item.has_swatch) {
      canvas.polygon({{x, y - 11}, {x + 12, y - 11}, {x + 12, y + 1}, {x, y + 1}}, item.colour, grey, 0.8);
      x += 17;
    } else if (i > 0 && layout.legend[i - 1].row == item.row) {
      canvas.text(x - kGap / 2 - 2, y, "·", 12);  // a dot between two meanings on one row
    }
    canvas.text(x, y, item.label, item.size);
  }
}

}  // namespace

DrawnNetwork::DrawnNetwork(const Network& net)
    : source(net.source), input_dim_(net.input_dim()), output_dim_(net.output_dim()),
      evaluate_([&net](const Eigen::VectorXd& x) { return net.evaluate(x); }) {}

DrawnNetwork::DrawnNetwork(int input_dim, int output_dim, std::string source,
                           std::function<Eigen::VectorXd(const Eigen::VectorXd&)> evaluate)
    : source(std::move(source)), input_dim_(input_dim), output_dim_(output_dim), evaluate_(std::move(evaluate)) {}

void check_drawable(const DrawnNetwork& net, const Domain& domain, const DrawOptions& options) {
  if (net.input_dim() != 2 || domain.dim() != 2)
    throw InputError("drawing needs a 2-input network (this one has " + std::to_string(net.input_dim()) +
                     " inputs; 2-D slices of larger inputs are planned)");
  const int classes = num_classes(net.output_dim());
  if (!options.class_names.empty() && static_cast<int>(options.class_names.size()) != classes)
    throw InputError("class names: " + std::to_string(options.class_names.size()) + " given, but " +
                     (net.source.empty() ? std::string("the network") : net.source) + " has " + std::to_string(classes) +
                     " classes" +
                     (net.output_dim() == 1 ? " (one output: class 0 where it is <= 0, class 1 where it is > 0)" : ""));
  for (std::size_t k = 0; k < options.class_names.size(); ++k)
    if (options.class_names[k].empty()) throw InputError("class names: the name of class " + std::to_string(k) + " is empty");
}

int predicted_class(const Eigen::VectorXd& y) {
  if (y.size() == 1) return y[0] > 0 ? 1 : 0;
  int best = 0;
  for (int k = 1; k < y.size(); ++k)
    if (y[k] > y[best]) best = k;  // strictly greater: ties go to the lowest index
  return best;
}

int num_classes(int num_outputs) { return num_outputs == 1 ? 2 : num_outputs; }

std::vector<ClassPiece> class_pieces(const Region& region) {
  if (region.vertices.empty()) throw InputError("class_pieces: the region has no vertices (use the vertex engine)");
  if (region.map_weight.cols() != 2 || region.vertices.front().size() != 2)
    throw InputError("class_pieces: needs a region of a 2-input network (this one has " +
                     std::to_string(region.map_weight.cols()) + " inputs)");
  return split_by_class(region, ordered_polygon(region));
}

std::vector<std::pair<Eigen::Vector2d, Eigen::Vector2d>> decision_boundary(const DrawnNetwork& net, const Domain& domain,
                                                                         const std::vector<Region>& regions) {
  std::vector<Segment> out;
  for (const Region& r : regions) append_decision_boundary(net, domain, r, class_pieces(r), out);
  return out;
}

void write_svg(const std::string& path, const DrawnNetwork& net, const Domain& domain, const std::vector<Region>& regions,
               const DrawOptions& options) {
  check_drawable(net, domain, options);
  std::ofstream out(path);
  if (!out) throw InputError(path + ": cannot open for writing");
  const Layout l = layout(net, domain, regions.size(), options);
  {
    SvgCanvas canvas(out, l.width, l.height);
    draw(canvas, l, net, domain, regions, options);
  }
  if (!out) throw InputError(path + ": write failed");
}

void write_png(const std::string& path, const DrawnNetwork& net, const Domain& domain, const std::vector<Region>& regions,
               const DrawOptions& options) {
  check_drawable(net, domain, options);
  const Layout l = layout(net, domain, regions.size(), options);
  CairoCanvas canvas(l.width, l.height);
  draw(canvas, l, net, domain, regions, options);
  canvas.save(path);
}

}  // namespace relutope
