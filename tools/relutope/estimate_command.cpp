// relutope estimate: Knuth's estimate of the count and of count's run time, from random probes.
#include <cmath>
#include <cstdio>
#include <iostream>

#include "cli_common.h"
#include "cli_options.h"
#include "relutope/bounds.h"
#include "relutope/error.h"
#include "relutope/estimate_report.h"
#include "relutope/io.h"

namespace relutope::cli {

namespace {

std::string bound_text(const Bound& bound) {
  if (bound.value.size() <= 18) return with_commas(std::stoull(bound.value));
  char text[32];
  std::snprintf(text, sizeof text, "%.2fe%d", std::pow(10.0, bound.log10 - std::floor(bound.log10)),
                static_cast<int>(std::floor(bound.log10)));
  return text;
}

}  // namespace

int run_estimate(const EstimateCliOptions& options) {
  if (options.run.engine == "segment")
    throw InputError("--engine segment: the segment walk has no search tree to probe; estimate takes auto, vertex, lp "
                     "or exact");
  EstimateOptions estimate;
  estimate.run = to_enumerate_options(options.run);
  estimate.num_probes = options.probes;
  estimate.strata = options.strata;
  estimate.time_budget = options.time_budget;
  estimate.seed = options.seed;
  EstimateOptionNames names;  // the library's checks, before the model is loaded, with the options' names
  names.num_probes = "--probes";
  names.strata = "--strata";
  names.time_budget = "--time-budget";
  check_estimate_options(estimate, names);
  const CountingDomain chosen = choose_domain(load_network(options.model), options.where);
  const EstimateReport report = estimate_report(options.model, chosen, estimate);
  if (options.json) {
    std::cout << estimate_report_json(report, chosen) << "\n";
    return 0;
  }
  const RegionEstimate& result = report.estimate;
  if (result.strata == 0)
    std::printf("%s regions exactly (the search tree is small: it was walked whole)\n",
                approximately(result.regions).c_str());
  else
    std::printf("about %s regions (95%% interval %s to %s)\n", approximately(result.regions).c_str(),
                approximately(result.low).c_str(), approximately(result.high).c_str());
  std::printf("  model      %s\n", options.model.c_str());
  std::printf("  network    %s\n", network_summary(chosen).c_str());
  std::printf("  domain     %s%s\n", chosen.domain.describe().c_str(), domain_note(chosen).c_str());
  if (result.strata == 0)
    std::printf("  probes     none were needed\n");
  else
    std::printf("  probes     %d in %d subtree%s (seed %llu), standard error %.2g%% of the estimate, %.1f splits deep on average\n",
                result.num_probes, result.strata, result.strata == 1 ? "" : "s", static_cast<unsigned long long>(options.seed),
                result.regions > 0 ? 100 * result.std_error / result.regions : 0.0, result.mean_depth);
  std::printf("  search     about %s tree nodes (engine %s)\n", approximately(result.tree_nodes).c_str(),
              engine_name(result.engine));
  std::printf("  time       count would take about %s with %d thread%s; these probes took %.3f s\n",
              duration_text(result.count_seconds).c_str(), result.num_threads, result.num_threads == 1 ? "" : "s",
              result.seconds);
  if (const auto& bound = report.upper_bound)
    std::printf("  bound      <= %s (%s, the tightest upper bound)%s\n", bound_text(*bound).c_str(), bound->id.c_str(),
                report.bound_far_above ? ": far above the estimate, no guide to this network" : "");
  return 0;
}

}  // namespace relutope::cli
