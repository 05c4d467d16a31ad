// relutope export: regions as JSON lines, pictures and meshes.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli_common.h"
#include "cli_options.h"
#include "walk_command.h"
#include "mpi_session.h"
#include "option_values.h"
#include "relutope/draw.h"
#include "relutope/error.h"
#include "relutope/export.h"
#include "relutope/io.h"
#include "relutope/slice.h"

namespace relutope::cli {

std::set<std::string> split_fields(const std::string& text) {
  std::set<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.insert(item);
  return out;
}

DrawOptions picture_options(const ExportOptions& options) {
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
  return draw;
}

namespace {

std::ofstream open_output(const std::string& path) {
  std::ofstream out(path);
  if (!out) throw InputError(path + ": cannot open for writing");
  return out;
}

// A resumed export's JSONL file: cut back to the `bytes` its checkpoint counted (the lines after them
// are of tasks that were not done), then opened to append.
std::ofstream continue_output(const std::string& path, std::uint64_t bytes, const std::string& checkpoint) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0)
    throw InputError(path + ": cannot resume into it (" + std::strerror(errno) + "); the checkpoint " + checkpoint +
                     " counts " + std::to_string(bytes) + " bytes written to it");
  if (static_cast<std::uint64_t>(status.st_size) < bytes)
    throw InputError(path + ": has " + std::to_string(status.st_size) + " bytes, but the checkpoint " + checkpoint +
                     " counts " + std::to_string(bytes) + " written to it: not the file of that run");
  if (::truncate(path.c_str(), static_cast<off_t>(bytes)) != 0)
    throw InputError(path + ": cannot cut it back to the checkpoint's " + std::to_string(bytes) + " bytes (" +
                     std::strerror(errno) + ")");
  std::ofstream out(path, std::ios::app);
  if (!out) throw InputError(path + ": cannot open for writing");
  return out;
}

// Each checkpoint first flushes the JSONL file to disk and records its length.
void checkpoints_output(CheckpointedRun& checkpoints, std::ofstream& file, int fd, const std::string& path) {
  checkpoints.set_output([&file, fd, path]() -> std::uint64_t {
    file.flush();
    struct stat status {};
    if (!file || ::fsync(fd) != 0 || ::fstat(fd, &status) != 0)
      throw InputError(path + ": cannot write the regions to disk (" + std::strerror(errno) + ")");
    return static_cast<std::uint64_t>(status.st_size);
  });
}

}  // namespace

