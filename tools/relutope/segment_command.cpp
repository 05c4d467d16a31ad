// relutope count --engine segment: the linear pieces along a segment (--line) or on a triangle
// (--plane) through a graph model, walked through the graph's own operations (no dense layers), so that
// it reaches networks as large as ResNet-18 on 224x224 images.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <iomanip>
#include <map>
#include <sstream>
#include <thread>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "cli_options.h"
#include "option_values.h"
#include "relutope/error.h"
#include "relutope/graph.h"
#include "relutope/plane_walk.h"
#include "relutope/segment.h"
#include "relutope/slice.h"


namespace relutope::cli {

namespace {

double peak_memory_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // Linux reports kilobytes
}

// "17 Relu, 1 MaxPool": the units of the graph by operator.
std::string unit_summary(const Graph& graph, int& num_units) {
  std::map<std::string, int> by_op;
  num_units = 0;
  for (const GraphNode& node : graph.nodes)
    if (is_unit(node.kind)) {
      ++by_op[node.op_type];
      num_units += static_cast<int>(node.size());
    }
  std::string out;
  for (const auto& [op, n] : by_op) out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + op;
  return out.empty() ? "no units" : out;
}

}  // namespace

bool wants_segment_walk(const CountOptions& options) {
  const std::string& model = options.model;
  if (options.run.engine != "auto" || model.size() < 5 || model.compare(model.size() - 5, 5, ".onnx") != 0) return false;
  const double bytes = dense_layers_bytes(load_graph_onnx(model));
  if (bytes <= static_cast<double>(kDefaultDenseLimitBytes)) return false;
  if (!options.where.line.empty() || !options.where.plane.empty()) return true;
  std::ostringstream message;
  message << model << ": too large for dense layers (about " << std::setprecision(3) << bytes / (1 << 20)
          << " MB, more than " << (kDefaultDenseLimitBytes >> 20)
          << " MB): count it along a segment with --points FILE --line i,j, or on a triangle with --plane i,j,k, which "
             "walk the graph's own operations";
  throw InputError(message.str());
}

