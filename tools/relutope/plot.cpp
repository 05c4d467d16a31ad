#include "plot.h"

#include <cairo-svg.h>
#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "relutope/error.h"

namespace relutope::cli {

namespace {

std::string tick_text(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

void draw_plot(cairo_t* cr, const Plot& plot, int width, int height) {
  const double left = 80, right = 20, top = 40, bottom = 60;
  const double w = width - left - right, h = height - top - bottom;
  double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
  for (const Series& s : plot.series)
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      const double e = s.error.empty() ? 0 : s.error[i];
      const double lo = s.y[i] - e, hi = s.y[i] + e;
      x0 = std::min(x0, s.x[i]);
      x1 = std::max(x1, s.x[i]);
      if (!plot.log_y || lo > 0) y0 = std::min(y0, plot.log_y ? std::log10(std::max(lo, s.y[i] / 10)) : lo);
      if (!plot.log_y || hi > 0) y1 = std::max(y1, plot.log_y ? std::log10(hi) : hi);
    }
  if (x0 > x1) x0 = 0, x1 = 1;
  if (x0 == x1) x0 -= 1, x1 += 1;
  if (y0 > y1) y0 = 0, y1 = 1;
  if (plot.log_y) y0 = std::floor(y0), y1 = std::ceil(y1);
  if (y0 == y1) y1 += 1;
  const double pad = (x1 - x0) * 0.05;
  x0 -= pad;
  x1 += pad;
  auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * w; };
  auto py = [&](double y) { return top + h - ((plot.log_y ? std::log10(y) : y) - y0) / (y1 - y0) * h; };

  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  // axes, ticks, grid
  cairo_set_line_width(cr, 1);
  cairo_set_source_rgb(cr, 0.85, 0.85, 0.85);
  cairo_set_font_size(cr, 11);
  const int y_ticks = plot.log_y ? static_cast<int>(y1 - y0) : 5;
  for (int k = 0; k <= y_ticks; ++k) {
    const double v = plot.log_y ? std::pow(10.0, y0 + k) : y0 + (y1 - y0) * k / y_ticks;
    const double y = py(v);
    cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
    cairo_move_to(cr, left, y);
    cairo_line_to(cr, left + w, y);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    const std::string label = plot.log_y ? "1e" + std::to_string(static_cast<int>(y0 + k)) : tick_text(v);
    cairo_move_to(cr, left - 8 - 6.5 * label.size(), y + 4);
    cairo_show_text(cr, label.c_str());
  }
  std::vector<double> xs;
  for (const Series& s : plot.series) xs.insert(xs.end(), s.x.begin(), s.x.end());
  std::sort(xs.begin(), xs.end());
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
  for (double v : xs) {
    cairo_set_source_rgb(cr, 0, 0, 0);
    const std::string label = tick_text(v);
    cairo_move_to(cr, px(v) - 3.2 * label.size(), top + h + 18);
    cairo_show_text(cr, label.c_str());
  }
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_rectangle(cr, left, top, w, h);
  cairo_stroke(cr);
  cairo_set_font_size(cr, 13);
  cairo_move_to(cr, left + w / 2 - 3.5 * plot.x_label.size(), height - 18);
  cairo_show_text(cr, plot.x_label.c_str());
  cairo_save(cr);
  cairo_move_to(cr, 20, top + h / 2 + 3.5 * plot.y_label.size());
  cairo_rotate(cr, -M_PI / 2);
  cairo_show_text(cr, plot.y_label.c_str());
  cairo_restore(cr);
  cairo_set_font_size(cr, 14);
  cairo_move_to(cr, left, 24);
  cairo_show_text(cr, plot.title.c_str());

  // series
  cairo_rectangle(cr, left, top, w, h);
  cairo_save(cr);
  cairo_clip(cr);
  for (const Series& s : plot.series) {
    cairo_set_source_rgb(cr, s.r, s.g, s.b);
    cairo_set_line_width(cr, 2);
    const double dash[] = {6, 4};
    cairo_set_dash(cr, dash, s.dashed ? 2 : 0, 0);
    bool started = false;
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (plot.log_y && s.y[i] <= 0) continue;
      started ? cairo_line_to(cr, px(s.x[i]), py(s.y[i])) : cairo_move_to(cr, px(s.x[i]), py(s.y[i]));
      started = true;
    }
    cairo_stroke(cr);
    cairo_set_dash(cr, dash, 0, 0);
    if (s.dashed) continue;
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (plot.log_y && s.y[i] <= 0) continue;
      cairo_arc(cr, px(s.x[i]), py(s.y[i]), 4, 0, 2 * M_PI);
      cairo_fill(cr);
      if (!s.error.empty() && s.error[i] > 0) {
        const double lo = std::max(s.y[i] - s.error[i], plot.log_y ? s.y[i] / 100 : -1e300), hi = s.y[i] + s.error[i];
        cairo_set_line_width(cr, 1.5);
        cairo_move_to(cr, px(s.x[i]), py(lo));
        cairo_line_to(cr, px(s.x[i]), py(hi));
        cairo_move_to(cr, px(s.x[i]) - 5, py(lo));
        cairo_line_to(cr, px(s.x[i]) + 5, py(lo));
        cairo_move_to(cr, px(s.x[i]) - 5, py(hi));
        cairo_line_to(cr, px(s.x[i]) + 5, py(hi));
        cairo_stroke(cr);
      }
    }
  }
  cairo_restore(cr);
  // legend
  cairo_set_font_size(cr, 12);
  double ly = top + 16;
  for (const Series& s : plot.series) {
    cairo_set_source_rgb(cr, s.r, s.g, s.b);
    cairo_set_line_width(cr, 2);
    const double dash[] = {6, 4};
    cairo_set_dash(cr, dash, s.dashed ? 2 : 0, 0);
    cairo_move_to(cr, left + 12, ly - 4);
    cairo_line_to(cr, left + 40, ly - 4);
    cairo_stroke(cr);
    cairo_set_dash(cr, dash, 0, 0);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, left + 46, ly);
    cairo_show_text(cr, s.label.c_str());
    ly += 17;
  }
}

}  // namespace

void write_plot(const Plot& plot, const std::string& path, int width, int height) {
  const bool svg = path.size() > 4 && path.substr(path.size() - 4) == ".svg";
  cairo_surface_t* surface = svg ? cairo_svg_surface_create(path.c_str(), width, height)
                                 : cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) throw InputError(path + ": cannot create the plot");
  cairo_t* cr = cairo_create(surface);
  draw_plot(cr, plot, width, height);
  cairo_destroy(cr);
  if (!svg && cairo_surface_write_to_png(surface, path.c_str()) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(surface);
    throw InputError(path + ": cannot write the PNG file");
  }
  cairo_surface_finish(surface);
  const bool ok = cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS;
  cairo_surface_destroy(surface);
  if (!ok) throw InputError(path + ": cannot write the plot");
}

}  // namespace relutope::cli
