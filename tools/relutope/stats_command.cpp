// relutope stats: distributions over the regions, and the coverage check.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <numeric>

#include "cli_common.h"
#include "cli_options.h"
#include "relutope/error.h"
#include "relutope/io.h"
#include "relutope/polytope.h"

namespace relutope::cli {

namespace {

struct Summary {
  std::vector<double> values;
  nlohmann::ordered_json json(bool log_bins) {
    std::sort(values.begin(), values.end());
    nlohmann::ordered_json out;
    if (values.empty()) return out;
    out["min"] = values.front();
    out["median"] = values[values.size() / 2];
    out["max"] = values.back();
    out["mean"] = std::accumulate(values.begin(), values.end(), 0.0) / values.size();
    std::map<double, std::uint64_t> bins;  // log10 decades, or whole numbers
    for (double v : values) ++bins[log_bins ? std::floor(std::log10(v)) : v];
    nlohmann::ordered_json histogram = nlohmann::ordered_json::array();
    for (const auto& [bin, count] : bins)
      histogram.push_back(log_bins ? nlohmann::ordered_json{{"from", std::pow(10.0, bin)}, {"to", std::pow(10.0, bin + 1)}, {"count", count}}
                                   : nlohmann::ordered_json{{"value", bin}, {"count", count}});
    out["histogram"] = histogram;
    return out;
  }
};

}  // namespace

int run_stats(const StatsOptions& options) {
  const CountingDomain chosen = choose_domain(load_network(options.model), options.where);
  const Network& net = chosen.net;
  EnumerateOptions enumerate = to_enumerate_options(options.run);
  PartitionMeasures measures;
  {
    const Progress progress(enumerate, options.run.quiet);
    measures = measure_partition(net, chosen.domain, enumerate);
  }
  const EnumerateStats& stats = measures.stats;
  const double coverage = measures.coverage;
  const bool with_cgal = measures.coverage_cgal.has_value();
  const double coverage_cgal = measures.coverage_cgal.value_or(-1);
  Summary volume{measures.volumes}, inradius{measures.inradii};
  Summary facets{{measures.num_facets.begin(), measures.num_facets.end()}};
  Summary vertices{{measures.num_vertices.begin(), measures.num_vertices.end()}};
  nlohmann::ordered_json out;
  out["model"] = options.model;
  out["domain"] = domain_object(chosen);
  out["regions"] = stats.num_regions;
  out["coverage"] = coverage;
  if (with_cgal) out["coverage_cgal"] = coverage_cgal;
  out["volume"] = volume.json(true);
  out["inradius"] = inradius.json(true);
  out["facets"] = facets.json(false);
  out["vertices"] = vertices.json(false);
  out["tolerance"] = options.run.tolerance;
  out["near_degenerate"] = stats.num_near_degenerate;
  out["exact_decisions"] = stats.num_exact_decisions;
  if (options.json) {
    std::cout << out.dump() << "\n";
  } else {
    std::printf("%s regions of %s in %s%s\n", with_commas(stats.num_regions).c_str(), options.model.c_str(),
                chosen.domain.describe().c_str(), domain_note(chosen).c_str());
    std::printf("coverage   %.12f of the domain's volume (must be 1 up to rounding)\n", coverage);
    if (with_cgal)
      std::printf("           %.12f with each region rebuilt by CGAL from its half-spaces\n", coverage_cgal);
    std::printf("\n");
    std::printf("%-10s %12s %12s %12s %12s\n", "", "min", "median", "max", "mean");
    for (const char* key : {"volume", "inradius", "facets", "vertices"}) {
      const auto& s = out[key];
      if (s.is_null()) continue;
      std::printf("%-10s %12.4g %12.4g %12.4g %12.4g\n", key, s["min"].get<double>(), s["median"].get<double>(),
                  s["max"].get<double>(), s["mean"].get<double>());
    }
    std::printf("\nhistograms: --json\n");
  }
  return 0;
}

}  // namespace relutope::cli
