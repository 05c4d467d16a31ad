// relutope count --engine segment: the linear pieces along a segment (--line) or on a triangle
// (--plane) through a graph model, walked through the graph's own operations (no dense layers), so that
// it reaches networks as large as ResNet-18 on 224x224 images.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <array>
#include <cstdio>
#include <iostream>
#include <iomanip>
#include <map>
#include <optional>
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

// What the line and the plane commands share: the graph and the chosen rows of --points, the limits and
// signals (--time-limit, SIGINT and SIGTERM stop a walk with what it has certified so far; LongRun
// installs the handlers and checks the flags, as for the other engines), the progress line, and the
// parts of the report that are the same for both.
template <int N>
class WalkCommand {
 public:
  WalkCommand(const CountOptions& options, const char* option, const std::string& rows)
      : options_(options), graph_(load_graph_onnx(options.model)), points_(load_points(options.where.points)) {
    const std::string& file = options.where.points;
    if (points_.cols() != graph_.input_dim())
      throw InputError(file + ": points have " + std::to_string(points_.cols()) + " coordinates but " + options.model +
                       " has " + std::to_string(graph_.input_dim()) + " inputs");
    rows_ = with_option_name(option, [&] { return parse_rows<N>(rows); });
    for (Eigen::Index row : rows_)
      if (row >= points_.rows())
        throw InputError(std::string(option) + ": " + std::to_string(row) + " is not a row of " + file + " (0 to " +
                         std::to_string(points_.rows() - 1) + ")");
    threads_ = options.run.threads > 0 ? options.run.threads : static_cast<int>(std::thread::hardware_concurrency());
    units_ = unit_summary(graph_, num_units_);
    long_run_.emplace(limits_, options.limits);
  }

  const Graph& graph() const { return graph_; }
  const std::array<Eigen::Index, N>& rows() const { return rows_; }
  Eigen::VectorXd point(int k) const { return points_.row(rows_[k]).transpose(); }

  // Hands the walk its threads, limits and progress line ("12 regions so far, 3% of the area, ..."), and
  // starts the clock.
  template <typename WalkOptions>
  void start(WalkOptions& walk, const char* noun, const char* done_what) {
    walk.threads = options_.run.threads;
    walk.stop = limits_.stop;
    walk.time_limit = limits_.time_limit;
    start_ = last_shown_ = std::chrono::steady_clock::now();
    show_ = !options_.run.quiet && isatty(STDERR_FILENO);
    if (show_)
      walk.progress = [this, noun, done_what](double share, std::int64_t count) {
        if (seconds_since(last_shown_) < 1) return;
        last_shown_ = std::chrono::steady_clock::now();
        std::fprintf(stderr, "\r%s %s so far, %.3g%% of the %s, %.3g %s/s, %.0f s   ", with_commas(count).c_str(), noun,
                     100 * share, done_what, count / seconds_since(start_), noun, seconds_since(start_));
      };
  }

  // Stops the clock and clears the progress line; the seconds the walk took.
  double finish(bool complete) {
    seconds_ = seconds_since(start_);
    if (show_) std::fprintf(stderr, "\r\033[K");
    EnumerateStats stop;
    stop.complete = complete;
    stop.stopped = complete ? StopReason::kNone : *limits_.stop ? StopReason::kStopped : StopReason::kTimeLimit;
    stopped_ = complete ? "" : stop_text(stop);
    return seconds_;
  }
  // Why the walk stopped ("time limit", "stop requested"); empty when it is complete.
  const std::string& stopped() const { return stopped_; }

  // --json: the keys every walk's object begins with, and those it ends with.
  void json_begin(nlohmann::ordered_json& out, std::int64_t regions, bool complete) const {
    out["model"] = options_.model;
    out["regions"] = regions;
    out["complete"] = complete;
    out["stopped"] = complete ? nlohmann::ordered_json() : nlohmann::ordered_json(stopped_);
  }
  void json_inputs(nlohmann::ordered_json& out) const {
    out["input_dim"] = graph_.input_dim();
    out["output_dim"] = graph_.output_dim();
    out["units"] = num_units_;
  }
  template <typename Walked>
  void json_end(nlohmann::ordered_json& out, double per_second, const Walked& result) const {
    out["engine"] = "segment";
    out["threads"] = threads_;
    out["seconds"] = seconds_;
    out["regions_per_second"] = per_second;
    out["units_evaluated"] = result.units_evaluated;
    out["triple_double_recomputations"] = result.refinements;
    out["least_margin"] = result.least_margin;
    out["peak_memory_mb"] = peak_memory_mb();
    if (!graph_.output_head.empty()) out["output_head"] = graph_.output_head;
    std::cout << out.dump() << "\n";
  }

  // The report's model, network and head lines.
  void print_network(const char* pieces) const {
    std::printf("  model      %s\n", options_.model.c_str());
    std::printf("  network    %d inputs -> %s (%s unit values) -> %d outputs\n", graph_.input_dim(), units_.c_str(),
                with_commas(num_units_).c_str(), graph_.output_dim());
    if (!graph_.output_head.empty())
      std::printf("  head       %s after the last affine op is left out: the %s are those of the piecewise-linear body\n",
                  graph_.output_head.c_str(), pieces);
  }
  // The report's engine line.
  template <typename Walked>
  void print_engine(const char* walk, const Walked& result) const {
    std::printf("  engine     %s walk through the graph's operations, %d thread%s, %s unit evaluations", walk, threads_,
                threads_ == 1 ? "" : "s", with_commas(result.units_evaluated).c_str());
    if (result.refinements > 0)
      std::printf(" (%s decided after recomputing the values before them in triple-double)",
                  with_commas(result.refinements).c_str());
    std::printf("\n");
  }

