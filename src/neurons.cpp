#include "relutope/neurons.h"

#include <random>

#include "relutope/error.h"

namespace relutope {

const char* neuron_state_name(NeuronState state) {
  switch (state) {
    case NeuronState::kDead: return "dead";
    case NeuronState::kStablyActive: return "stably active";
    case NeuronState::kSwitching: return "switching";
    case NeuronState::kUnknown: return "unknown";
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
      dead[l] += s == NeuronState::kDead;
      stably_active[l] += s == NeuronState::kStablyActive;
    }
}

namespace {

// Share of uniform samples of the domain (rejecting points outside extra constraints) where each
// neuron is active.
std::vector<double> sampled_active_share(const Network& net, const Domain& domain, int num_samples, std::uint64_t seed,
                                         int& kept) {
  std::vector<std::uint64_t> active(net.num_neurons(), 0);
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
    for (std::size_t k = 0; k < active.size(); ++k) active[k] += pattern[k] != 0;
  }
  std::vector<double> share(active.size(), 0.0);
  for (std::size_t k = 0; k < active.size(); ++k) share[k] = kept ? static_cast<double>(active[k]) / kept : 0.0;
  return share;
}

}  // namespace

NeuronReport analyze_neurons(const Network& net, const Domain& domain, const EnumerateOptions& options,
                             int num_samples, std::uint64_t seed) {
  if (num_samples < 1) throw InputError("samples: expected a positive number, got " + std::to_string(num_samples));
  NeuronReport report;
  const int total = net.num_neurons();
  std::vector<std::uint64_t> active(total, 0);
  std::vector<double> active_volume(total, 0.0);
  double total_volume = 0;
  EnumerateOptions counting = options;
  counting.with_geometry = false;
  counting.with_volume = true;
  report.stats = enumerate_regions(net, domain, counting, [&](const Region& region) {
    for (int k = 0; k < total; ++k) active[k] += region.pattern[k];
    if (region.volume < 0) return;
    total_volume += region.volume;
    for (int k = 0; k < total; ++k)
      if (region.pattern[k]) active_volume[k] += region.volume;
  });
  report.num_regions = report.stats.num_regions;
  report.exact_volumes = report.stats.engine == Engine::kVertex;
  if (report.exact_volumes)
    for (int k = 0; k < total; ++k) active_volume[k] /= total_volume;
  else
    active_volume = sampled_active_share(net, domain, num_samples, seed, report.num_samples);

  int k = 0;
  for (std::size_t l = 0; l < net.layers.size(); ++l) {
    if (!net.layers[l].splits()) continue;
    std::vector<NeuronState> states;
    for (int i = 0; i < net.layers[l].num_rows(); ++i) {
      if (net.layers[l].is_linear_row(i)) continue;
      NeuronStats n;
      n.layer = static_cast<int>(l);
      n.neuron = i;
      n.regions_active = active[k];
      n.volume_fraction_active = active_volume[k];
      n.state = active[k] == 0 ? NeuronState::kDead
                : active[k] == report.num_regions ? NeuronState::kStablyActive
                                                  : NeuronState::kSwitching;
      states.push_back(n.state);
      report.neurons.push_back(n);
      ++k;
    }
    report.states.push_back(std::move(states));
  }
  return report;
}

}  // namespace relutope
