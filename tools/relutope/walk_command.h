#pragma once
// What the commands that walk a graph share (count, export and neurons with --engine segment, or a
// model too large for dense layers): the graph and the chosen rows of --points, the limits and signals
// (--time-limit, SIGINT and SIGTERM stop a walk with what it has certified so far; LongRun installs the
// handlers and checks the flags, as for the other engines), the progress line, and the parts of the
// report that are the same for all.
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "cli_common.h"
#include "cli_options.h"
#include "option_values.h"
#include "relutope/draw.h"
#include "relutope/error.h"
#include "relutope/graph.h"
#include "relutope/slice.h"

namespace relutope::cli {

/// Peak resident memory of this process so far, in MB.
inline double peak_memory_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // Linux reports kilobytes
}

/// "17 Relu, 1 MaxPool": the units of the graph by operator.
inline std::string unit_summary(const Graph& graph, int& num_units) {
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

/// Whether `command` (count, export, neurons) with --engine `engine` walks the graph: an ONNX model too
/// large for dense layers, on --line or --plane. Too large without them, it is an InputError that says
/// to give one. (segment_command.cpp)
bool wants_graph_walk(const std::string& model, const std::string& engine, const DomainOptions& where, const char* command);

/// The plane walk's --plane-scale (1 when not given), checked: in (0, 1], on --plane-region triangle.
/// @throws InputError naming the option
double walk_plane_scale(const DomainOptions& where);

/// --fields as a set of names (export_command.cpp).
std::set<std::string> split_fields(const std::string& text);
/// The picture options of --color, --class-names and --size, checked (export_command.cpp).
/// @throws InputError naming the option
DrawOptions picture_options(const ExportOptions& options);

/// relutope export and relutope neurons through the walks (walk_export.cpp).
int run_walk_export(const ExportOptions& options);
int run_walk_neurons(const NeuronsOptions& options);

/// The graph and N rows of --points a walk runs on, its limits, progress line and report lines.
template <int N>
class WalkCommand {
 public:
  WalkCommand(const std::string& model, const DomainOptions& where, const EnumerationFlags& run, const LongRunFlags& limits,
              const char* option, const std::string& rows)
      : model_(model), run_(run), graph_(load_graph_onnx(model)), points_(load_points(where.points)) {
    const std::string& file = where.points;
    if (points_.cols() != graph_.input_dim())
      throw InputError(file + ": points have " + std::to_string(points_.cols()) + " coordinates but " + model +
                       " has " + std::to_string(graph_.input_dim()) + " inputs");
    rows_ = with_option_name(option, [&] { return parse_rows<N>(rows); });
    for (Eigen::Index row : rows_)
      if (row >= points_.rows())
        throw InputError(std::string(option) + ": " + std::to_string(row) + " is not a row of " + file + " (0 to " +
                         std::to_string(points_.rows() - 1) + ")");
    threads_ = run.threads > 0 ? run.threads : static_cast<int>(std::thread::hardware_concurrency());
    units_ = unit_summary(graph_, num_units_);
    long_run_.emplace(limits_, limits);
  }

  const Graph& graph() const { return graph_; }
  const std::array<Eigen::Index, N>& rows() const { return rows_; }
  Eigen::VectorXd point(int k) const { return points_.row(rows_[k]).transpose(); }

  // Hands the walk its threads, limits and progress line ("12 regions so far, 3% of the area, ..."), and
  // starts the clock.
  template <typename WalkOptions>
  void start(WalkOptions& walk, const char* noun, const char* done_what) {
    walk.threads = run_.threads;
    walk.stop = limits_.stop;
    walk.time_limit = limits_.time_limit;
    start_ = last_shown_ = std::chrono::steady_clock::now();
    show_ = !run_.quiet && isatty(STDERR_FILENO);
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
    out["model"] = model_;
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
    std::printf("  model      %s\n", model_.c_str());
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

  const std::string model_;
  const EnumerationFlags run_;
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

}  // namespace relutope::cli