 private:
  static double seconds_since(std::chrono::steady_clock::time_point from) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - from).count();
  }

  const CountOptions& options_;
  const Graph graph_;
  const Eigen::MatrixXd points_;
  std::array<Eigen::Index, N> rows_{};
  int threads_ = 0;
  int num_units_ = 0;
  std::string units_;
  EnumerateOptions limits_;
  std::optional<LongRun> long_run_;
  std::chrono::steady_clock::time_point start_, last_shown_;
  bool show_ = false;
  double seconds_ = 0;
  std::string stopped_;
};

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
  WalkCommand<3> command(options, "--plane", where.plane);
  const auto& rows = command.rows();
  PlaneOptions walk;
  command.start(walk, "regions", "area");
  const PlaneRegions result = with_option_name(
      "--plane", [&] { return regions_in_triangle(command.graph(), command.point(0), command.point(1), command.point(2), scale, walk); });
  const double seconds = command.finish(result.complete);
  const double per_second = seconds > 0 ? result.regions / seconds : 0.0;
  if (options.json) {
    nlohmann::ordered_json out;
    command.json_begin(out, result.regions, result.complete);
    out["area_done"] = result.area_done;
    command.json_inputs(out);
    out["domain"] = {{"kind", "triangle"}, {"points", where.points}, {"rows", rows}, {"scale", scale}};
    command.json_end(out, per_second, result);
    return result.complete ? 0 : kExitStopped;
  }
  if (result.complete)
    std::printf("%s region%s\n", with_commas(result.regions).c_str(), result.regions == 1 ? "" : "s");
  else
    std::printf("at least %s region%s (stopped: %s)\n", with_commas(result.regions).c_str(), result.regions == 1 ? "" : "s",
                command.stopped().c_str());
  command.print_network("regions");
  std::printf("  domain     the triangle through rows %lld, %lld, %lld of %s", static_cast<long long>(rows[0]),
              static_cast<long long>(rows[1]), static_cast<long long>(rows[2]), where.points.c_str());
  if (scale != 1) std::printf(", its part s + t <= %.9g near row %lld (x = p0 + s (p1 - p0) + t (p2 - p0))", scale,
                              static_cast<long long>(rows[0]));
  std::printf("\n");
  command.print_engine("plane", result);
  std::printf("  certified  every line is farther from every vertex of its cells than their floating-point error bounds "
              "(least margin %.3g x)\n", result.least_margin);
  std::printf("  time       %.3f s (%.3g regions/s), peak memory %.0f MB\n", seconds, per_second, peak_memory_mb());
  if (!result.complete) {
    std::printf("  stopped    %s: the regions above are finished and certified, covering %.3g%% of the area; the "
                "whole domain has at least as many (exit code %d)\n",
                command.stopped().c_str(), 100 * result.area_done, kExitStopped);
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
  WalkCommand<2> command(options, "--line", where.line);
  const auto& rows = command.rows();
  const auto [t_begin, t_end] = parse_segment(where.segment);
  const Eigen::VectorXd a = command.point(0), b = command.point(1);
  SegmentOptions walk;
  walk.t_begin = t_begin;
  walk.t_end = t_end;
  walk.keep_breakpoints = true;
  command.start(walk, "pieces", "segment walked");
  const SegmentPieces result = pieces_between(command.graph(), a, b, walk);
  const double seconds = command.finish(result.complete);
  const double length = (b - a).norm() * (t_end - t_begin);
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
  if (options.json) {
    nlohmann::ordered_json out;
    command.json_begin(out, result.pieces, result.complete);
    if (!result.complete) {
      out["t_reached"] = result.t_reached;
      nlohmann::ordered_json parts = nlohmann::ordered_json::array();
      for (const SegmentInterval& part : result.walked)
        parts.push_back({{"t_begin", part.t_begin}, {"t_end", part.t_end}, {"pieces", part.pieces}});
      out["walked"] = parts;
      out["pieces_walked"] = walked_pieces;
    }
    command.json_inputs(out);
    out["domain"] = {{"kind", "segment"}, {"points", where.points}, {"rows", rows}, {"t_begin", t_begin}, {"t_end", t_end}};
    out["breakpoints"] = result.breakpoints;
    out["segment_length"] = length;
    command.json_end(out, per_second, result);
    return result.complete ? 0 : kExitStopped;
  }
  if (result.complete)
    std::printf("%s piece%s\n", with_commas(result.pieces).c_str(), result.pieces == 1 ? "" : "s");
  else
    std::printf("at least %s piece%s on t = %.9g to %.9g (stopped: %s)\n", with_commas(result.pieces).c_str(),
                result.pieces == 1 ? "" : "s", t_begin, result.t_reached, command.stopped().c_str());
  command.print_network("pieces");
  std::printf("  domain     the segment from row %lld to row %lld of %s, t = %.9g to %.9g (length %.6g)\n",
              static_cast<long long>(rows[0]), static_cast<long long>(rows[1]), where.points.c_str(), t_begin, t_end, length);
  std::printf("  breaks     %zu, at t =", result.breakpoints.size());
  for (std::size_t i = 0; i < result.breakpoints.size() && i < 20; ++i) std::printf(" %.9g", result.breakpoints[i]);
  std::printf("%s\n", result.breakpoints.size() > 20 ? " ... (all with --json)" : "");
  command.print_engine("segment", result);
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
                command.stopped().c_str(), t_begin, result.t_reached, kExitStopped);
    return kExitStopped;
  }
  return 0;
}

}  // namespace relutope::cli
