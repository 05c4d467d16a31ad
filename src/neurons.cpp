#include "relutope/neurons.h"

#include <algorithm>
#include <random>

#include "detail/require_complete.h"
#include "relutope/error.h"

namespace relutope {

const char* neuron_state_name(NeuronState state) {
  switch (state) {
    case NeuronState::kDead: return "dead";
    case NeuronState::kStablyActive: return "stably active";
    case NeuronState::kSwitching: return "switching";
    case NeuronState::kUnknown: return "unknown";
    case NeuronState::kFixed: return "fixed";
  }
  return "?";
}

NeuronStates neuron_states_by_intervals(const Network& net, const Domain& domain) {
  net.validate();
  domain.validate();
  if (domain.dim() != net.input_dim())
    throw InputError("domain has dimension " + std::to_string(domain.dim()) + " but the network has " +
                     std::to_string(net.input_dim()) + " inputs");
  NeuronStates states;
  Eigen::VectorXd lo = domain.lo, hi = domain.hi;
  for (const Layer& layer : net.layers) {
    const Eigen::MatrixXd pos = layer.weight.cwiseMax(0.0), neg = layer.weight.cwiseMin(0.0);
    Eigen::VectorXd zlo = pos * lo + neg * hi + layer.bias;
    Eigen::VectorXd zhi = pos * hi + neg * lo + layer.bias;
    if (layer.activation == Activation::kMax) {
      // A unit is fixed when one row's lower bound is above every other row's upper bound; it
      // outputs the largest row, so its interval is [max of lower bounds, max of upper bounds].
      std::vector<NeuronState> s;
      Eigen::VectorXd ylo(layer.num_units()), yhi(layer.num_units());
      for (int u = 0, row = 0; u < layer.num_units(); row += layer.rows_of_unit(u++)) {
        const int k = layer.rows_of_unit(u);
        Eigen::Index best = 0;
        ylo[u] = zlo.segment(row, k).maxCoeff(&best);
        yhi[u] = zhi.segment(row, k).maxCoeff();
        if (k < 2) continue;
        bool fixed = true;
        for (int j = 0; j < k; ++j) fixed = fixed && (j == best || zhi[row + j] < zlo[row + best]);
        s.push_back(fixed ? NeuronState::kFixed : NeuronState::kUnknown);
      }
      if (layer.splits()) states.push_back(std::move(s));
      lo = ylo;
      hi = yhi;
      continue;
    }
    if (layer.splits()) {
      std::vector<NeuronState> s;
      for (int i = 0; i < layer.num_rows(); ++i) {
        if (layer.is_linear_row(i)) continue;  // no neuron: one state
        s.push_back(zhi[i] <= 0 ? NeuronState::kDead : zlo[i] >= 0 ? NeuronState::kStablyActive : NeuronState::kUnknown);
        // the activation is monotone, so it maps the interval's ends
        const double slope = layer.slope_below(i);
        zlo[i] = zlo[i] < 0 ? slope * zlo[i] : zlo[i];
        zhi[i] = zhi[i] < 0 ? slope * zhi[i] : zhi[i];
        if (slope < 0) std::swap(zlo[i], zhi[i]);
      }
      states.push_back(std::move(s));
    }
    lo = zlo;
    hi = zhi;
  }
  return states;
}

void count_stable(const NeuronStates& states, std::vector<int>& dead, std::vector<int>& stably_active) {
  dead.assign(states.size(), 0);
  stably_active.assign(states.size(), 0);
  for (std::size_t l = 0; l < states.size(); ++l)
    for (NeuronState s : states[l]) {
      dead[l] += s == NeuronState::kDead || s == NeuronState::kFixed;
      stably_active[l] += s == NeuronState::kStablyActive;
    }
}

namespace {

// One row of the report: a neuron (one pattern entry, 2 states), a Max unit of k rows (one entry, k
// states) or a two-sided clip (two entries, one per ReLU row, 3 states: its number of active rows).
struct ReportUnit {
  int layer = 0, index = 0;  // index: the row of a neuron, the unit of a Max or clip unit
  int entry = 0;             // its first pattern entry
  int num_entries = 1;
  int num_states = 2;
  bool is_max = false;

