#pragma once
// What an engine hands to the driver for every region it finds. Private to src/.
#include <cstdint>
#include <optional>
#include <vector>

namespace relutope::detail {

// Identifies one constraint of a region: a neuron's side, a Max unit's piece facet or a domain
// constraint. Domain constraint k is -1 - k. The others are (entry << 16) | (state << 8) | other,
// where entry is the global index in the ActivationPattern:
// - a ReLU-family row: state 1 for the active side (z >= 0), 0 for the inactive (z <= 0); other
//   is kNoOther;
// - a Max unit: the facet z[state] >= z[other] of the piece where row `state` is the largest
//   (rows of the unit, 0..kMaxUnitStates-1).
using ConstraintCode = std::int64_t;
constexpr int kNoOther = 255;
inline ConstraintCode neuron_code(int global, bool active) {
  return (static_cast<ConstraintCode>(global) << 16) | ((active ? 1 : 0) << 8) | kNoOther;
}
inline ConstraintCode max_code(int global, int state, int other) {
  return (static_cast<ConstraintCode>(global) << 16) | (state << 8) | other;
}
inline ConstraintCode domain_code(int k) { return -1 - k; }
inline int code_entry(ConstraintCode code) { return static_cast<int>(code >> 16); }
inline int code_state(ConstraintCode code) { return static_cast<int>((code >> 8) & 0xFF); }
inline int code_other(ConstraintCode code) { return static_cast<int>(code & 0xFF); }
inline bool is_max_code(ConstraintCode code) { return code >= 0 && code_other(code) != kNoOther; }

struct Leaf {
  const std::uint8_t* pattern = nullptr;  // one byte per neuron
  const double* interior_point = nullptr;  // input_dim values
  double depth = 0.0;
  // The engine's own verdict on whether the region is near-degenerate (the LP engine: its depth is a
  // lower bound); none: depth below the run's threshold says so.
  std::optional<bool> near_degenerate;
  double volume = -1.0;  // < 0: not computed
  // The float engines work in normalised coordinates (normalized_problem.h); leaves of the exact
  // engine, also those of the subtrees it decides for them, are in the input's own.
  bool in_input_coordinates = false;
  std::vector<ConstraintCode> constraints;  // filled only when the driver asks for geometry
  // Filled only when the driver asks for vertices (vertex engine): vertex coordinates, vertex after
  // vertex, and for each entry of `constraints` the indices of the vertices on it.
  std::vector<double> vertices;
  std::vector<std::vector<int>> constraint_vertices;
};

class LeafSink {
 public:
  virtual ~LeafSink() = default;
  virtual bool wants_constraints() const = 0;
  virtual bool wants_volume() const { return false; }
  virtual bool wants_vertices() const { return false; }
  virtual void leaf(const Leaf& leaf) = 0;
};

// Counters an engine worker keeps; the driver adds them up.
struct WorkerCounters {
  std::uint64_t lps = 0;
  std::uint64_t lps_fallback = 0;  // LPs the dense simplex left to GLPK
  std::uint64_t exact_decisions = 0;  // cuts within the tolerance, decided in exact arithmetic
};

}  // namespace relutope::detail
