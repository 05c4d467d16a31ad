#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "relutope/domain.h"
#include "relutope/network.h"
#include "relutope/region.h"

namespace relutope {

/// Which algorithm enumerates the regions.
enum class Engine {
  kAuto,    ///< kVertex up to kMaxVertexEngineDim inputs (kMaxVertexGeometryDim when vertices or
            ///< volumes are asked for), kLp above
  kVertex,  ///< cells with vertices and facet incidences, split neuron by neuron (low dimension)
  kLp,      ///< depth-first search over activation patterns with one LP per branch (any dimension)
  kExact,   ///< the vertex engine's algorithm in exact rational arithmetic, no tolerance (slow; boxes only)
};

/// Input dimensions up to this use the vertex engine under Engine::kAuto (measured crossover, BENCHMARKS.md).
constexpr int kMaxVertexEngineDim = 6;
/// When vertices or volumes are asked for, Engine::kAuto keeps the vertex engine up to this dimension:
/// only it gives them, and it is still reasonably fast there.
constexpr int kMaxVertexGeometryDim = 8;

/// The engine Engine::kAuto stands for.
Engine resolve_engine(Engine requested, int input_dim, bool wants_geometry);

const char* engine_name(Engine engine);

/// The most threads a run may ask for: far more than any machine's cores, well below what the
/// OpenMP runtime can create (it crashes on tens of thousands).
constexpr int kMaxThreads = 1024;

struct EnumerateOptions {
  int num_threads = 0;  ///< 0 = OpenMP's default (all cores); at most kMaxThreads
  Engine engine = Engine::kAuto;
  /// Relative tolerance of the floating-point engines: a cut with a vertex (vertex engine) or a
  /// margin (LP engine) within tolerance * diameter of its hyperplane (in normalised coordinates,
  /// where the box has half-widths in [1/2, 1]) is decided in exact rational arithmetic instead.
  /// It trades speed for nothing else: counts are exact for any value (num_exact_decisions).
  double tolerance = 1e-9;
  /// Fill Region::halfspaces and the affine map (costs time; counting does not need them).
  bool with_geometry = true;
  /// Fill Region::volume (vertex engine only: the LP engine leaves it negative).
  bool with_volume = false;
  /// Fill Region::vertices and Region::facet_vertices (vertex engine only; implies with_geometry).
  bool with_vertices = false;
  /// Called now and then (serially, from any thread) with the number of regions found so far.
  std::function<void(std::uint64_t regions_so_far)> progress;
  /// Stop switch for another thread (a GUI, the Python module's Ctrl-C): when it points to a flag that
  /// becomes true, the workers stop at the next region or task and the call throws Cancelled.
  /// Not owned; must outlive the call. certify_count and count_report pass it on to each of their passes.
  const std::atomic<bool>* cancel = nullptr;
};

struct EnumerateStats {
  std::uint64_t num_regions = 0;
  /// Regions whose depth is below 1000 * tolerance * diameter (thin, but certain).
  std::uint64_t num_near_degenerate = 0;
  /// Cuts that floating point could not decide (within the tolerance) and exact rational arithmetic
  /// did: the vertex engine hands over the subtree below each, the LP engine solves that one LP
  /// exactly. Counts are exact either way; many make a run slow.
  std::uint64_t num_exact_decisions = 0;
  Engine engine = Engine::kAuto;  ///< the engine that ran (never kAuto)
  int num_threads = 1;
  std::uint64_t num_tasks = 0;    ///< independent pieces the work was cut into
  std::uint64_t num_lps = 0;      ///< LPs solved (LP engine)
  std::uint64_t num_lp_fallbacks = 0;  ///< of those, LPs the dense simplex could not certify and GLPK solved
  double tolerance_abs = 0.0;     ///< tolerance * domain diameter
  double seconds = 0.0;
};

using RegionVisitor = std::function<void(const Region&)>;

/// Enumerates the activation regions of `net` inside `domain` and calls `visit` once per region.
/// @param[in] net     network; validated here
/// @param[in] domain  bounded input domain; domain.dim() == net.input_dim()
/// @param[in] visit   called serially, in increasing order of activation pattern (lexicographic,
///                    inactive before active), so the sequence is identical for any thread count
/// @return statistics, including the count
/// @throws InputError if the network or domain is invalid, dimensions disagree or the domain is empty
EnumerateStats enumerate_regions(const Network& net, const Domain& domain,
                                 const EnumerateOptions& options, const RegionVisitor& visit);

using RegionFormatter = std::function<std::string(const Region&)>;
using TextConsumer = std::function<void(const std::string&)>;

/// Like the visitor form, for exports whose per-region work (measuring, formatting) would otherwise
/// run on one thread: `format` runs in the worker threads, concurrently (so it must be thread-safe),
/// and turns each region into text; `consume` receives the texts serially, in pattern order.
EnumerateStats enumerate_formatted(const Network& net, const Domain& domain, const EnumerateOptions& options,
                                   const RegionFormatter& format, const TextConsumer& consume);

/// Convenience form that collects every region (memory grows with the count).
std::vector<Region> enumerate_regions(const Network& net, const Domain& domain,
                                      const EnumerateOptions& options = {});

/// Counts the regions without building them (with_geometry is ignored).
EnumerateStats count_regions(const Network& net, const Domain& domain,
                             const EnumerateOptions& options = {});

}  // namespace relutope
