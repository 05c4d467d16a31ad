// relutope export: regions as JSON lines, pictures and meshes.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli_common.h"
#include "cli_options.h"
#include "option_values.h"
#include "relutope/draw.h"
#include "relutope/error.h"
#include "relutope/export.h"
#include "relutope/io.h"
#include "relutope/slice.h"

namespace relutope::cli {

namespace {

std::set<std::string> split_fields(const std::string& text) {
  std::set<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.insert(item);
  return out;
}

std::ofstream open_output(const std::string& path) {
  std::ofstream out(path);
  if (!out) throw InputError(path + ": cannot open for writing");
  return out;
}

}  // namespace

int run_export(const ExportOptions& options) {
  EnumerateOptions enumerate = to_enumerate_options(options.run);
  const CountingDomain chosen = choose_domain(load_network(options.model), options.where);
  const Network& net = chosen.net;
  const Domain& domain = chosen.domain;
  const bool picture = !options.svg.empty() || !options.png.empty();
  const bool mesh = !options.off.empty() || !options.ply.empty() || !options.obj.empty();
  if (picture && net.input_dim() != 2)
    throw InputError("--svg/--png: drawing needs a 2-input network; " + options.model + " has " + std::to_string(net.input_dim()));
  if (mesh && net.input_dim() != 3)
    throw InputError("--off/--ply/--obj: cells need a 3-input network; " + options.model + " has " + std::to_string(net.input_dim()));
  const Engine engine = resolve_engine(enumerate.engine, domain.dim(), true);
  if ((picture || mesh) && engine != Engine::kVertex)
    throw InputError("--engine " + options.run.engine + " gives no vertices: pictures and meshes need the vertex engine");
  DrawOptions draw;
  draw.color_by = with_option_name("--color", [&] { return parse_color_by(options.color); });
  draw.width = options.size;
  draw.title = std::filesystem::path(options.model).filename().string();
  if (!options.class_names.empty()) {
    std::stringstream names(options.class_names);
    std::string name;
    while (std::getline(names, name, ',')) draw.class_names.push_back(name);
    if (options.class_names.back() == ',') draw.class_names.emplace_back();
    if (draw.color_by != ColorBy::kClass) throw InputError("--class-names: only with --color class");
  }
  if (picture) check_drawable(net, domain, draw);
  if (chosen.domain.dim() == 2)  // mark the data points the plane passes through
    for (const auto& [u, label] : chosen.anchors) draw.marks.emplace_back(u, label);
  if (draw.color_by == ColorBy::kOutput && net.output_dim() != 1)
    throw InputError("--color output: needs a single output; " + options.model + " has " + std::to_string(net.output_dim()) +
                     " (use --color class)");
  enumerate.with_geometry = true;
  enumerate.with_vertices = engine == Engine::kVertex;

  std::ofstream jsonl_file;
  std::unique_ptr<JsonlWriter> jsonl;
  if (!options.jsonl.empty()) {
    std::ostream* out = &std::cout;
    if (options.jsonl != "-") {
      jsonl_file = open_output(options.jsonl);
      out = &jsonl_file;
    }
    jsonl = with_option_name("--fields", [&] {
      return std::make_unique<JsonlWriter>(*out, net, domain, split_fields(options.fields));
    });
  }
  std::vector<Region> kept;  // only for pictures: a 2-D partition fits in memory
  CellMesh cells;
  std::uint64_t index = 0;
  // JSON lines alone are measured and formatted in the worker threads; pictures and meshes need the
  // regions themselves, in order.
  const LongRun long_run(enumerate, options.limits);
  const Progress progress(enumerate, options.run.quiet);
  const EnumerateStats stats =
      picture || mesh ? enumerate_regions(net, domain, enumerate,
                                          [&](const Region& region) {
                                            if (jsonl) jsonl->write(region);
                                            if (picture) kept.push_back(region);
                                            if (mesh) cells.add(region, index);
                                            ++index;
                                          })
                      : enumerate_formatted(
                            net, domain, enumerate, [&](const Region& region) { return jsonl->format(region); },
                            [&](const std::string& line) { jsonl->write_formatted(line); });
  if (!options.svg.empty()) write_svg(options.svg, net, domain, kept, draw);
  if (!options.png.empty()) write_png(options.png, net, domain, kept, draw);
  if (!options.off.empty()) {
    std::ofstream out = open_output(options.off);
    write_off(out, cells);
  }
  if (!options.ply.empty()) {
    std::ofstream out = open_output(options.ply);
    write_ply(out, cells);
  }
  if (!options.obj.empty()) {
    std::ofstream out = open_output(options.obj);
    write_obj(out, cells);
  }
  if (!options.run.quiet) {
    std::cerr << "relutope export: " << regions_line(stats) << " of " << options.model << " in "
              << domain.describe() << domain_note(chosen) << " (engine " << engine_name(stats.engine);
    if (stats.num_near_degenerate)
      std::cerr << "; " << with_commas(stats.num_near_degenerate) << " near-degenerate at tolerance " << options.run.tolerance;
    std::cerr << ")";
    for (const auto& [flag, path] : {std::pair<const char*, std::string>{"jsonl", options.jsonl}, {"svg", options.svg},
                                     {"png", options.png}, {"off", options.off}, {"ply", options.ply}, {"obj", options.obj}})
      if (!path.empty()) std::cerr << "; " << flag << " -> " << path;
    if (jsonl && engine != Engine::kVertex) std::cerr << "; the LP engine gives no vertices, so no volume/vertex fields";
    std::cerr << "\n";
  }
  return stats.complete ? 0 : kExitStopped;
}

}  // namespace relutope::cli
