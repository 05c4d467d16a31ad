// relutope export and relutope neurons through the walks (--engine segment, or a model too large for
// dense layers): the regions on a triangle (--plane) or the pieces of a segment (--line) of a graph,
// walked through the graph's own operations and collected (relutope/walked_regions.h), then written as
// JSON lines, drawn, or summed per unit.
#include <Eigen/Cholesky>
#include <Eigen/LU>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <tuple>

#include "walk_command.h"
#include "relutope/draw.h"
#include "relutope/export.h"
#include "relutope/plane_walk.h"
#include "relutope/segment.h"
#include "relutope/walked_regions.h"

namespace relutope::cli {

namespace {

// The regions of one walk, in the coordinates the dense engines use for the same slice (the plane's
// orthonormal coordinates of plane_through; t on a segment), and what the reports say about the walk.
struct Walked {
  std::unique_ptr<WalkCommand<3>> plane;
  std::unique_ptr<WalkCommand<2>> line;
  const Graph& graph() const { return plane ? plane->graph() : line->graph(); }

  WalkedRegions regions;
  std::vector<Region> geometry;  // walked_region_geometry of each region
  bool complete = true;
  std::string stopped;
  double seconds = 0;
  double share_done = 1;  // of the domain's area or length, covered by the regions found
  double measure = 0;     // the domain's area or length, in the slice's coordinates
  std::int64_t units_evaluated = 0, refinements = 0;
  double least_margin = 0;
  double scale = 1;                  // --plane-scale
  double t_begin = 0, t_end = 1;     // --segment
  Slice slice;                       // the plane's coordinates
  Domain domain;                     // on a plane: the triangle in them
  std::vector<std::pair<Eigen::Vector2d, std::string>> marks;  // the points inside the triangle
  nlohmann::ordered_json domain_json;
  std::string description;

