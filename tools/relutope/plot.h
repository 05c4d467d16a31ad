#pragma once
// A small line/scatter plot with a log-scale y axis and error bars, drawn with Cairo to SVG and
// PNG: what `relutope study` needs for a paper figure, and nothing more.
#include <string>
#include <vector>

namespace relutope::cli {

struct Series {
  std::string label;
  std::vector<double> x, y, error;  // error: +- around y (empty: none)
  bool dashed = false;              // lines for theory, markers with error bars for measurements
  double r = 0, g = 0, b = 0;
};

struct Plot {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  bool log_y = true;
};

/// Writes `path` as SVG or PNG, by its extension. @throws InputError if it cannot
void write_plot(const Plot& plot, const std::string& path, int width = 720, int height = 480);

}  // namespace relutope::cli