namespace {

// --plane: the regions on the triangle through three rows of --points (or its part near the first).
int run_plane_count(const CountOptions& options) {
  const DomainOptions& where = options.where;
  if (where.plane_region != "triangle")
    throw InputError("--plane-region " + where.plane_region +
                     ": the plane walk (--engine segment) counts on the triangle of the three points; give "
                     "--plane-region triangle (and --plane-scale for its part near the first point)");
  const double scale = std::isnan(where.plane_scale) ? 1.0 : where.plane_scale;
  if (!(scale > 0 && scale <= 1)) {
    std::ostringstream message;
    message << "--plane-scale: the plane walk counts the part s, t >= 0, s + t <= scale of the triangle: expected a "
               "number in (0, 1], got " << where.plane_scale;
    throw InputError(message.str());
  }
  const Graph graph = load_graph_onnx(options.model);
  const Eigen::MatrixXd points = load_points(where.points);
  if (points.cols() != graph.input_dim())
    throw InputError(where.points + ": points have " + std::to_string(points.cols()) + " coordinates but " +
                     options.model + " has " + std::to_string(graph.input_dim()) + " inputs");
  const auto rows = with_option_name("--plane", [&] { return parse_rows<3>(where.plane); });
  for (Eigen::Index row : rows)
    if (row >= points.rows())
      throw InputError("--plane: " + std::to_string(row) + " is not a row of " + where.points + " (0 to " +
                       std::to_string(points.rows() - 1) + ")");
  const int threads = options.run.threads > 0 ? options.run.threads : static_cast<int>(std::thread::hardware_concurrency());
  PlaneOptions walk;
  walk.threads = options.run.threads;
  EnumerateOptions limits;
  const LongRun long_run(limits, options.limits);
  walk.stop = limits.stop;
  walk.time_limit = limits.time_limit;
  const auto start = std::chrono::steady_clock::now();
  auto seconds_since = [](std::chrono::steady_clock::time_point from) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - from).count();
  };
  auto last_shown = start;
  const bool show = !options.run.quiet && isatty(STDERR_FILENO);
  if (show)
    walk.progress = [&](double share, std::int64_t regions) {
      if (seconds_since(last_shown) < 1) return;
      last_shown = std::chrono::steady_clock::now();
      std::fprintf(stderr, "\r%s regions so far, %.3g%% of the area, %.3g regions/s, %.0f s   ",
                   with_commas(regions).c_str(), 100 * share, regions / seconds_since(start), seconds_since(start));
    };
  const Eigen::VectorXd p0 = points.row(rows[0]).transpose(), p1 = points.row(rows[1]).transpose(),
                        p2 = points.row(rows[2]).transpose();
  const PlaneRegions result = with_option_name("--plane", [&] { return regions_in_triangle(graph, p0, p1, p2, scale, walk); });
  const double seconds = seconds_since(start);
  if (show) std::fprintf(stderr, "\r\033[K");
  EnumerateStats stop;
  stop.complete = result.complete;
  stop.stopped = result.complete ? StopReason::kNone : *walk.stop ? StopReason::kStopped : StopReason::kTimeLimit;
  const std::string stopped = result.complete ? "" : stop_text(stop);
  const double per_second = seconds > 0 ? result.regions / seconds : 0.0;
  int num_units = 0;
  const std::string units = unit_summary(graph, num_units);
  if (options.json) {
    nlohmann::ordered_json out;
    out["model"] = options.model;
    out["regions"] = result.regions;
    out["complete"] = result.complete;
    out["stopped"] = result.complete ? nlohmann::ordered_json() : nlohmann::ordered_json(stopped);
    out["area_done"] = result.area_done;
    out["input_dim"] = graph.input_dim();
    out["output_dim"] = graph.output_dim();
    out["units"] = num_units;
    out["domain"] = {{"kind", "triangle"}, {"points", where.points}, {"rows", rows}, {"scale", scale}};
    out["engine"] = "segment";
    out["threads"] = threads;
    out["seconds"] = seconds;
    out["regions_per_second"] = per_second;
    out["units_evaluated"] = result.units_evaluated;
    out["triple_double_recomputations"] = result.refinements;
    out["least_margin"] = result.least_margin;
    out["peak_memory_mb"] = peak_memory_mb();
    if (!graph.output_head.empty()) out["output_head"] = graph.output_head;
    std::cout << out.dump() << "\n";
    return result.complete ? 0 : kExitStopped;
  }
  if (result.complete)
    std::printf("%s region%s\n", with_commas(result.regions).c_str(), result.regions == 1 ? "" : "s");
  else
    std::printf("at least %s region%s (stopped: %s)\n", with_commas(result.regions).c_str(), result.regions == 1 ? "" : "s",
                stopped.c_str());
  std::printf("  model      %s\n", options.model.c_str());
  std::printf("  network    %d inputs -> %s (%s unit values) -> %d outputs\n", graph.input_dim(), units.c_str(),
              with_commas(num_units).c_str(), graph.output_dim());
  if (!graph.output_head.empty())
    std::printf("  head       %s after the last affine op is left out: the regions are those of the piecewise-linear body\n",
                graph.output_head.c_str());
  std::printf("  domain     the triangle through rows %lld, %lld, %lld of %s", static_cast<long long>(rows[0]),
              static_cast<long long>(rows[1]), static_cast<long long>(rows[2]), where.points.c_str());
  if (scale != 1) std::printf(", its part s + t <= %.9g near row %lld (x = p0 + s (p1 - p0) + t (p2 - p0))", scale,
                              static_cast<long long>(rows[0]));
  std::printf("\n");
  std::printf("  engine     plane walk through the graph's operations, %d thread%s, %s unit evaluations", threads,
              threads == 1 ? "" : "s", with_commas(result.units_evaluated).c_str());
  if (result.refinements > 0)
    std::printf(" (%s decided after recomputing the values before them in triple-double)",
                with_commas(result.refinements).c_str());
  std::printf("\n");
  std::printf("  certified  every line is farther from every vertex of its cells than their floating-point error bounds "
              "(least margin %.3g x)\n", result.least_margin);
  std::printf("  time       %.3f s (%.3g regions/s), peak memory %.0f MB\n", seconds, per_second, peak_memory_mb());
  if (!result.complete) {
    std::printf("  stopped    %s: the regions above are finished and certified, covering %.3g%% of the area; the "
                "whole domain has at least as many (exit code %d)\n",
                stopped.c_str(), 100 * result.area_done, kExitStopped);
    return kExitStopped;
  }
  return 0;
}

}  // namespace

