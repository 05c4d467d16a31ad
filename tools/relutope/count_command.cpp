// relutope count: load, choose the domain, count, report.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_common.h"
#include "cli_options.h"
#include "relutope/certify.h"
#include "relutope/io.h"

namespace relutope::cli {


int run_count(const CountOptions& options) {
  EnumerateOptions enumerate = to_enumerate_options(options.run);
  const ChosenDomain chosen = choose_domain(load_network(options.model), options.where);
  const Network& net = chosen.net;
  const Domain& domain = chosen.domain;
  if (options.verbose)
    std::cerr << "relutope count: model=" << options.model << " box=" << domain.describe() << " (" << chosen.source
              << ") threads=" << options.run.threads << " engine=" << options.run.engine << " tolerance=" << options.run.tolerance
              << "\n";

  EnumerateStats stats;
  {
    const Progress progress(enumerate, options.run.quiet);
    stats = count_regions(net, domain, enumerate);
  }
  Certificate certificate;
  if (options.exact) {
    certificate = certify_count(net, domain, enumerate);
    stats.num_regions = certificate.num_regions;  // the certified count is the answer
  }

  // Along a line, the breakpoints: where the segment crosses from one region into the next.
  std::vector<double> breakpoints;
  if (chosen.source == "--line") {
    EnumerateOptions ends = enumerate;
    ends.engine = Engine::kVertex;
    ends.with_vertices = true;
    enumerate_regions(net, domain, ends, [&](const Region& r) {
      for (const Eigen::VectorXd& v : r.vertices)
        if (v[0] > domain.lo[0] && v[0] < domain.hi[0]) breakpoints.push_back(v[0]);
    });
    std::sort(breakpoints.begin(), breakpoints.end());
    breakpoints.erase(std::unique(breakpoints.begin(), breakpoints.end()), breakpoints.end());
  }
  const std::vector<Bound> bounds = model_bounds(net, domain);
  check_against_bounds(stats.num_regions, bounds);
  const Bound* bound = tightest_upper_bound(bounds);
  const double fraction = bound ? std::pow(10.0, std::log10(static_cast<double>(stats.num_regions)) - bound->log10) : 0.0;
  const std::vector<int> widths = net.hidden_widths();
  if (options.json) {
    nlohmann::ordered_json out;
    out["model"] = options.model;
    out["regions"] = stats.num_regions;
    out["input_dim"] = net.input_dim();
    out["hidden_widths"] = widths;
    out["neurons"] = net.num_neurons();
    out["output_dim"] = net.output_dim();
    out["domain"] = domain_json(chosen);
    if (chosen.source == "--line") {
      out["breakpoints"] = breakpoints;
      out["segment_length"] = chosen.slice->basis.norm();
    }
    out["engine"] = engine_name(stats.engine);
    out["threads"] = stats.num_threads;
    out["tasks"] = stats.num_tasks;
    out["seconds"] = stats.seconds;
    out["regions_per_second"] = stats.seconds > 0 ? stats.num_regions / stats.seconds : 0.0;
    out["tolerance"] = options.run.tolerance;
    out["tolerance_abs"] = stats.tolerance_abs;
    out["near_degenerate"] = stats.num_near_degenerate;
    out["exact_decisions"] = stats.num_exact_decisions;
    out["lps"] = stats.num_lps;
    out["lp_fallbacks"] = stats.num_lp_fallbacks;
    if (options.exact) {
      out["certified"] = certificate.certified;
      out["float_regions"] = certificate.float_regions;
      out["float_missed"] = certificate.float_missed;
      out["float_invented"] = certificate.float_invented;
      out["facets_certified"] = certificate.facets_certified;
      out["float_facets_wrong"] = certificate.float_facets_wrong;
      out["missed_patterns"] = certificate.missed_patterns;
      out["invented_patterns"] = certificate.invented_patterns;
      out["exact_seconds"] = certificate.seconds;
    }
    if (bound) {
      out["upper_bound"] = {{"id", bound->id}, {"name", bound->name}, {"value", bound->value}, {"log10", bound->log10}};
      out["fraction_of_upper_bound"] = fraction;
    }
    std::cout << out.dump() << "\n";
    return 0;
  }
  std::printf("%s region%s\n", with_commas(stats.num_regions).c_str(), stats.num_regions == 1 ? "" : "s");
  std::printf("  model      %s\n", options.model.c_str());
  std::printf("  network    %s\n", network_summary(chosen).c_str());
  std::printf("  domain     %s%s\n", domain.describe().c_str(), chosen.note().c_str());
  if (chosen.source == "--line") {
    std::printf("  breaks     %zu along the segment (length %.6g), at t =", breakpoints.size(), chosen.slice->basis.norm());
    for (std::size_t i = 0; i < breakpoints.size() && i < 20; ++i) std::printf(" %.6f", breakpoints[i]);
    std::printf("%s\n", breakpoints.size() > 20 ? " ... (all with --json)" : "");
  }
  if (bound)
    std::printf("  bound      <= %s (%s, the tightest upper bound; 'relutope bounds' lists all); count/bound = %.3g\n",
                bound->value.size() <= 18 ? with_commas(std::stoull(bound->value)).c_str()
                                          : ("1e" + std::to_string(static_cast<int>(bound->log10))).c_str(),
                bound->id.c_str(), fraction);
  std::printf("  engine     %s, %d thread%s, %s tasks%s\n", engine_name(stats.engine), stats.num_threads,
              stats.num_threads == 1 ? "" : "s", with_commas(stats.num_tasks).c_str(),
              stats.num_lps ? (", " + with_commas(stats.num_lps) + " LPs").c_str() : "");
  std::printf("  time       %.3f s (%s regions/s)\n", stats.seconds,
              with_commas(static_cast<std::uint64_t>(stats.seconds > 0 ? stats.num_regions / stats.seconds : 0)).c_str());
  std::printf("  tolerance  %g relative = %.3g absolute; %s near-degenerate region%s, %s cut%s decided exactly\n",
              options.run.tolerance, stats.tolerance_abs, with_commas(stats.num_near_degenerate).c_str(),
              stats.num_near_degenerate == 1 ? "" : "s", with_commas(stats.num_exact_decisions).c_str(),
              stats.num_exact_decisions == 1 ? "" : "s");
  if (options.exact)
    std::printf("  certified  yes: exact rational arithmetic, no tolerance, in %.3f s; the floating-point pass counted %s "
                "(%s missed, %s invented); %s facets certified, %s regions with a wrong facet set\n",
                certificate.seconds, with_commas(certificate.float_regions).c_str(), with_commas(certificate.float_missed).c_str(),
                with_commas(certificate.float_invented).c_str(), with_commas(certificate.facets_certified).c_str(),
                with_commas(certificate.float_facets_wrong).c_str());
  if (stats.num_exact_decisions)
    std::printf("  note       cuts within the tolerance of a vertex are decided in exact rational arithmetic, so the\n"
                "             count is exact; many of them slow a run down\n");
  return 0;
}

}  // namespace relutope::cli
