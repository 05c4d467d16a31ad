#include "relutope/count_report.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "detail/require_complete.h"
#include "relutope/error.h"

namespace relutope {

std::vector<double> line_breakpoints(const Network& net, const Domain& domain, EnumerateOptions options) {
  if (net.input_dim() != 1 || domain.dim() != 1)
    throw InputError("line_breakpoints: expected a network with one input on an interval, got " +
                     std::to_string(net.input_dim()) + " inputs on a domain of dimension " + std::to_string(domain.dim()));
  // A region of a segment is an interval, and next to each other they tile it: the breakpoints are
  // the left ends of all but the leftmost. (The end points of neighbours are computed from different
  // cells, so collecting every vertex would list a breakpoint twice where they differ in the last bit.)
  options.engine = Engine::kVertex;
  options.with_vertices = true;
  std::vector<std::pair<double, double>> intervals;
  const EnumerateStats stats = enumerate_regions(net, domain, options, [&](const Region& r) {
    double lo = domain.hi[0], hi = domain.lo[0];
    for (const Eigen::VectorXd& v : r.vertices) {
      lo = std::min(lo, v[0]);
      hi = std::max(hi, v[0]);
    }
    intervals.emplace_back(lo, hi);
  });
  detail::require_complete(stats, "line_breakpoints");
  std::sort(intervals.begin(), intervals.end());
  std::vector<double> out;
  for (std::size_t i = 1; i < intervals.size(); ++i) out.push_back(intervals[i].first);
  return out;
}

CountReport count_report(const std::string& model, const CountingDomain& where, const EnumerateOptions& options,
                         bool exact) {
  CountReport report;
  report.model = model;
  report.tolerance = options.tolerance;
  report.stats = count_regions(where.net, where.domain, options);
  // The passes after the count: options.progress, cancel, stop and what is left of time_limit follow
  // them; a checkpoint is of the count alone, and the count was below max_regions.
  EnumerateOptions after = options;
  after.resume = nullptr;
  after.on_checkpoint = nullptr;
  after.min_tasks = 0;
  after.max_regions = 0;
  if (options.time_limit > 0) after.time_limit = std::max(1e-9, options.time_limit - report.stats.seconds);
  try {
    if (exact && report.stats.complete) {
      report.certificate = certify_count(where.net, where.domain, after);
      report.stats.num_regions = report.certificate->num_regions;  // the certified count is the answer
    }
    if (where.origin == DomainOrigin::kLine && report.stats.complete)
      report.breakpoints = line_breakpoints(where.net, where.domain, after);
  } catch (const Cancelled&) {
    if (options.cancel && options.cancel->load()) throw;
    // Stopped during a later pass: the count stands, uncertified (or without its breakpoints).
    report.certificate.reset();
    report.stats.complete = false;
    report.stats.stopped = options.stop && options.stop->load() ? StopReason::kStopped : StopReason::kTimeLimit;
  }
  report.bounds = model_bounds(where.net, where.domain);
  check_against_bounds(report.stats.num_regions, report.bounds);
  if (const Bound* bound = tightest_upper_bound(report.bounds)) {
    report.upper_bound = *bound;
    report.fraction_of_upper_bound =
        std::pow(10.0, std::log10(static_cast<double>(report.stats.num_regions)) - bound->log10);
  }
  return report;
}

std::string count_report_json(const CountReport& report, const CountingDomain& where) {
  const EnumerateStats& stats = report.stats;
  nlohmann::ordered_json out;
  out["model"] = report.model;
  out["regions"] = stats.num_regions;
  out["complete"] = stats.complete;
  out["stopped"] = stats.complete ? nlohmann::ordered_json() : nlohmann::ordered_json(stop_reason_name(stats.stopped));
  out["input_dim"] = where.net.input_dim();
  out["hidden_widths"] = where.net.hidden_widths();
  out["neurons"] = where.net.num_neurons();
  out["output_dim"] = where.net.output_dim();
  // The smooth head left out of the model (null if none): the regions are those of the body before it.
  out["output_head"] = where.net.output_head.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(where.net.output_head);
  out["domain"] = nlohmann::ordered_json::parse(domain_json(where));
  if (where.origin == DomainOrigin::kLine) {
    out["breakpoints"] = report.breakpoints;
    out["segment_length"] = where.slice->basis.norm();
  }
  out["engine"] = engine_name(stats.engine);
  out["threads"] = stats.num_threads;
  out["ranks"] = stats.num_ranks;
  out["tasks"] = stats.num_tasks;
  out["tasks_resumed"] = stats.num_tasks_resumed;
  out["seconds"] = stats.seconds;
  // Of the regions found in this run: a resumed run's earlier regions took earlier time.
  out["regions_per_second"] = stats.seconds > 0 ? (stats.num_regions - stats.num_regions_resumed) / stats.seconds : 0.0;
  out["tolerance"] = report.tolerance;
  out["tolerance_abs"] = stats.tolerance_abs;
  out["near_degenerate"] = stats.num_near_degenerate;
  out["exact_decisions"] = stats.num_exact_decisions;
  out["lps"] = stats.num_lps;
  out["lp_fallbacks"] = stats.num_lp_fallbacks;
  if (const auto& c = report.certificate) {
    out["certified"] = c->certified;
    out["float_regions"] = c->float_regions;
    out["float_missed"] = c->float_missed;
    out["float_invented"] = c->float_invented;
    out["facets_certified"] = c->facets_certified;
    out["float_facets_wrong"] = c->float_facets_wrong;
    out["missed_patterns"] = c->missed_patterns;
    out["invented_patterns"] = c->invented_patterns;
    out["exact_seconds"] = c->seconds;
  }
  if (const auto& bound = report.upper_bound) {
    out["upper_bound"] = {{"id", bound->id}, {"name", bound->name}, {"value", bound->value}, {"log10", bound->log10}};
    out["fraction_of_upper_bound"] = report.fraction_of_upper_bound;
  }
  return out.dump();
}

RunIdentity count_identity(const CountingDomain& where, const EnumerateOptions& options) {
  RunIdentity identity = run_identity(where.net, where.domain, options, false);
  identity.insert(identity.begin(), {"command", "count"});
  return identity;
}

}  // namespace relutope
