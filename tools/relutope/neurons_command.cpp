// relutope neurons: the dying-ReLU report.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>

#include "cli_common.h"
#include "cli_options.h"
#include "walk_command.h"
#include "relutope/io.h"
#include "relutope/neurons.h"

namespace relutope::cli {

int run_neurons(const NeuronsOptions& options) {
  if (options.run.engine == "segment" || wants_graph_walk(options.model, options.run.engine, options.where, "neurons"))
    return run_walk_neurons(options);
  EnumerateOptions enumerate = to_enumerate_options(options.run);
  const LongRun long_run(enumerate, options.limits);
  const CountingDomain chosen = choose_domain(load_network(options.model), options.where);
  const Network& net = chosen.net;
  if (!options.run.quiet && isatty(STDERR_FILENO))
    std::fprintf(stderr, "relutope neurons: enumerating the regions of %s in %s...\n", options.model.c_str(),
                 chosen.domain.describe().c_str());
  NeuronReport report;
  {
    const Progress progress(enumerate, options.run.quiet);
    report = analyze_neurons(net, chosen.domain, enumerate, options.samples);
  }

  const std::vector<Bound> bounds = model_bounds(net, report.states);
  check_against_bounds(report.num_regions, bounds);
  std::vector<int> dead, stably_active;
  count_stable(report.states, dead, stably_active);
  const Bound* weight_aware = nullptr;
  for (const Bound& b : bounds)
    if (b.id == "weight_aware_upper" && b.applies) weight_aware = &b;

  const std::vector<int> widths = net.hidden_widths();
  const double standard_error = 0.5 / std::sqrt(static_cast<double>(std::max(1, report.num_samples)));
  if (options.json) {
    nlohmann::ordered_json out;
    out["model"] = options.model;
    out["domain"] = domain_object(chosen);
    out["regions"] = report.num_regions;
    out["complete"] = report.stats.complete;
    out["stopped"] = report.stats.complete ? nlohmann::ordered_json() : nlohmann::ordered_json(stop_text(report.stats));
    out["engine"] = engine_name(report.stats.engine);
    out["tolerance"] = options.run.tolerance;
    out["near_degenerate"] = report.stats.num_near_degenerate;
    out["exact_decisions"] = report.stats.num_exact_decisions;
    out["method"] = {{"states", "exact enumeration of all regions"},
                     {"volume_fraction", report.exact_volumes ? "exact region volumes" : "uniform samples"}};
    if (!report.exact_volumes) {
      out["method"]["samples"] = report.num_samples;
      out["method"]["volume_fraction_standard_error_max"] = standard_error;
    }
    nlohmann::ordered_json layers = nlohmann::ordered_json::array();
    for (std::size_t l = 0; l < widths.size(); ++l)
      layers.push_back({{"layer", l},
                        {"width", widths[l]},
                        {"dead", dead[l]},
                        {"stably_active", stably_active[l]},
                        {"dead_fraction", static_cast<double>(dead[l]) / widths[l]}});
    out["layers"] = layers;
    nlohmann::ordered_json neurons = nlohmann::ordered_json::array();
    for (const NeuronStats& n : report.neurons) {
      if (n.is_max_unit || n.is_clip_unit) {
        neurons.push_back({{"layer", n.layer},
                           {"unit", n.neuron},
                           {"kind", n.is_max_unit ? "max" : "clip"},
                           {"state", neuron_state_name(n.state)},
                           {"regions_in_state", n.regions_in_state},
                           {"volume_fraction_in_state", n.volume_fraction_in_state}});
        continue;
      }
      neurons.push_back({{"layer", n.layer},
                         {"neuron", n.neuron},
                         {"state", neuron_state_name(n.state)},
                         {"regions_active", n.regions_active},
                         {"region_fraction_active", static_cast<double>(n.regions_active) / std::max<std::uint64_t>(1, report.num_regions)},
                         {"volume_fraction_active", n.volume_fraction_active}});
    }
    out["neurons"] = neurons;
    if (weight_aware) out["weight_aware_upper_bound"] = weight_aware->value;
    std::cout << out.dump() << "\n";
    return report.stats.complete ? 0 : kExitStopped;
  }
  std::printf("%s: %s regions in %s%s\n", options.model.c_str(), with_commas(report.num_regions).c_str(),
              chosen.domain.describe().c_str(), domain_note(chosen).c_str());
  if (report.exact_volumes)
    std::printf("states, region counts and volume shares: exact enumeration with region volumes (engine %s)\n\n",
                engine_name(report.stats.engine));
  else
    std::printf("states and region counts: exact enumeration (engine %s); volume shares: %d uniform samples "
                "(standard error <= %.4f)\n\n",
                engine_name(report.stats.engine), report.num_samples, standard_error);
  std::printf("%-6s %-7s %-14s %14s %9s %9s\n", "layer", "neuron", "state", "regions active", "regions", "volume");
  const double regions = static_cast<double>(std::max<std::uint64_t>(1, report.num_regions));
  // The report's layers are split layers, numbered as the widths are.
  std::vector<int> split_index(net.layers.size(), -1);
  for (std::size_t l = 0, s = 0; l < net.layers.size(); ++l)
    if (net.layers[l].splits()) split_index[l] = static_cast<int>(s++);
  static const char* const kClipStates[] = {"at lo", "between", "at hi"};
  for (const NeuronStats& n : report.neurons) {
    const int l = split_index[n.layer];
    if (!n.is_max_unit && !n.is_clip_unit) {
      std::printf("%-6d %-7d %-14s %14s %8.1f%% %8.1f%%\n", l, n.neuron, neuron_state_name(n.state),
                  with_commas(n.regions_active).c_str(), 100.0 * n.regions_active / regions,
                  100.0 * n.volume_fraction_active);
      continue;
    }
    // A Max unit (state: the index of its largest row) or a clip (at its lower bound, between, at its
    // upper bound): one line per state that occurs.
    std::printf("%-6d %-7s %s\n", l, ("u" + std::to_string(n.neuron)).c_str(), neuron_state_name(n.state));
    for (std::size_t s = 0; s < n.regions_in_state.size(); ++s)
      if (n.regions_in_state[s] > 0 || n.volume_fraction_in_state[s] > 0)
        std::printf("%-6s   state %-7s %13s %8.1f%% %8.1f%%\n", "",
                    n.is_clip_unit ? kClipStates[s] : std::to_string(s).c_str(), with_commas(n.regions_in_state[s]).c_str(),
                    100.0 * n.regions_in_state[s] / regions, 100.0 * n.volume_fraction_in_state[s]);
  }
  std::printf("\n%-6s %6s %6s %14s %8s\n", "layer", "width", "dead", "stably active", "dead %");
  for (std::size_t l = 0; l < widths.size(); ++l)
    std::printf("%-6zu %6d %6d %14d %7.1f%%\n", l, widths[l], dead[l], stably_active[l],
                100.0 * dead[l] / widths[l]);
  if (weight_aware)
    std::printf("\nweight-aware upper bound with these stable neurons: %s (the count is %s)\n",
                weight_aware->value.size() <= 24 ? weight_aware->value.c_str() : ("1e" + std::to_string(static_cast<int>(weight_aware->log10))).c_str(),
                with_commas(report.num_regions).c_str());
  if (!report.stats.complete)
    std::printf("\nstopped (%s): the report covers the %s regions found so far (exit code %d)\n",
                stop_text(report.stats).c_str(), with_commas(report.num_regions).c_str(), kExitStopped);
  return report.stats.complete ? 0 : kExitStopped;
}

}  // namespace relutope::cli
