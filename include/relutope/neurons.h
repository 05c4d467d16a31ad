#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "relutope/domain.h"
#include "relutope/enumerate.h"
#include "relutope/network.h"

namespace relutope {

/// How a neuron (or a k-state unit) behaves over a domain.
enum class NeuronState {
  kDead,           ///< never active: pre-activation <= 0 on the whole domain ("dying ReLU")
  kStablyActive,   ///< never inactive: pre-activation >= 0 on the whole domain
  kSwitching,      ///< both signs (a Max unit: two or more states) occur on sets of positive volume
  kUnknown,        ///< a sound but incomplete method could not decide
  kFixed,          ///< a Max unit whose largest row is the same on the whole domain (the analogue of dead)
};

/// "dead", "stably active", "switching", "unknown" or "fixed".
const char* neuron_state_name(NeuronState state);

/// Per split layer (Network::hidden_widths() order), per pattern entry (neuron or Max unit).
using NeuronStates = std::vector<std::vector<NeuronState>>;

/// Interval bound propagation over the domain's box: sound (a neuron called dead or stably active
/// is so) but incomplete (kUnknown where the intervals are too loose). No enumeration; O(weights).
/// @param[in] net     network with d inputs
/// @param[in] domain  domain of dimension d; only its box [lo, hi] is used
/// @return one vector per split layer with one state per pattern entry: kDead, kStablyActive or
///         kUnknown for a neuron, kFixed or kUnknown for a Max unit
NeuronStates neuron_states_by_intervals(const Network& net, const Domain& domain);

/// Counts of dead and stably active neurons per split layer (a Max unit of fixed state counts as dead).
/// @param[in]  states         as neuron_states_by_intervals or NeuronReport::states give them
/// @param[out] dead           per split layer, the entries in state kDead or kFixed (resized to states.size())
/// @param[out] stably_active  per split layer, the neurons in state kStablyActive (resized likewise)
void count_stable(const NeuronStates& states, std::vector<int>& dead, std::vector<int>& stably_active);

/// One entry of the dying-ReLU report: a neuron (a ReLU-family row), a Max unit of k >= 2 rows, or a
/// two-sided clip (Hardtanh, ReLU6: Layer::unit_rows 2, two pattern entries) as one 3-state unit.
struct NeuronStats {
  int layer = 0;   ///< index into Network::layers
  int neuron = 0;  ///< row of that layer; for a Max or clip unit, its unit index (see Layer::unit_rows)
  bool is_max_unit = false;
  bool is_clip_unit = false;  ///< a two-sided clip: states 0 (at its lower bound), 1 (between), 2 (at its upper bound)
  /// For a neuron: dead, stably active or switching. For a Max unit: fixed (one state) or switching.
  /// For a clip: dead (always at one bound: constant), stably active (always between) or switching.
  NeuronState state = NeuronState::kUnknown;
  std::uint64_t regions_active = 0;   ///< neurons only: regions (of all enumerated) where it is active (state 1)
  double volume_fraction_active = 0;  ///< neurons only: share of the domain's volume where it is active
  /// Per state (0 inactive / 1 active for a neuron; the index of the largest row for a Max unit; 0, 1, 2
  /// for a clip): the regions in that state and the share of the domain's volume.
  std::vector<std::uint64_t> regions_in_state;
  std::vector<double> volume_fraction_in_state;
};

/// The dying-ReLU report of analyze_neurons.
struct NeuronReport {
  /// In pattern order: one per pattern entry, except a clip, whose two entries are one NeuronStats.
  std::vector<NeuronStats> neurons;
  NeuronStates states;               ///< from the exact enumeration, per pattern entry (a clip's rows as neurons)
  std::uint64_t num_regions = 0;     ///< regions enumerated
  /// True when volume_fraction_active sums exact region volumes (vertex engine); false when it is
  /// estimated from num_samples uniform samples (LP engine, high dimension).
  bool exact_volumes = false;
  int num_samples = 0;               ///< samples drawn (0 with exact volumes)
  EnumerateStats stats;              ///< of the enumeration
};

/// The dying-ReLU report: enumerates every region (exact states and region counts). Each neuron's
/// active volume share sums the exact volumes of its regions where the vertex engine runs; with the
/// LP engine it is estimated from `num_samples` uniform samples (seeded, so reproducible; standard
/// error <= 0.5/sqrt(num_samples)). Max units get the same per state; one whose state never changes
/// is kFixed.
/// @param[in] net          network with d inputs and k = net.num_neurons() pattern entries
/// @param[in] domain       domain of dimension d
/// @param[in] options      threads, engine, tolerance, progress and cancel (geometry is chosen here)
/// @param[in] num_samples  uniform samples for the volume shares when the engine gives no volumes
/// @param[in] seed         of those samples
/// @return k NeuronStats in pattern order, the exact states and the count
/// @throws as enumerate_regions
NeuronReport analyze_neurons(const Network& net, const Domain& domain, const EnumerateOptions& options,
                             int num_samples = 100000, std::uint64_t seed = 1);

}  // namespace relutope
