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
#include "walk_command.h"
#include "option_values.h"
#include "relutope/error.h"
#include "relutope/graph.h"
#include "relutope/plane_walk.h"
#include "relutope/segment.h"
#include "relutope/slice.h"


namespace relutope::cli {

bool wants_graph_walk(const std::string& model, const std::string& engine, const DomainOptions& where, const char* command) {
  if (engine != "auto" || model.size() < 5 || model.compare(model.size() - 5, 5, ".onnx") != 0) return false;
  const double bytes = dense_layers_bytes(load_graph_onnx(model));
  if (bytes <= static_cast<double>(kDefaultDenseLimitBytes)) return false;
  if (!where.line.empty() || !where.plane.empty()) return true;
  std::ostringstream message;
  message << model << ": too large for dense layers (about " << std::setprecision(3) << bytes / (1 << 20)
          << " MB, more than " << (kDefaultDenseLimitBytes >> 20) << " MB): " << command
          << " it along a segment with --points FILE --line i,j, or on a triangle with --plane i,j,k, which "
             "walk the graph's own operations";
  throw InputError(message.str());
}

double walk_plane_scale(const DomainOptions& where) {
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
  return scale;
}

bool wants_segment_walk(const CountOptions& options) {
  return wants_graph_walk(options.model, options.run.engine, options.where, "count");
}

namespace {

// --plane: the regions on the triangle through three rows of --points (or its part near the first).
int run_plane_count(const CountOptions& options) {
  const DomainOptions& where = options.where;
  const double scale = walk_plane_scale(where);
  WalkCommand<3> command(options.model, where, options.run, options.limits, "--plane", where.plane);
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
  WalkCommand<2> command(options.model, where, options.run, options.limits, "--line", where.line);
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
