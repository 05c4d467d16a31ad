// relutope bench: fixed seeded networks, the figures BENCHMARKS.md records.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "cli_options.h"
#include "relutope/certify.h"
#include "relutope/random_network.h"

namespace relutope::cli {

namespace {

struct BenchCase {
  const char* name;
  int input_dim;
  std::vector<int> widths;
  double lo, hi;
  RandomInit init = RandomInit::kTorchDefault;
};

// Seed 0 for all. The first seven: the networks of issue #2 (and landscape.md's peer measurements),
// PyTorch's default initialisation. The he* cases: the shapes issue #11 measures edge subdivision
// on, He-normal weights (std sqrt(2/fan_in)) and biases N(0, 0.1^2).
const BenchCase kCases[] = {
    {"2x64x64x64x64", 2, {64, 64, 64, 64}, -1, 1},
    {"2x64x64x64x64@6", 2, {64, 64, 64, 64}, -6, 6},
    {"3x32x32x32", 3, {32, 32, 32}, -1, 1},
    {"3x32x32x32@6", 3, {32, 32, 32}, -6, 6},
    {"4x12x12x12", 4, {12, 12, 12}, -1, 1},
    {"5x10x10", 5, {10, 10}, -1, 1},
    {"64x10x10", 64, {10, 10}, 0, 1},
    {"he2x32x32x32x32", 2, {32, 32, 32, 32}, -1, 1, RandomInit::kHe},
    {"he2x64x64x64x64", 2, {64, 64, 64, 64}, -1, 1, RandomInit::kHe},
    {"he3x16x16x16", 3, {16, 16, 16}, -1, 1, RandomInit::kHe},
    {"he3x32x32x32", 3, {32, 32, 32}, -1, 1, RandomInit::kHe},
    {"he4x12x12x12", 4, {12, 12, 12}, -1, 1, RandomInit::kHe},
    {"he5x10x10", 5, {10, 10}, -1, 1, RandomInit::kHe},
};
constexpr double kHeBiasStd = 0.1;

bool selected(const std::string& only, const char* name) {
  if (only.empty()) return true;
  std::size_t start = 0;
  while (start <= only.size()) {
    const std::size_t end = std::min(only.find(',', start), only.size());
    if (only.compare(start, end - start, name) == 0 && std::char_traits<char>::length(name) == end - start) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

int run_bench(const BenchOptions& options) {
  bool any = false;
  if (!options.json)
    std::printf("%-16s %-7s %8s %10s %10s %10s %14s\n", "network", "engine", "threads", "regions", "median s", "best s",
                "regions/s");
  for (const BenchCase& c : kCases) {
    if (!selected(options.only, c.name)) continue;
    any = true;
    const Network net = random_network(c.input_dim, c.widths, 1, 0, c.init, kHeBiasStd);
    const Domain domain = Domain::cube(c.input_dim, c.lo, c.hi);
    EnumerateOptions enumerate = to_enumerate_options(options.run);
    const Progress progress(enumerate, options.run.quiet);
    // The median run's statistics (the lower median for an even number of runs), and the best time.
    std::vector<EnumerateStats> runs;
    for (int r = 0; r < std::max(1, options.repeat); ++r) runs.push_back(count_regions(net, domain, enumerate));
    std::sort(runs.begin(), runs.end(),
              [](const EnumerateStats& a, const EnumerateStats& b) { return a.seconds < b.seconds; });
    const EnumerateStats& best = runs[(runs.size() - 1) / 2];
    const double fastest = runs.front().seconds;
    const double rate = best.num_regions / best.seconds;
    Certificate certificate;
    if (options.exact) certificate = certify_count(net, domain, enumerate);
    if (options.json) {
      nlohmann::ordered_json out = {{"network", c.name},       {"engine", engine_name(best.engine)},
                                    {"threads", best.num_threads}, {"regions", best.num_regions},
                                    {"seconds", best.seconds},   {"best_seconds", fastest},
                                    {"runs", runs.size()},         {"regions_per_second", rate},
                                    {"lps", best.num_lps},         {"lp_fallbacks", best.num_lp_fallbacks},         {"near_degenerate", best.num_near_degenerate},
                                    {"exact_decisions", best.num_exact_decisions}};
      if (options.exact)
        out["exact"] = {{"regions", certificate.num_regions}, {"seconds", certificate.seconds},
                        {"float_missed", certificate.float_missed}, {"float_invented", certificate.float_invented}};
      std::cout << out.dump() << std::endl;
    } else {
      std::printf("%-16s %-7s %8d %10llu %10.4f %10.4f %14.0f\n", c.name, engine_name(best.engine), best.num_threads,
                  static_cast<unsigned long long>(best.num_regions), best.seconds, fastest, rate);
      if (options.exact)
        std::printf("%-16s %-7s %8d %10llu %10.3f %10s %14.0f  (%llu missed, %llu invented by the float pass)\n", "", "exact",
                    best.num_threads,
                    static_cast<unsigned long long>(certificate.num_regions), certificate.seconds, "",
                    certificate.num_regions / certificate.seconds, static_cast<unsigned long long>(certificate.float_missed),
                    static_cast<unsigned long long>(certificate.float_invented));
      std::fflush(stdout);
    }
  }
  if (!any) {
    std::cerr << "relutope bench: no case named \"" << options.only << "\"\n";
    return 1;
  }
  return 0;
}

}  // namespace relutope::cli