int run_segment_count(const CountOptions& options) {
  const DomainOptions& where = options.where;
  if (!where.plane.empty() && !where.line.empty()) throw InputError("give only one of --plane and --line");
  if (!where.plane.empty() && where.points.empty())
    throw InputError("--plane picks rows of --points: give --points FILE (CSV or .npy)");
  if (!where.plane.empty() && options.exact)
    throw InputError("--exact: the plane walk certifies its count with error bounds; --exact applies to the other engines");
  if (!where.plane.empty() && (!where.box.empty() || !where.domain.empty()))
    throw InputError("give only one of --box, --domain, --plane and --line");
  if (!where.plane.empty()) return run_plane_count(options);
  if (where.line.empty() || where.points.empty())
    throw InputError("--engine segment: counts along a segment (--line i,j) or on a triangle (--plane i,j,k) of "
                     "--points FILE: give them");
  if (options.exact)
    throw InputError("--exact: the segment engine certifies its count with error bounds; --exact applies to the other engines");
  const Graph graph = load_graph_onnx(options.model);
  const Eigen::MatrixXd points = load_points(where.points);
  if (points.cols() != graph.input_dim())
    throw InputError(where.points + ": points have " + std::to_string(points.cols()) + " coordinates but " +
                     options.model + " has " + std::to_string(graph.input_dim()) + " inputs");
  const auto rows = with_option_name("--line", [&] { return parse_rows<2>(where.line); });
  for (Eigen::Index row : rows)
    if (row >= points.rows())
      throw InputError("--line: " + std::to_string(row) + " is not a row of " + where.points + " (0 to " +
                       std::to_string(points.rows() - 1) + ")");
  const auto [t_begin, t_end] = parse_segment(where.segment);
  const Eigen::VectorXd a = points.row(rows[0]).transpose(), b = points.row(rows[1]).transpose();
  const int threads = options.run.threads > 0 ? options.run.threads : static_cast<int>(std::thread::hardware_concurrency());

  SegmentOptions walk;
  walk.t_begin = t_begin;
  walk.t_end = t_end;
  walk.keep_breakpoints = true;
  walk.threads = options.run.threads;
  // --time-limit, SIGINT and SIGTERM stop the walk with the pieces certified so far (LongRun installs
  // the handlers and checks the flags, as for the other engines).
  EnumerateOptions limits;
  const LongRun long_run(limits, options.limits);
  walk.stop = limits.stop;
  walk.time_limit = limits.time_limit;
  const auto start = std::chrono::steady_clock::now();
  auto seconds_since = [](std::chrono::steady_clock::time_point from) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - from).count();
  };
  auto last_shown = start;
  const bool show = !options.run.quiet && isatty(STDERR_FILENO);
  if (show)
    walk.progress = [&](double share, std::int64_t pieces) {
      if (seconds_since(last_shown) < 1) return;
      last_shown = std::chrono::steady_clock::now();
      std::fprintf(stderr, "\r%s pieces so far, %.2f%% of the segment walked, %.3g pieces/s, %.0f s   ",
                   with_commas(pieces).c_str(), 100 * share, pieces / seconds_since(start), seconds_since(start));
    };
  const SegmentPieces result = pieces_between(graph, a, b, walk);
  const double seconds = seconds_since(start);
  if (show) std::fprintf(stderr, "\r\033[K");
  const double length = (b - a).norm() * (t_end - t_begin);
  EnumerateStats stop;  // why the walk stopped, for stop_text
  stop.complete = result.complete;
  stop.stopped = result.complete ? StopReason::kNone : *walk.stop ? StopReason::kStopped : StopReason::kTimeLimit;
  const std::string stopped = result.complete ? "" : stop_text(stop);
  auto walked_text = [&] {
    std::ostringstream out;
    out.precision(9);
    for (const SegmentInterval& part : result.walked)
      out << (&part == &result.walked.front() ? "" : ", ") << "[" << part.t_begin << ", " << part.t_end << "] "
          << with_commas(part.pieces) << (part.pieces == 1 ? " piece" : " pieces");
    return out.str();
  };
  // The rate counts every piece certified, also those of parts walked beyond t_reached when stopped.
  std::int64_t walked_pieces = 0;
  for (const SegmentInterval& part : result.walked) walked_pieces += part.pieces;
  const double per_second = seconds > 0 ? walked_pieces / seconds : 0.0;
  int num_units = 0;
  const std::string units = unit_summary(graph, num_units);

  if (options.json) {
    nlohmann::ordered_json out;
    out["model"] = options.model;
    out["regions"] = result.pieces;
    out["complete"] = result.complete;
    out["stopped"] = result.complete ? nlohmann::ordered_json() : nlohmann::ordered_json(stopped);
    if (!result.complete) {
      out["t_reached"] = result.t_reached;
      nlohmann::ordered_json parts = nlohmann::ordered_json::array();
      for (const SegmentInterval& part : result.walked)
        parts.push_back({{"t_begin", part.t_begin}, {"t_end", part.t_end}, {"pieces", part.pieces}});
      out["walked"] = parts;
      out["pieces_walked"] = walked_pieces;
    }
    out["input_dim"] = graph.input_dim();
    out["output_dim"] = graph.output_dim();
    out["units"] = num_units;
    out["domain"] = {{"kind", "segment"}, {"points", where.points}, {"rows", rows}, {"t_begin", t_begin}, {"t_end", t_end}};
    out["breakpoints"] = result.breakpoints;
    out["segment_length"] = length;
    out["engine"] = "segment";
    out["threads"] = threads;
    out["seconds"] = seconds;
    out["regions_per_second"] = per_second;
    out["units_evaluated"] = result.units_evaluated;
    out["triple_double_recomputations"] = result.refinements;
    out["least_margin"] = result.least_margin;
    out["peak_memory_mb"] = peak_memory_mb();
    if (!graph.output_head.empty()) out["output_head"] = graph.output_head;
    std::cout << out.dump() << "\n";
    return result.complete ? 0 : kExitStopped;
  }
  if (result.complete)
    std::printf("%s piece%s\n", with_commas(result.pieces).c_str(), result.pieces == 1 ? "" : "s");
  else
    std::printf("at least %s piece%s on t = %.9g to %.9g (stopped: %s)\n", with_commas(result.pieces).c_str(),
                result.pieces == 1 ? "" : "s", t_begin, result.t_reached, stopped.c_str());
  std::printf("  model      %s\n", options.model.c_str());
  std::printf("  network    %d inputs -> %s (%s unit values) -> %d outputs\n", graph.input_dim(), units.c_str(),
              with_commas(num_units).c_str(), graph.output_dim());
  if (!graph.output_head.empty())
    std::printf("  head       %s after the last affine op is left out: the pieces are those of the piecewise-linear body\n",
                graph.output_head.c_str());
  std::printf("  domain     the segment from row %lld to row %lld of %s, t = %.9g to %.9g (length %.6g)\n",
              static_cast<long long>(rows[0]), static_cast<long long>(rows[1]), where.points.c_str(), t_begin, t_end, length);
  std::printf("  breaks     %zu, at t =", result.breakpoints.size());
  for (std::size_t i = 0; i < result.breakpoints.size() && i < 20; ++i) std::printf(" %.9g", result.breakpoints[i]);
  std::printf("%s\n", result.breakpoints.size() > 20 ? " ... (all with --json)" : "");
  std::printf("  engine     segment walk through the graph's operations, %d thread%s, %s unit evaluations", threads,
              threads == 1 ? "" : "s", with_commas(result.units_evaluated).c_str());
  if (result.refinements > 0)
    std::printf(" (%s decided after recomputing the values before them in triple-double)",
                with_commas(result.refinements).c_str());
  std::printf("\n");
  std::printf("  certified  every cut lies farther from the next than their floating-point error bounds (least margin %.3g x)\n",
              result.least_margin);
  std::printf("  time       %.3f s (%.3g pieces/s), peak memory %.0f MB\n", seconds, per_second, peak_memory_mb());
  if (!result.complete) {
    double share = 0;
    for (const SegmentInterval& part : result.walked) share += (part.t_end - part.t_begin) / (t_end - t_begin);
    std::printf("  walked     %s: %s pieces on %.3g%% of the segment (the rate above counts them all)\n",
                walked_text().c_str(), with_commas(walked_pieces).c_str(), 100 * share);
    std::printf("  stopped    %s: the pieces and breaks above are those of t = %.9g to %.9g, certified; the whole "
                "segment has at least as many (exit code %d)\n",
                stopped.c_str(), t_begin, result.t_reached, kExitStopped);
    return kExitStopped;
  }
  return 0;
}

}  // namespace relutope::cli
