// relutope study: sweeps of networks, a tidy CSV and plots against the theory.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "cli_common.h"
#include "cli_options.h"
#include "plot.h"
#include "relutope/error.h"
#include "relutope/io.h"
#include "relutope/random_network.h"

namespace relutope::cli {

namespace {

std::vector<int> int_list(const std::string& text, char separator, const char* option) {
  std::vector<int> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, separator)) {
    std::size_t used = 0;
    int v = 0;
    try {
      v = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || v < 1) throw InputError(std::string(option) + ": \"" + item + "\" is not a positive whole number");
    out.push_back(v);
  }
  if (out.empty()) throw InputError(std::string(option) + ": empty list");
  return out;
}

std::string widths_text(const std::vector<int>& widths) { return join(widths, "x"); }

const Bound* find_bound(const std::vector<Bound>& bounds, const std::string& id) {
  for (const Bound& b : bounds)
    if (b.id == id && b.applies) return &b;
  return nullptr;
}

struct Point {  // one x of the plot: an architecture or a checkpoint
  double x;
  std::string label;
  std::vector<int> widths;  // random networks
  std::string model;        // or a checkpoint
};

}  // namespace

int run_study(const StudyOptions& options) {
  const RandomInit init = options.init == "he" ? RandomInit::kHe
                          : options.init == "torch"
                              ? RandomInit::kTorchDefault
                              : throw InputError("--init: expected he or torch, got \"" + options.init + "\"");
  std::vector<Point> points;
  std::string x_label;
  if (!options.depths.empty()) {
    x_label = "depth (hidden layers), " + std::to_string(options.neurons) + " neurons in all";
    for (int depth : int_list(options.depths, ',', "--depths"))
      points.push_back({static_cast<double>(depth), std::to_string(depth), std::vector<int>(depth, std::max(1, options.neurons / depth)), ""});
  } else if (!options.widths.empty()) {
    x_label = "width of each of " + std::to_string(options.depth) + " hidden layers";
    for (int width : int_list(options.widths, ',', "--widths"))
      points.push_back({static_cast<double>(width), std::to_string(width), std::vector<int>(options.depth, width), ""});
  } else if (!options.archs.empty()) {
    x_label = "width of the first hidden layer";
    std::stringstream in(options.archs);
    std::string arch;
    while (std::getline(in, arch, ',')) {
      const std::vector<int> widths = int_list(arch, 'x', "--archs");
      points.push_back({static_cast<double>(widths[0]), arch, widths, ""});
    }
  } else {
    x_label = "checkpoint";
    for (std::size_t i = 0; i < options.models.size(); ++i)
      points.push_back({static_cast<double>(i), options.models[i], {}, options.models[i]});
  }
  std::filesystem::create_directories(options.out);
  const std::string csv_path = options.out + "/study.csv";
  std::ofstream csv(csv_path);
  if (!csv) throw InputError(csv_path + ": cannot open for writing");
  csv.precision(12);
  csv << "kind,model,input_dim,depth,widths,neurons,seed,init,bias_std,domain,regions,seconds,engine,near_degenerate,"
         "serra2018_upper,montufar2017_upper,hanin_rolnick2019\n";
  EnumerateOptions enumerate = to_enumerate_options(options.run);
  Series measured{"regions (mean +- sd over seeds)", {}, {}, {}, false, 0.12, 0.35, 0.65};
  Series serra{"Serra et al. 2018 upper bound", {}, {}, {}, true, 0.80, 0.30, 0.25};
  Series hanin{"N^d/d! (Hanin & Rolnick 2019)", {}, {}, {}, true, 0.30, 0.60, 0.30};
  if (!options.run.quiet) std::printf("%-24s %8s %12s %12s %14s\n", "network", "seeds", "mean", "sd", "Serra upper");
  for (const Point& point : points) {
    std::vector<double> counts;
    std::vector<Bound> bounds;
    const int runs = point.model.empty() ? options.seeds : 1;
    for (int k = 0; k < runs; ++k) {
      const std::uint64_t seed = static_cast<std::uint64_t>(options.first_seed + k);
      Network net = point.model.empty()
                        ? random_network(options.input_dim, point.widths, 1, seed, init, options.bias_std)
                        : load_network(point.model);
      const CountingDomain chosen = choose_domain(std::move(net), options.where);
      EnumerateStats stats;
      {
        const Progress progress(enumerate, options.run.quiet);
        stats = count_regions(chosen.net, chosen.domain, enumerate);
      }
      Architecture arch;
      arch.input_dim = chosen.net.input_dim();
      arch.widths = chosen.net.hidden_widths();
      bounds = region_bounds(arch);
      const Bound* upper = find_bound(bounds, "serra2018_upper");
      const Bound* m17 = find_bound(bounds, "montufar2017_upper");
      const Bound* hr = find_bound(bounds, "hanin_rolnick2019");
      counts.push_back(static_cast<double>(stats.num_regions));
      csv << (point.model.empty() ? "random" : "model") << ',' << point.model << ',' << arch.input_dim << ','
          << arch.widths.size() << ',' << widths_text(arch.widths) << ',' << arch.num_neurons() << ','
          << (point.model.empty() ? std::to_string(seed) : "") << ',' << (point.model.empty() ? options.init : "") << ','
          << (point.model.empty() && init == RandomInit::kHe ? std::to_string(options.bias_std) : "") << ','
          << '"' << chosen.domain.describe() << "\"," << stats.num_regions << ',' << stats.seconds << ',' << engine_name(stats.engine)
          << ',' << stats.num_near_degenerate << ',' << (upper ? upper->value : "") << ',' << (m17 ? m17->value : "") << ','
          << (hr ? hr->value : "") << '\n';
    }
    double mean = 0, sd = 0;
    for (double c : counts) mean += c / counts.size();
    for (double c : counts) sd += (c - mean) * (c - mean) / std::max<std::size_t>(1, counts.size() - 1);
    sd = std::sqrt(sd);
    measured.x.push_back(point.x);
    measured.y.push_back(mean);
    measured.error.push_back(sd);
    const Bound* upper = find_bound(bounds, "serra2018_upper");
    const Bound* hr = find_bound(bounds, "hanin_rolnick2019");
    if (upper) serra.x.push_back(point.x), serra.y.push_back(std::pow(10.0, upper->log10));
    if (hr) hanin.x.push_back(point.x), hanin.y.push_back(std::pow(10.0, hr->log10));
    if (!options.run.quiet)
      std::printf("%-24s %8d %12.1f %12.1f %14s\n", point.label.c_str(), runs, mean, sd,
                  upper ? (upper->value.size() <= 14 ? upper->value : "1e" + std::to_string(static_cast<int>(upper->log10))).c_str() : "-");
  }
  Plot plot;
  plot.title = "Activation regions, exact counts (relutope)";
  plot.x_label = x_label;
  plot.y_label = "regions";
  plot.series = {measured, serra, hanin};
  write_plot(plot, options.out + "/regions.svg");
  write_plot(plot, options.out + "/regions.png");
  if (!options.run.quiet)
    std::printf("\nwrote %s, %s/regions.svg, %s/regions.png\n", csv_path.c_str(), options.out.c_str(), options.out.c_str());
  return 0;
}

}  // namespace relutope::cli
