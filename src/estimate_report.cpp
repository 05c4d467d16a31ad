#include "relutope/estimate_report.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

namespace relutope {

namespace {

// When the tightest upper bound is this many times the interval's upper end, the bounds are no
// guide to the count or the run time.
constexpr double kFarAbove = 100;

}  // namespace

EstimateReport estimate_report(const std::string& model, const CountingDomain& where, const EstimateOptions& options) {
  EstimateReport report;
  report.model = model;
  report.seed = options.seed;
  report.estimate = estimate_regions(where.net, where.domain, options);
  const std::vector<Bound> bounds = model_bounds(where.net, where.domain);
  if (const Bound* bound = tightest_upper_bound(bounds)) {
    report.upper_bound = *bound;
    report.bound_far_above = bound->log10 > std::log10(std::max(report.estimate.high, 1.0)) + std::log10(kFarAbove);
  }
  return report;
}

std::string estimate_report_json(const EstimateReport& report, const CountingDomain& where) {
  const RegionEstimate& e = report.estimate;
  nlohmann::ordered_json out;
  out["model"] = report.model;
  out["regions"] = e.regions;
  out["low"] = e.low;
  out["high"] = e.high;
  out["confidence"] = 0.95;
  out["std_error"] = e.std_error;
  out["probes"] = e.num_probes;
  out["strata"] = e.strata;
  out["seed"] = report.seed;
  out["tree_nodes"] = e.tree_nodes;
  out["mean_depth"] = e.mean_depth;
  out["count_seconds"] = e.count_seconds;
  out["count_threads"] = e.num_threads;
  out["engine"] = engine_name(e.engine);
  out["seconds"] = e.seconds;
  out["domain"] = nlohmann::ordered_json::parse(domain_json(where));
  if (const auto& bound = report.upper_bound)
    out["upper_bound"] = {{"id", bound->id}, {"value", bound->value}, {"log10", bound->log10}};
  return out.dump();
}

}  // namespace relutope
