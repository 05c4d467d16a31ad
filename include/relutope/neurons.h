#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "relutope/domain.h"
#include "relutope/enumerate.h"
#include "relutope/network.h"

namespace relutope {

/// How a neuron behaves over a domain.
enum class NeuronState {
  kDead,           ///< never active: pre-activation <= 0 on the whole domain ("dying ReLU")
  kStablyActive,   ///< never inactive: pre-activation >= 0 on the whole domain
  kSwitching,      ///< both signs occur on sets of positive volume
  kUnknown,        ///< a sound but incomplete method could not decide
};

const char* neuron_state_name(NeuronState state);

/// Per split layer (Network::hidden_widths() order), per neuron.
using NeuronStates = std::vector<std::vector<NeuronState>>;

/// Interval bound propagation over the domain's box: sound (a neuron called dead or stably active
/// is so) but incomplete (kUnknown where the intervals are too loose). No enumeration; O(weights).
NeuronStates neuron_states_by_intervals(const Network& net, const Domain& domain);

/// Counts of dead and stably active neurons per split layer.
void count_stable(const NeuronStates& states, std::vector<int>& dead, std::vector<int>& stably_active);

struct NeuronStats {
  int layer = 0;   ///< index into Network::layers
  int neuron = 0;
  NeuronState state = NeuronState::kUnknown;
  std::uint64_t regions_active = 0;   ///< regions (of all enumerated) where the neuron is active
  double volume_fraction_active = 0;  ///< share of the domain's volume where it is active
};

struct NeuronReport {
  std::vector<NeuronStats> neurons;  ///< in pattern order
  NeuronStates states;               ///< from the exact enumeration
  std::uint64_t num_regions = 0;
  /// True when volume_fraction_active sums exact region volumes (vertex engine); false when it is
  /// estimated from num_samples uniform samples (LP engine, high dimension).
  bool exact_volumes = false;
  int num_samples = 0;
  EnumerateStats stats;
};

/// The dying-ReLU report: enumerates every region (exact states and region counts). Each neuron's
/// active volume share sums the exact volumes of its regions where the vertex engine runs; with the
/// LP engine it is estimated from `num_samples` uniform samples (seeded, so reproducible; standard
/// error <= 0.5/sqrt(num_samples)).
NeuronReport analyze_neurons(const Network& net, const Domain& domain, const EnumerateOptions& options,
                             int num_samples = 100000, std::uint64_t seed = 1);

}  // namespace relutope