  int state(const ActivationPattern& pattern) const {
    return num_entries == 1 ? pattern[entry] : pattern[entry] + pattern[entry + 1];
  }
};

std::vector<ReportUnit> report_units(const Network& net) {
  std::vector<ReportUnit> out;
  int entry = 0;
  for (std::size_t l = 0; l < net.layers.size(); ++l) {
    const Layer& layer = net.layers[l];
    if (!layer.splits()) continue;
    const bool is_max = layer.activation == Activation::kMax;
    for (int u = 0, row = 0; u < layer.num_units(); row += layer.rows_of_unit(u++)) {
      const int rows = layer.rows_of_unit(u);
      ReportUnit r;
      r.layer = static_cast<int>(l);
      r.entry = entry;
      r.is_max = is_max;
      if (is_max) {
        if (rows < 2) continue;  // one state: no entry
        r.index = u;
        r.num_states = rows;
        ++entry;
      } else if (rows == 2 && !layer.is_linear_row(row) && !layer.is_linear_row(row + 1)) {
        r.index = u;  // a clip: lo + relu(z - lo) - relu(z - hi)
        r.num_entries = 2;
        r.num_states = 3;
        entry += 2;
      } else {
        // Rows of any other unit are reported one by one, as neurons.
        for (int i = row; i < row + rows; ++i) {
          if (layer.is_linear_row(i)) continue;
          ReportUnit n = r;
          n.index = i;
          n.entry = entry++;
          out.push_back(n);
        }
        continue;
      }
      out.push_back(r);
    }
  }
  return out;
}

// Share of uniform samples of the domain (rejecting points outside extra constraints) in each state
// of each pattern entry.
std::vector<std::vector<double>> sampled_state_share(const Network& net, const Domain& domain, int num_samples,
                                                     std::uint64_t seed, int& kept) {
  const std::vector<ReportUnit> units = report_units(net);
  std::vector<std::vector<double>> share;
  for (const ReportUnit& unit : units) share.emplace_back(unit.num_states, 0.0);
  std::mt19937_64 rng(seed);
  Eigen::VectorXd x(domain.dim());
  ActivationPattern pattern;
  kept = 0;
  for (long s = 0; s < 100L * num_samples && kept < num_samples; ++s) {
    for (int i = 0; i < domain.dim(); ++i)
      x[i] = domain.lo[i] + static_cast<double>(rng() >> 11) * 0x1.0p-53 * (domain.hi[i] - domain.lo[i]);
    bool inside = true;
    for (const Halfspace& h : domain.extra) inside &= h.violation(x) <= 0;
    if (!inside) continue;
    ++kept;
    net.evaluate(x, &pattern);
    for (std::size_t k = 0; k < share.size(); ++k) share[k][units[k].state(pattern)] += 1;
  }
  for (auto& entry : share)
    for (double& v : entry) v = kept ? v / kept : 0.0;
  return share;
}

}  // namespace

NeuronReport analyze_neurons(const Network& net, const Domain& domain, const EnumerateOptions& options,
                             int num_samples, std::uint64_t seed) {
  if (num_samples < 1) throw InputError("samples: expected a positive number, got " + std::to_string(num_samples));
  NeuronReport report;
  const std::vector<ReportUnit> units = report_units(net);
  const int total = static_cast<int>(units.size());
  std::vector<std::vector<std::uint64_t>> regions(total);
  std::vector<std::vector<double>> volume(total);
  for (int k = 0; k < total; ++k) regions[k].assign(units[k].num_states, 0), volume[k].assign(units[k].num_states, 0.0);
  double total_volume = 0;
  EnumerateOptions counting = options;
  counting.with_geometry = false;
  counting.with_volume = true;
  report.stats = enumerate_regions(net, domain, counting, [&](const Region& region) {
    for (int k = 0; k < total; ++k) ++regions[k][units[k].state(region.pattern)];
    if (!region.volume) return;
    total_volume += *region.volume;
    for (int k = 0; k < total; ++k) volume[k][units[k].state(region.pattern)] += *region.volume;
  });
  detail::require_complete(report.stats, "the neuron report");
  report.num_regions = report.stats.num_regions;
  report.exact_volumes = report.stats.engine == Engine::kVertex;
  if (report.exact_volumes)
    for (auto& entry : volume)
      for (double& v : entry) v /= total_volume;
  else
    volume = sampled_state_share(net, domain, num_samples, seed, report.num_samples);

  // Per pattern entry (for count_stable and the weight-aware bound), rows of a clip as neurons.
  for (const Layer& layer : net.layers)
    if (layer.splits()) report.states.emplace_back();
  std::vector<int> split_index(net.layers.size(), -1);
  for (std::size_t l = 0, s = 0; l < net.layers.size(); ++l)
    if (net.layers[l].splits()) split_index[l] = static_cast<int>(s++);
  for (int k = 0; k < total; ++k) {
    const ReportUnit& unit = units[k];
    NeuronStats n;
    n.layer = unit.layer;
    n.neuron = unit.index;
    n.is_max_unit = unit.is_max;
    n.is_clip_unit = unit.num_entries == 2;
    n.regions_in_state = regions[k];
    n.volume_fraction_in_state = volume[k];
    const auto occupied = std::count_if(regions[k].begin(), regions[k].end(), [](std::uint64_t r) { return r > 0; });
    if (unit.is_max) {
      n.state = occupied > 1 ? NeuronState::kSwitching : NeuronState::kFixed;
    } else if (n.is_clip_unit) {
      // Always at one bound: constant output, dead; always between: linear, stably active.
      n.state = occupied > 1 ? NeuronState::kSwitching : regions[k][1] > 0 ? NeuronState::kStablyActive : NeuronState::kDead;
    } else {
      n.regions_active = regions[k][1];
      n.volume_fraction_active = volume[k][1];
      n.state = n.regions_active == 0 ? NeuronState::kDead
                : n.regions_active == report.num_regions ? NeuronState::kStablyActive
                                                         : NeuronState::kSwitching;
    }
    std::vector<NeuronState>& row_states = report.states[split_index[unit.layer]];
    if (!n.is_clip_unit) {
      row_states.push_back(n.state);
    } else {
      // Its rows as neurons: relu(z - lo) is active in states 1 and 2, relu(z - hi) in state 2.
      for (const std::uint64_t active : {regions[k][1] + regions[k][2], regions[k][2]})
        row_states.push_back(active == 0 ? NeuronState::kDead
                             : active == report.num_regions ? NeuronState::kStablyActive
                                                            : NeuronState::kSwitching);
    }
    report.neurons.push_back(std::move(n));
  }
  return report;
}

}  // namespace relutope