int run_export(const ExportOptions& options) {
  if (options.run.engine == "segment" || wants_graph_walk(options.model, options.run.engine, options.where, "export"))
    return run_walk_export(options);
  EnumerateOptions enumerate = to_enumerate_options(options.run);
  // Under mpirun the ranks share the work and rank 0 alone writes (EnumerateOptions::mpi).
  enumerate.mpi = mpi_size() > 1;
  const bool root = mpi_rank() == 0;
  const bool quiet = options.run.quiet || !root;
  const CountingDomain chosen = choose_domain(load_network(options.model), options.where);
  const Network& net = chosen.net;
  const Domain& domain = chosen.domain;
  const bool picture = !options.svg.empty() || !options.png.empty();
  const bool mesh = !options.off.empty() || !options.ply.empty() || !options.obj.empty();
  if (picture && net.input_dim() != 2)
    throw InputError("--svg/--png: drawing needs a 2-input network; " + options.model + " has " + std::to_string(net.input_dim()));
  if (mesh && net.input_dim() != 3)
    throw InputError("--off/--ply/--obj: cells need a 3-input network; " + options.model + " has " + std::to_string(net.input_dim()));
  if (enumerate.mpi && (picture || mesh))
    throw InputError("--svg/--png/--off/--ply/--obj: under mpirun export writes JSON lines only (--jsonl); draw and "
                     "mesh in one process");
  const Engine engine = resolve_engine(enumerate.engine, domain.dim(), true);
  if ((picture || mesh) && engine != Engine::kVertex)
    throw InputError("--engine " + options.run.engine + " gives no vertices: pictures and meshes need the vertex engine");
  DrawOptions draw = picture_options(options);
  if (picture) check_drawable(net, domain, draw);
  if (chosen.domain.dim() == 2)  // mark the data points the plane passes through
    for (const auto& [u, label] : chosen.anchors) draw.marks.emplace_back(u, label);
  if (draw.color_by == ColorBy::kOutput && net.output_dim() != 1)
    throw InputError("--color output: needs a single output; " + options.model + " has " + std::to_string(net.output_dim()) +
                     " (use --color class)");
  enumerate.with_geometry = true;
  enumerate.with_vertices = engine == Engine::kVertex;

  // Checkpoints keep JSON lines only: the file is cut back to the last checkpoint and continued.
  LongRunFlags limits = options.limits;
  const bool saved_run = !limits.checkpoint.empty() || !limits.resume.empty();
  if (saved_run && (options.jsonl.empty() || options.jsonl == "-" || picture || mesh))
    throw InputError(std::string(limits.checkpoint.empty() ? "--resume" : "--checkpoint") +
                     ": export saves and resumes JSON lines written to a file (--jsonl FILE), without pictures or meshes");
  if (!root) limits.checkpoint.clear(), limits.resume.clear();  // rank 0 reads and writes them
  const std::set<std::string> fields = split_fields(options.fields);
  // The LP engine stops its LPs short of the optimum unless the lines show the points or depths.
  enumerate.max_margin_points = picture || mesh || fields.empty() || fields.count("interior_point") || fields.count("depth");
  RunIdentity identity = run_identity(net, domain, enumerate, true);
  std::string field_list;
  for (const std::string& field : fields) field_list += (field_list.empty() ? "" : ",") + field;
  identity.insert(identity.begin(), {"command", "export --jsonl"});
  identity.emplace_back("fields", field_list.empty() ? "all" : field_list);
  const LongRun long_run(enumerate, limits);
  CheckpointedRun checkpoints(enumerate, checkpoint_files(limits), identity);

  std::ofstream jsonl_file;
  std::ostream nowhere(nullptr);  // the other ranks only format lines
  std::unique_ptr<JsonlWriter> jsonl;
  int jsonl_fd = -1;
  if (!options.jsonl.empty()) {
    std::ostream* out = root ? &std::cout : &nowhere;
    if (options.jsonl != "-" && root) {
      if (checkpoints.resumes()) {
        jsonl_file = continue_output(options.jsonl, checkpoints.resumed().output_bytes, limits.resume);
      } else {
        jsonl_file = open_output(options.jsonl);
      }
      out = &jsonl_file;
    }
    jsonl = with_option_name("--fields", [&] { return std::make_unique<JsonlWriter>(*out, net, domain, fields); });
    jsonl->continue_after(checkpoints.resumed_regions());
  }
  if (!limits.checkpoint.empty()) {
    jsonl_fd = ::open(options.jsonl.c_str(), O_WRONLY | O_CLOEXEC);
    if (jsonl_fd < 0) throw InputError(options.jsonl + ": cannot open for syncing (" + std::strerror(errno) + ")");
    checkpoints_output(checkpoints, jsonl_file, jsonl_fd, options.jsonl);
  }
  struct CloseFd {
    int fd;
    ~CloseFd() {
      if (fd >= 0) ::close(fd);
    }
  } close_fd{jsonl_fd};
  std::vector<Region> kept;  // only for pictures: a 2-D partition fits in memory
  CellMesh cells;
  std::uint64_t index = 0;
  // JSON lines alone are measured and formatted in the worker threads; pictures and meshes need the
  // regions themselves, in order.
  const Progress progress(enumerate, quiet, checkpoints.resumed_regions());
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
  if (options.json && root) {
    nlohmann::ordered_json out;
    out["model"] = options.model;
    out["regions"] = stats.num_regions;
    out["complete"] = stats.complete;
    out["stopped"] = stats.complete ? nlohmann::ordered_json() : nlohmann::ordered_json(stop_text(stats));
    out["domain"] = domain_object(chosen);
    out["engine"] = engine_name(stats.engine);
    nlohmann::ordered_json files;
    for (const auto& [flag, path] : {std::pair<const char*, std::string>{"jsonl", options.jsonl}, {"svg", options.svg},
                                     {"png", options.png}, {"off", options.off}, {"ply", options.ply}, {"obj", options.obj}})
      if (!path.empty()) files[flag] = path;
    out["files"] = files;
    std::cout << out.dump() << "\n";
  } else if (!quiet) {
    std::cerr << "relutope export: " << regions_line(stats) << " of " << options.model << " in "
              << domain.describe() << domain_note(chosen) << " (engine " << engine_name(stats.engine);
    if (stats.num_near_degenerate)
      std::cerr << "; " << with_commas(stats.num_near_degenerate) << " near-degenerate at tolerance " << options.run.tolerance;
    std::cerr << ")";
    for (const auto& [flag, path] : {std::pair<const char*, std::string>{"jsonl", options.jsonl}, {"svg", options.svg},
                                     {"png", options.png}, {"off", options.off}, {"ply", options.ply}, {"obj", options.obj}})
      if (!path.empty()) std::cerr << "; " << flag << " -> " << path;
    if (jsonl && engine != Engine::kVertex) std::cerr << "; the LP engine gives no vertices, so no volume/vertex fields";
    if (checkpoints.resumes())
      std::cerr << "; resumed from " << limits.resume << " (" << with_commas(stats.num_tasks_resumed) << " of "
                << with_commas(stats.num_tasks) << " tasks, " << with_commas(checkpoints.resumed_regions()) << " regions done before)";
    std::cerr << "\n";
  }
  return stats.complete ? 0 : kExitStopped;
}

}  // namespace relutope::cli