  std::int64_t num_regions() const { return static_cast<std::int64_t>(regions.regions.size()); }
};

// A triangle domain with corners c (counter-clockwise): their box and the three edges.
Domain triangle(const std::array<Eigen::Vector2d, 3>& c) {
  Domain d = Domain::box(c[0].cwiseMin(c[1]).cwiseMin(c[2]), c[0].cwiseMax(c[1]).cwiseMax(c[2]));
  for (int i = 0; i < 3; ++i) {
    const Eigen::Vector2d& a = c[i];
    const Eigen::Vector2d& b = c[(i + 1) % 3];
    Halfspace h;
    h.a = Eigen::Vector2d(b.y() - a.y(), a.x() - b.x());  // outward for a counter-clockwise triangle
    h.b = h.a.dot(a);
    d.extra.push_back(h);
  }
  return d;
}

// Walks --plane or --line (the options as `count --engine segment` takes them), collecting the regions.
Walked walk(const std::string& model, const DomainOptions& where, const EnumerationFlags& run, const LongRunFlags& limits) {
  if (!where.plane.empty() && !where.line.empty()) throw InputError("give only one of --plane and --line");
  if (where.plane.empty() && where.line.empty())
    throw InputError("--engine segment: walks along a segment (--line i,j) or on a triangle (--plane i,j,k) of --points "
                     "FILE: give them");
  if (where.points.empty()) throw InputError("--plane and --line pick rows of --points: give --points FILE (CSV or .npy)");
  if (!where.box.empty() || !where.domain.empty()) throw InputError("give only one of --box, --domain, --plane and --line");
  if (limits.max_regions != 0 || !limits.checkpoint.empty() || !limits.resume.empty())
    throw InputError("--max-regions, --checkpoint and --resume: the walk through the graph (--engine segment) takes none of "
                     "them (--time-limit, SIGINT and SIGTERM stop it with the regions it finished)");
  Walked out;
  if (!where.plane.empty()) {
    out.scale = walk_plane_scale(where);
    out.plane = std::make_unique<WalkCommand<3>>(model, where, run, limits, "--plane", where.plane);
    WalkCommand<3>& command = *out.plane;
    const Eigen::VectorXd p0 = command.point(0), p1 = command.point(1), p2 = command.point(2);
    out.slice = with_option_name("--plane", [&] { return plane_through(p0, p1, p2); });
    // The points in the plane's coordinates, as on_plane places them.
    const Eigen::MatrixXd gram = out.slice.basis.transpose() * out.slice.basis;
    std::array<Eigen::Vector2d, 3> c;
    for (int i = 0; i < 3; ++i) c[i] = gram.ldlt().solve(out.slice.basis.transpose() * (command.point(i) - out.slice.origin));
    Eigen::Matrix2d linear;
    linear << c[1] - c[0], c[2] - c[0];
    out.domain = out.scale == 1 ? triangle_domain(out.slice, p0, p1, p2)
                                : triangle({c[0], c[0] + out.scale * (c[1] - c[0]), c[0] + out.scale * (c[2] - c[0])});
    for (int i = 0; i < 3; ++i)
      if (i == 0 || out.scale == 1) out.marks.emplace_back(c[i], "row " + std::to_string(command.rows()[i]));
    out.measure = 0.5 * std::abs(linear.determinant()) * out.scale * out.scale;
    PlaneOptions options;
    options.regions = &out.regions;
    command.start(options, "regions", "area");
    const PlaneRegions result =
        with_option_name("--plane", [&] { return regions_in_triangle(command.graph(), p0, p1, p2, out.scale, options); });
    out.seconds = command.finish(result.complete);
    out.complete = result.complete;
    out.stopped = command.stopped();
    out.share_done = result.area_done;
    out.units_evaluated = result.units_evaluated;
    out.refinements = result.refinements;
    out.least_margin = result.least_margin;
    for (const WalkedRegion& r : out.regions.regions) out.geometry.push_back(walked_region_geometry(r, c[0], linear));
    const auto& rows = command.rows();
    out.domain_json = {{"kind", "triangle"}, {"points", where.points}, {"rows", rows}, {"scale", out.scale},
                       {"coordinates", "the plane's orthonormal coordinates u (as the dense engines'): x = origin + basis u, "
                                       "origin the centroid of the three points, first axis along p1 - p0"},
                       {"corners", {{c[0][0], c[0][1]}, {c[1][0], c[1][1]}, {c[2][0], c[2][1]}}}};
    std::ostringstream text;
    text.precision(9);
    text << "the triangle through rows " << rows[0] << ", " << rows[1] << ", " << rows[2] << " of " << where.points;
    if (out.scale != 1) text << ", its part s + t <= " << out.scale << " near row " << rows[0];
    out.description = text.str();
  } else {
    out.line = std::make_unique<WalkCommand<2>>(model, where, run, limits, "--line", where.line);
    WalkCommand<2>& command = *out.line;
    std::tie(out.t_begin, out.t_end) = parse_segment(where.segment);
    SegmentOptions options;
    options.t_begin = out.t_begin;
    options.t_end = out.t_end;
    options.regions = &out.regions;
    command.start(options, "pieces", "segment walked");
    const SegmentPieces result = pieces_between(command.graph(), command.point(0), command.point(1), options);
    out.seconds = command.finish(result.complete);
    out.complete = result.complete;
    out.stopped = command.stopped();
    out.measure = out.t_end - out.t_begin;
    double walked = 0;
    for (const SegmentInterval& part : result.walked) walked += part.t_end - part.t_begin;
    out.share_done = result.complete ? 1.0 : walked / out.measure;
    out.units_evaluated = result.units_evaluated;
    out.refinements = result.refinements;
    out.least_margin = result.least_margin;
    for (const WalkedRegion& r : out.regions.regions)
      out.geometry.push_back(walked_region_geometry(r, Eigen::VectorXd::Zero(1), Eigen::MatrixXd::Identity(1, 1)));
    const auto& rows = command.rows();
    out.domain_json = {{"kind", "segment"}, {"points", where.points}, {"rows", rows}, {"t_begin", out.t_begin},
                       {"t_end", out.t_end}};
    std::ostringstream text;
    text.precision(9);
    text << "the segment from row " << rows[0] << " to row " << rows[1] << " of " << where.points << ", t = " << out.t_begin
         << " to " << out.t_end;
    out.description = text.str();
  }
  return out;
}

// "25 regions" or "at least 25 regions (stopped: time limit)".
std::string count_text(const Walked& w) {
  const char* noun = w.plane ? "region" : "piece";
  std::string text = with_commas(w.num_regions()) + " " + noun + (w.num_regions() == 1 ? "" : "s");
  return w.complete ? text : "at least " + text + " (stopped: " + w.stopped + ")";
}

// The keys every walk's --json object shares with count --engine segment's.
void json_walk(nlohmann::ordered_json& out, const std::string& model, const Walked& w) {
  out["model"] = model;
  out["regions"] = w.num_regions();
  out["complete"] = w.complete;
  out["stopped"] = w.complete ? nlohmann::ordered_json() : nlohmann::ordered_json(w.stopped);
  out[w.plane ? "area_done" : "length_done"] = w.share_done;
  out["domain"] = w.domain_json;
  out["engine"] = "segment";
  out["seconds"] = w.seconds;
  out["regions_per_second"] = w.seconds > 0 ? w.num_regions() / w.seconds : 0.0;
  out["units_evaluated"] = w.units_evaluated;
  out["triple_double_recomputations"] = w.refinements;
  out["least_margin"] = w.least_margin;
  out["peak_memory_mb"] = peak_memory_mb();
  if (!w.graph().output_head.empty()) out["output_head"] = w.graph().output_head;
}

}  // namespace

int run_walk_export(const ExportOptions& options) {
  const bool picture = !options.svg.empty() || !options.png.empty();
  if (!options.off.empty() || !options.ply.empty() || !options.obj.empty())
    throw InputError("--off/--ply/--obj: cells need a 3-input network; the walk through the graph gives regions on a "
                     "plane (--png, --svg) or a segment");
  if (picture && options.where.plane.empty())
    throw InputError("--svg/--png: drawing needs a plane (--plane i,j,k); a segment's pieces go to --jsonl");
  DrawOptions draw = picture_options(options);
  const std::set<std::string> fields = split_fields(options.fields);
  {  // check the fields before walking
    std::ostringstream nowhere;
    write_walked_jsonl(nowhere, Graph{}, WalkedRegions{}, {}, fields);
  }
  std::ofstream file;
  if (!options.jsonl.empty() && options.jsonl != "-") {
    file.open(options.jsonl);
    if (!file) throw InputError(options.jsonl + ": cannot open for writing");
  }
  const Walked w = walk(options.model, options.where, options.run, options.limits);
  const Graph& graph = w.graph();
  std::unique_ptr<DrawnNetwork> drawn;
  if (picture) {
    const Slice& slice = w.slice;
    drawn = std::make_unique<DrawnNetwork>(2, graph.output_dim(), options.model,
                                           [&graph, &slice](const Eigen::VectorXd& u) { return graph.evaluate(slice.to_input(u)); });
    draw.marks = w.marks;
    if (draw.color_by == ColorBy::kOutput && graph.output_dim() != 1)
      throw InputError("--color output: needs a single output; " + options.model + " has " +
                       std::to_string(graph.output_dim()) + " (use --color class)");
    check_drawable(*drawn, w.domain, draw);
  }
  if (!options.jsonl.empty()) {
    std::ostream& out = options.jsonl == "-" ? std::cout : file;
    write_walked_jsonl(out, graph, w.regions, w.geometry, fields);
    out.flush();
    if (!out) throw InputError(options.jsonl + ": write failed");
  }
  if (!options.svg.empty()) write_svg(options.svg, *drawn, w.domain, w.geometry, draw);
  if (!options.png.empty()) write_png(options.png, *drawn, w.domain, w.geometry, draw);
  if (options.json) {
    nlohmann::ordered_json out;
    json_walk(out, options.model, w);
    nlohmann::ordered_json files;
    for (const auto& [flag, path] : {std::pair<const char*, std::string>{"jsonl", options.jsonl}, {"svg", options.svg},
                                     {"png", options.png}})
      if (!path.empty()) files[flag] = path;
    out["files"] = files;
    out["pattern_entries"] = GraphPattern(graph).num_entries();
    std::cout << out.dump() << "\n";
  } else if (!options.run.quiet) {
    std::fprintf(stderr, "relutope export: %s of %s in %s (engine segment: the %s walk through the graph's operations, "
                         "%.3g s, peak memory %.0f MB",
                 count_text(w).c_str(), options.model.c_str(), w.description.c_str(), w.plane ? "plane" : "segment",
                 w.seconds, peak_memory_mb());
    for (const auto& [flag, path] : {std::pair<const char*, std::string>{"jsonl", options.jsonl}, {"svg", options.svg},
                                     {"png", options.png}})
      if (!path.empty()) std::fprintf(stderr, "; %s -> %s", flag, path.c_str());
    std::fprintf(stderr, ")\n");
    if (!w.complete)
      std::fprintf(stderr, "relutope export: stopped (%s): the %s written are finished and certified, covering %.3g%% of "
                           "the %s (exit code %d)\n",
                   w.stopped.c_str(), w.plane ? "regions" : "pieces", 100 * w.share_done, w.plane ? "area" : "segment",
                   kExitStopped);
  }
  return w.complete ? 0 : kExitStopped;
}

int run_walk_neurons(const NeuronsOptions& options) {
  const Walked w = walk(options.model, options.where, options.run, options.limits);
  const Graph& graph = w.graph();
  const GraphPattern layout(graph);
  const std::int64_t n = w.num_regions();
  // Per entry that changes anywhere: the regions and the measure in each state (the reference state
  // gets what the changes leave).
  struct Tally {
    std::vector<std::int64_t> regions;
    std::vector<double> measure;
  };
  std::map<std::int64_t, Tally> changing;
  double total = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double m = w.geometry[i].volume ? *w.geometry[i].volume : 0.0;
    total += m;
    for (const PatternChange& c : w.regions.regions[i].changes) {
      Tally& t = changing[c.entry];
      if (t.regions.size() <= c.state) t.regions.resize(c.state + 1), t.measure.resize(c.state + 1);
      ++t.regions[c.state];
      t.measure[c.state] += m;
    }
  }
  for (auto& [entry, t] : changing) {
    const std::uint8_t base = w.regions.reference[entry];
    if (t.regions.size() <= base) t.regions.resize(base + 1), t.measure.resize(base + 1);
    std::int64_t others = 0;
    double other_measure = 0;
    for (std::size_t s = 0; s < t.regions.size(); ++s) others += t.regions[s], other_measure += t.measure[s];
    t.regions[base] += n - others;
    t.measure[base] += total - other_measure;
  }
  // What a unit in one state throughout is called.
  auto fixed_name = [&](const GraphNode& node, int state) -> const char* {
    if (node.kind == OpKind::kMax) return "fixed";
    if (node.kind == OpKind::kRelu) return state == 1 ? "stably active" : "dead";
    return state == 1 ? "stably active" : "dead";  // a clip: between its bounds, or at one (constant)
  };
  struct LayerCount {
    std::int64_t dead = 0, active = 0, fixed = 0, switching = 0;
  };
  std::vector<LayerCount> counts(layout.layers().size());
  for (std::size_t l = 0; l < layout.layers().size(); ++l) {
    const GraphPattern::Layer& layer = layout.layers()[l];
    const GraphNode& node = graph.nodes[layer.node];
    for (std::size_t k = 0; k < layer.elements.size(); ++k) {
      const std::int64_t entry = layer.first + static_cast<std::int64_t>(k);
      if (n > 0 && changing.count(entry)) {
        ++counts[l].switching;
        continue;
      }
      const std::string name = fixed_name(node, w.regions.reference.empty() ? 0 : w.regions.reference[entry]);
      if (name == "fixed") ++counts[l].fixed;
      else if (name == "dead") ++counts[l].dead;
      else ++counts[l].active;
    }
  }
  static const char* const kClipStates[] = {"at lo", "between", "at hi"};
  auto kind_of = [](const GraphNode& node) {
    return node.kind == OpKind::kMax ? "max" : node.kind == OpKind::kClip && std::isfinite(node.lo) && std::isfinite(node.hi) ? "clip" : "relu";
  };
  if (options.json) {
    nlohmann::ordered_json out;
    json_walk(out, options.model, w);
    out["method"] = {{"states", "the walk through the graph's operations (every region, certified)"},
                     {"volume_fraction", w.plane ? "exact region areas" : "exact piece lengths"},
                     {"neurons", "only the units whose state changes in the domain; the others are counted per layer"}};
    nlohmann::ordered_json layers = nlohmann::ordered_json::array();
    for (std::size_t l = 0; l < layout.layers().size(); ++l) {
      const GraphNode& node = graph.nodes[layout.layers()[l].node];
      const std::int64_t width = static_cast<std::int64_t>(layout.layers()[l].elements.size());
      layers.push_back({{"layer", l},
                        {"node", node.name},
                        {"op_type", node.op_type},
                        {"width", width},
                        {"dead", counts[l].dead + counts[l].fixed},  // as the dense report: a fixed Max unit counts as dead
                        {"stably_active", counts[l].active},
                        {"fixed", counts[l].fixed},
                        {"switching", counts[l].switching},
                        {"dead_fraction", static_cast<double>(counts[l].dead + counts[l].fixed) / width}});
    }
    out["layers"] = layers;
    nlohmann::ordered_json neurons = nlohmann::ordered_json::array();
    for (const auto& [entry, t] : changing) {
      const auto [l, element] = layout.locate(entry);
      const GraphNode& node = graph.nodes[layout.layers()[l].node];
      std::vector<double> share(t.measure.size());
      for (std::size_t s = 0; s < share.size(); ++s) share[s] = total > 0 ? t.measure[s] / total : 0.0;
      const std::string kind = kind_of(node);
      if (kind == "relu") {
        neurons.push_back({{"layer", l}, {"node", node.name}, {"neuron", element}, {"state", "switching"},
                           {"regions_active", t.regions.size() > 1 ? t.regions[1] : 0},
                           {"region_fraction_active", n > 0 && t.regions.size() > 1 ? static_cast<double>(t.regions[1]) / n : 0.0},
                           {"volume_fraction_active", share.size() > 1 ? share[1] : 0.0}});
      } else {
        neurons.push_back({{"layer", l}, {"node", node.name}, {"unit", element}, {"kind", kind}, {"state", "switching"},
                           {"regions_in_state", t.regions}, {"volume_fraction_in_state", share}});
      }
    }
    out["neurons"] = neurons;
    std::cout << out.dump() << "\n";
    return w.complete ? 0 : kExitStopped;
  }
  std::printf("%s: %s in %s\n", options.model.c_str(), count_text(w).c_str(), w.description.c_str());
  std::printf("states and region counts: the %s walk through the graph's operations (engine segment, every region "
              "certified); %s shares: exact %s\n",
              w.plane ? "plane" : "segment", w.plane ? "area" : "length", w.plane ? "region areas" : "piece lengths");
  std::printf("listed: the %s unit%s whose state changes in the domain; the others are counted per layer below\n\n",
              with_commas(changing.size()).c_str(), changing.size() == 1 ? "" : "s");
  std::printf("%-6s %-9s %-14s %14s %9s %9s\n", "layer", "unit", "state", "regions active", "regions", w.plane ? "area" : "length");
  const double regions = static_cast<double>(std::max<std::int64_t>(1, n));
  for (const auto& [entry, t] : changing) {
    const auto [l, element] = layout.locate(entry);
    const GraphNode& node = graph.nodes[layout.layers()[l].node];
    const std::string kind = kind_of(node);
    if (kind == "relu") {
      const std::int64_t active = t.regions.size() > 1 ? t.regions[1] : 0;
      std::printf("%-6d %-9lld %-14s %14s %8.1f%% %8.1f%%\n", l, static_cast<long long>(element), "switching",
                  with_commas(active).c_str(), 100.0 * active / regions,
                  100.0 * (t.measure.size() > 1 && total > 0 ? t.measure[1] / total : 0.0));
      continue;
    }
    std::printf("%-6d %-9s %s\n", l, ("u" + std::to_string(element)).c_str(), "switching");
    for (std::size_t s = 0; s < t.regions.size(); ++s)
      if (t.regions[s] > 0)
        std::printf("%-6s   state %-9s %11s %8.1f%% %8.1f%%\n", "", kind == "clip" ? kClipStates[s] : std::to_string(s).c_str(),
                    with_commas(t.regions[s]).c_str(), 100.0 * t.regions[s] / regions,
                    100.0 * (total > 0 ? t.measure[s] / total : 0.0));
  }
  std::printf("\n%-6s %-40s %10s %10s %14s %8s %10s\n", "layer", "node", "width", "dead", "stably active", "fixed", "switching");
  for (std::size_t l = 0; l < layout.layers().size(); ++l) {
    const GraphNode& node = graph.nodes[layout.layers()[l].node];
    std::printf("%-6zu %-40s %10zu %10lld %14lld %8lld %10lld\n", l, (node.name + " (" + node.op_type + ")").c_str(),
                layout.layers()[l].elements.size(), static_cast<long long>(counts[l].dead),
                static_cast<long long>(counts[l].active), static_cast<long long>(counts[l].fixed),
                static_cast<long long>(counts[l].switching));
  }
  std::printf("\n%.3f s, peak memory %.0f MB", w.seconds, peak_memory_mb());
  if (!w.complete)
    std::printf("; stopped (%s): the counts are those of the regions finished, covering %.3g%% of the %s (exit code %d)",
                w.stopped.c_str(), 100 * w.share_done, w.plane ? "area" : "segment", kExitStopped);
  std::printf("\n");
  return w.complete ? 0 : kExitStopped;
}

}  // namespace relutope::cli
