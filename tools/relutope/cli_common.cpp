#include "cli_common.h"

#include <unistd.h>

#include <cstdio>
#include <sstream>

#include "relutope/error.h"
#include <stdexcept>

#include "option_values.h"
#include "relutope/neurons.h"

namespace relutope::cli {

std::string ChosenDomain::note() const {
  if (source == "default") return " (default; set another with --box)";
  if (source == "model") return " (from the model file)";
  if (slice) return " in the coordinates of " + slice->description;
  return "";
}

namespace {

std::vector<long> parse_indices(const std::string& text, std::size_t count, const char* option, long rows) {
  std::vector<long> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    std::size_t used = 0;
    long v = -1;
    try {
      v = std::stol(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || v < 0 || v >= rows)
      throw InputError(std::string(option) + ": \"" + item + "\" is not a row of --points (0 to " + std::to_string(rows - 1) + ")");
    out.push_back(v);
  }
  if (out.size() != count)
    throw InputError(std::string(option) + ": expected " + std::to_string(count) + " row indices, got \"" + text + "\"");
  return out;
}

}  // namespace

ChosenDomain choose_domain(Network net, const DomainOptions& where) {
  const int given = !where.box.empty() + !where.domain.empty() + !where.plane.empty() + !where.line.empty();
  if (given > 1) throw InputError("give only one of --box, --domain, --plane and --line");
  if ((!where.plane.empty() || !where.line.empty()) && where.points.empty())
    throw InputError("--plane and --line pick rows of --points: give --points FILE (CSV or .npy)");
  ChosenDomain c;
  if (!where.plane.empty() || !where.line.empty()) {
    const Eigen::MatrixXd points = load_points(where.points);
    if (points.cols() != net.input_dim())
      throw InputError(where.points + ": points have " + std::to_string(points.cols()) + " coordinates but " + net.source +
                       " has " + std::to_string(net.input_dim()) + " inputs");
    if (!where.plane.empty()) {
      const auto rows = parse_indices(where.plane, 3, "--plane", points.rows());
      const Eigen::VectorXd p0 = points.row(rows[0]).transpose(), p1 = points.row(rows[1]).transpose(),
                            p2 = points.row(rows[2]).transpose();
      Slice plane = with_option_name("--plane", [&] { return plane_through(p0, p1, p2); });
      plane.description = "the plane through rows " + where.plane + " of " + where.points;
      if (where.plane_region == "triangle") c.domain = triangle_domain(plane, p0, p1, p2);
      else if (where.plane_region == "box")
        c.domain = with_option_name("--plane-scale", [&] { return plane_box_domain(plane, p0, p1, p2, where.plane_scale); });
      else throw InputError("--plane-region: expected triangle or box, got \"" + where.plane_region + "\"");
      c.slice = plane;
      c.source = "--plane";
    } else {
      const auto rows = parse_indices(where.line, 2, "--line", points.rows());
      Slice line = with_option_name("--line", [&] {
        return line_through(points.row(rows[0]).transpose(), points.row(rows[1]).transpose());
      });
      line.description = "the segment from row " + std::to_string(rows[0]) + " to row " + std::to_string(rows[1]) + " of " +
                         where.points + " (t = 0 to 1)";
      c.domain = Domain::cube(1, 0, 1);
      c.slice = line;
      c.source = "--line";
    }
    c.net = compose(net, *c.slice);
    return c;
  }
  if (!where.box.empty()) {
    c.domain = with_option_name("--box", [&] { return parse_box(where.box, net.input_dim()); });
    c.source = "--box";
  } else if (!where.domain.empty()) {
    c.domain = load_polytope_domain(where.domain);
    if (c.domain.dim() != net.input_dim())
      throw InputError(where.domain + ": the polytope has dimension " + std::to_string(c.domain.dim()) + " but " + net.source +
                       " has " + std::to_string(net.input_dim()) + " inputs");
    c.source = "--domain";
  } else if (net.default_domain) {
    c.domain = *net.default_domain;
    c.source = "model";
  } else {
    c.domain = Domain::cube(net.input_dim(), -1, 1);
    c.source = "default";
  }
  c.net = std::move(net);
  return c;
}

std::string network_summary(const ChosenDomain& chosen) {
  const Network& net = chosen.net;
  const std::vector<int> widths = net.hidden_widths();
  std::ostringstream out;
  out << net.input_dim() << " input" << (net.input_dim() == 1 ? "" : "s") << " -> hidden "
      << (widths.empty() ? std::string("none") : join(widths)) << " (" << net.num_neurons() << " neurons) -> "
      << net.output_dim() << " output" << (net.output_dim() == 1 ? "" : "s");
  if (chosen.slice) out << " [" << chosen.slice->description << "; x = origin + basis * u]";
  return out.str();
}

Progress::Progress(EnumerateOptions& options, bool quiet)
    : options_(options), start_(std::chrono::steady_clock::now()) {
  if (quiet || !isatty(STDERR_FILENO)) return;
  options.progress = [this](std::uint64_t found) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (seconds < 1.0) return;
    std::fprintf(stderr, "\r  %s regions so far, %.0f regions/s, %.1f s   ", with_commas(found).c_str(), found / seconds, seconds);
    std::fflush(stderr);
    shown_ = true;
  };
}

Progress::~Progress() {
  options_.progress = nullptr;
  if (shown_) std::fprintf(stderr, "\r%60s\r", "");
}

std::string with_commas(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string join(const std::vector<int>& values, const char* separator) {
  std::ostringstream out;
  for (std::size_t i = 0; i < values.size(); ++i) out << (i ? separator : "") << values[i];
  return out.str();
}

std::vector<double> to_std(const Eigen::VectorXd& v) { return {v.data(), v.data() + v.size()}; }

nlohmann::ordered_json domain_json(const ChosenDomain& chosen) {
  nlohmann::ordered_json out = {{"lo", to_std(chosen.domain.lo)}, {"hi", to_std(chosen.domain.hi)}, {"source", chosen.source}};
  if (!chosen.domain.extra.empty()) {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const Halfspace& h : chosen.domain.extra) rows.push_back({{"a", to_std(h.a)}, {"b", h.b}});
    out["halfspaces"] = rows;
  }
  if (chosen.slice) {
    nlohmann::ordered_json basis = nlohmann::ordered_json::array();
    for (Eigen::Index j = 0; j < chosen.slice->basis.cols(); ++j) basis.push_back(to_std(chosen.slice->basis.col(j)));
    out["slice"] = {{"description", chosen.slice->description}, {"origin", to_std(chosen.slice->origin)}, {"basis", basis}};
  }
  return out;
}

}  // namespace relutope::cli
