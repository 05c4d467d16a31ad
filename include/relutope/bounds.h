#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "relutope/domain.h"
#include "relutope/network.h"
#include "relutope/neurons.h"

namespace relutope {

/// The shape the depth/width theory speaks of: input dimension n0 and hidden widths n1..nL.
/// `ranks`, when given (one per hidden layer), are the ranks of the weight matrices W^1..W^L,
/// and `stably_inactive` / `stably_active` count, per layer, neurons whose sign never changes
/// over the domain (they enter the weight-aware bound).
struct Architecture {
  int input_dim = 0;
  std::vector<int> widths;
  std::vector<int> ranks;
  std::vector<int> stably_inactive;
  std::vector<int> stably_active;
  /// Graph models (Architecture::of a network with linear rows, clip units or Max units), one entry
  /// per split layer; all empty for a plain ReLU network, where each equals `widths`:
  /// `outputs`: the values the layer passes on (its dimension), linear rows included;
  /// `hyperplanes`: its breakpoint hyperplanes, 1 per ReLU row, k(k-1)/2 per Max unit of k rows.
  std::vector<int> outputs;
  std::vector<int> hyperplanes;
  /// States of every unit with two or more (2 per ReLU row, 3 per clip unit, k per Max unit of k
  /// rows); empty for a plain ReLU network (2 per neuron).
  std::vector<int> unit_states;
  /// True unless linear rows or Max units make the ReLU theory (which assumes a layer's output
  /// dimension is its number of active neurons) inapplicable.
  bool is_plain() const { return outputs.empty(); }

  /// The sum of `widths`.
  int num_neurons() const;
  /// Input dim, hidden widths and weight ranks (numerical rank, relative tolerance 1e-10) of `net`.
  /// @param[in] net  a network
  /// @return input_dim = net.input_dim(); widths, ranks and, for graph models, outputs, hyperplanes
  ///         and unit_states with one entry per split layer; no stable neurons (see model_bounds)
  static Architecture of(const Network& net);
};

/// One row of the table of known results on the number of regions.
struct Bound {
  enum class Kind { kUpper, kLower, kExact, kExpectation, kAsymptotic };
  std::string id;         ///< stable key, e.g. "serra2018_upper"
  std::string name;       ///< e.g. "Serra et al. 2018, Thm 1 (upper)"
  Kind kind = Kind::kUpper;
  /// Upper bounds bound the count of *this* architecture for any weights; lower bounds and the n0=1
  /// exact value speak of the *maximum* over all weights (some network reaches that many).
  bool applies = true;
  std::string reason;     ///< why it does not apply (validity condition), or a remark
  std::string value;      ///< exact decimal integer (or a decimal for expectations); empty if !applies
  double log10 = 0;       ///< log10 of value
  bool verified = true;   ///< false where the exact form could not be confirmed from the paper
};

/// "upper", "lower", "exact max", "expectation" or "asymptotic".
const char* bound_kind_name(Bound::Kind kind);

/// Every known bound for `arch`, in a fixed order. Big integers are exact (GMP).
/// @param[in] arch  input dimension and widths; ranks and stable neurons, when given, add the
///                  rank-tightened and weight-aware bounds
/// @return one Bound per known result, applicable or not (Bound::applies, Bound::reason)
std::vector<Bound> region_bounds(const Architecture& arch);

/// The smallest applicable proven upper bound.
/// @param[in] bounds  as region_bounds returns them
/// @return a pointer into `bounds` (valid while it lives), or nullptr if none applies
const Bound* tightest_upper_bound(const std::vector<Bound>& bounds);

/// Compares a count with a bound's decimal value, exactly (values may exceed 64 bits).
/// @param[in] count  a region count
/// @param[in] value  a non-negative decimal integer (Bound::value of an upper or lower bound)
/// @return -1, 0 or 1 as count <, ==, > value
int compare_count(unsigned long long count, const std::string& value);

/// The bounds of a trained network on a domain: its widths, the numerical ranks of its weights, and
/// the neurons that interval arithmetic proves stable on `domain` (Architecture::of + neuron_states_by_intervals).
/// @param[in] net     network; net.input_dim() == domain.dim()
/// @param[in] domain  the domain the regions are counted in
/// @return region_bounds of that Architecture
std::vector<Bound> model_bounds(const Network& net, const Domain& domain);

/// The same with neuron states found otherwise, e.g. exactly by enumeration (NeuronReport::states).
/// @param[in] net     network
/// @param[in] states  one vector per split layer of net, one state per neuron
/// @return region_bounds of Architecture::of(net) with the dead and stably active neurons of `states`
std::vector<Bound> model_bounds(const Network& net, const NeuronStates& states);

/// Checks a count against every applicable proven upper bound: a count above one is a bug in relutope.
/// @param[in] count   a region count
/// @param[in] bounds  as region_bounds or model_bounds return them
/// @throws std::logic_error naming the bound (not an Error: the input is not at fault)
void check_against_bounds(std::uint64_t count, const std::vector<Bound>& bounds);

}  // namespace relutope
