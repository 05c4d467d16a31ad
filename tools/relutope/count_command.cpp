// relutope count: load, choose the domain, count, report.
#include <cmath>
#include <cstdio>
#include <iostream>

#include "cli_common.h"
#include "cli_options.h"
#include "mpi_session.h"
#include "relutope/count_report.h"
#include "relutope/error.h"
#include "relutope/estimate.h"
#include "relutope/io.h"

namespace relutope::cli {

namespace {

// count's quick look ahead: at most kWarnProbes probes or kWarnBudget seconds (plus the probes under
// way), skipped where the tightest upper bound is below kWarnMinBound regions (a count that small is
// quick with any engine).
constexpr int kWarnProbes = 300;
constexpr double kWarnBudget = 0.2;
constexpr double kWarnMinBound = 1e4;
constexpr double kLongRunSeconds = 60;

// Says on stderr when the count about to run will take more than a minute, with the estimate.
void warn_if_long(const CountingDomain& chosen, const EnumerateOptions& enumerate, const LongRunFlags& limits) {
  const std::vector<Bound> bounds = model_bounds(chosen.net, chosen.domain);
  const Bound* bound = tightest_upper_bound(bounds);
  if (bound && bound->log10 < std::log10(kWarnMinBound)) return;
  EstimateOptions options;
  options.run = enumerate;
  options.num_probes = kWarnProbes;
  options.time_budget = kWarnBudget;
  const RegionEstimate e = estimate_regions(chosen.net, chosen.domain, options);
  if (e.count_seconds <= kLongRunSeconds) return;
  std::cerr << "relutope count: this count may take long: about " << approximately(e.regions) << " regions (95% interval "
            << approximately(e.low) << " to " << approximately(e.high) << "), about " << duration_text(e.count_seconds)
            << " with " << e.num_threads << " thread" << (e.num_threads == 1 ? "" : "s") << " (estimated from "
            << e.num_probes << " random probes; 'relutope estimate' for more";
  if (limits.time_limit > 0) std::cerr << "; --time-limit stops it after " << limits.time_limit << " s";
  std::cerr << "; --quiet hides this)\n";
}

}  // namespace

int run_count(const CountOptions& options) {
  if (options.run.engine == "segment" || wants_segment_walk(options)) {
    const LongRunFlags& limits = options.limits;
    if (limits.max_regions > 0 || !limits.checkpoint.empty() || !limits.resume.empty())
      throw InputError("--max-regions, --checkpoint and --resume: the segment walk (--engine segment) takes none of "
                       "them (it stops with --time-limit, SIGINT or SIGTERM)");
    return run_segment_count(options);
  }
  EnumerateOptions enumerate = to_enumerate_options(options.run);
  // Under mpirun the ranks share the work and rank 0 alone reports, reads and writes checkpoints.
  enumerate.mpi = mpi_size() > 1;
  const bool root = mpi_rank() == 0;
  const bool quiet = options.run.quiet || !root;
  LongRunFlags limits = options.limits;
  if (!root) limits.checkpoint.clear(), limits.resume.clear();
  const CountingDomain chosen = choose_domain(load_network(options.model), options.where);
  const Domain& domain = chosen.domain;
  if (options.verbose && root)
    std::cerr << "relutope count: model=" << options.model << " box=" << domain.describe() << " ("
              << domain_origin_name(chosen.origin) << ") threads=" << options.run.threads << " engine=" << options.run.engine
              << " tolerance=" << options.run.tolerance << "\n";
  if (!quiet && limits.resume.empty()) warn_if_long(chosen, enumerate, limits);
  const RunIdentity identity = count_identity(chosen, enumerate);
  CountReport report;
  {
    const LongRun long_run(enumerate, limits);
    const CheckpointedRun checkpoints(enumerate, checkpoint_files(limits), identity);
    const Progress progress(enumerate, quiet, checkpoints.resumed_regions());
    report = count_report(options.model, chosen, enumerate, options.exact);
  }
  const int exit_code = report.stats.complete ? 0 : kExitStopped;
  if (options.verbose && root) {  // the load balance: time in tasks per rank, summed over its threads
    std::cerr << "relutope count: busy seconds per rank:";
    for (double seconds : report.stats.busy_seconds) std::cerr << " " << seconds;
    std::cerr << "\n";
  }
  if (options.json) {
    std::cout << count_report_json(report, chosen) << "\n";
    return exit_code;
  }
  const EnumerateStats& stats = report.stats;
  const std::vector<double>& breakpoints = report.breakpoints;
  const std::optional<Bound>& bound = report.upper_bound;
  std::printf("%s\n", regions_line(stats).c_str());
  std::printf("  model      %s\n", options.model.c_str());
  std::printf("  network    %s\n", network_summary(chosen).c_str());
  if (!chosen.net.output_head.empty())
    std::printf("  head       %s after the output, left out: these are the regions of the piecewise-linear body before it\n",
                chosen.net.output_head.c_str());
  std::printf("  domain     %s%s\n", domain.describe().c_str(), domain_note(chosen).c_str());
  if (chosen.origin == DomainOrigin::kLine) {
    std::printf("  breaks     %zu along the segment (length %.6g), at t =", breakpoints.size(), chosen.slice->basis.norm());
    for (std::size_t i = 0; i < breakpoints.size() && i < 20; ++i) std::printf(" %.6f", breakpoints[i]);
    std::printf("%s\n", breakpoints.size() > 20 ? " ... (all with --json)" : "");
  }
  if (bound)
    std::printf("  bound      <= %s (%s, the tightest upper bound; 'relutope bounds' lists all); count/bound = %.3g\n",
                bound->value.size() <= 18 ? with_commas(std::stoull(bound->value)).c_str()
                                          : ("1e" + std::to_string(static_cast<int>(bound->log10))).c_str(),
                bound->id.c_str(), report.fraction_of_upper_bound);
  std::printf("  engine     %s, %s%d thread%s, %s task%s%s%s\n", engine_name(stats.engine),
              stats.num_ranks > 1 ? (std::to_string(stats.num_ranks) + " MPI ranks x ").c_str() : "", stats.num_threads,
              stats.num_threads == 1 ? "" : "s", with_commas(stats.num_tasks).c_str(), stats.num_tasks == 1 ? "" : "s",
              stats.num_tasks_resumed ? (" (" + with_commas(stats.num_tasks_resumed) + " done before, resumed)").c_str() : "",
              stats.num_lps ? (", " + with_commas(stats.num_lps) + " LPs").c_str() : "");
  std::printf("  time       %.3f s (%s regions/s)\n", stats.seconds,
              with_commas(static_cast<std::uint64_t>(
                  stats.seconds > 0 ? (stats.num_regions - stats.num_regions_resumed) / stats.seconds : 0)).c_str());
  std::printf("  tolerance  %g relative = %.3g absolute; %s near-degenerate region%s, %s cut%s decided exactly\n",
              options.run.tolerance, stats.tolerance_abs, with_commas(stats.num_near_degenerate).c_str(),
              stats.num_near_degenerate == 1 ? "" : "s", with_commas(stats.num_exact_decisions).c_str(),
              stats.num_exact_decisions == 1 ? "" : "s");
  if (const auto& certificate = report.certificate)
    std::printf("  certified  yes: exact rational arithmetic, no tolerance, in %.3f s; the floating-point pass counted %s "
                "(%s missed, %s invented); %s facets certified, %s regions with a wrong facet set\n",
                certificate->seconds, with_commas(certificate->float_regions).c_str(), with_commas(certificate->float_missed).c_str(),
                with_commas(certificate->float_invented).c_str(), with_commas(certificate->facets_certified).c_str(),
                with_commas(certificate->float_facets_wrong).c_str());
  if (stats.num_exact_decisions)
    std::printf("  note       cuts within the tolerance of a vertex are decided in exact rational arithmetic, so the\n"
                "             count is exact; many of them slow a run down\n");
  if (!stats.complete)
    std::printf("  stopped    %s: the count is a lower bound (exit code %d)%s\n", stop_text(stats).c_str(), kExitStopped,
                options.exact ? "; not certified" : "");
  return exit_code;
}

}  // namespace relutope::cli
