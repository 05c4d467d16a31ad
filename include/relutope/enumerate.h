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

/// The engine a run will use.
/// @param[in] requested       the engine asked for
/// @param[in] input_dim       the network's input dimension
/// @param[in] wants_geometry  true when vertices or volumes are asked for (they need the vertex engine)
/// @return `requested` unless it is kAuto; then kVertex up to kMaxVertexEngineDim inputs
///         (kMaxVertexGeometryDim with wants_geometry), else kLp. Never kAuto.
Engine resolve_engine(Engine requested, int input_dim, bool wants_geometry);

/// The engine's name: "auto", "vertex", "lp" or "exact" (as reports and the CLI's --engine spell it).
const char* engine_name(Engine engine);

/// The most threads a run may ask for: far more than any machine's cores, well below what the
/// OpenMP runtime can create (it crashes on tens of thousands).
constexpr int kMaxThreads = 1024;

/// How enumerate_regions, count_regions and the functions built on them run. Checked at the start of
/// each call (InputError naming the field: "threads: ...", "tolerance: ...").
struct EnumerateOptions {
  int num_threads = 0;  ///< 0 = OpenMP's default (all cores); at most kMaxThreads
  Engine engine = Engine::kAuto;  ///< which algorithm runs (resolve_engine)
  /// Relative tolerance of the floating-point engines: a cut with a vertex (vertex engine) or a
  /// margin (LP engine) within tolerance * diameter of its hyperplane (in normalised coordinates,
  /// where the box has half-widths in [1/2, 1]) is decided in exact rational arithmetic instead.
  /// It trades speed for nothing else: counts are exact for any value (num_exact_decisions).
  double tolerance = 1e-9;
  /// Fill Region::halfspaces and the affine map (costs time; counting does not need them).
  bool with_geometry = true;
  /// Fill Region::volume (vertex and exact engines; the LP engine leaves it empty).
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

/// What a run did: the count, the engine and the numerics.
struct EnumerateStats {
  std::uint64_t num_regions = 0;  ///< regions of positive volume found
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

/// Receives one region; see enumerate_regions.
using RegionVisitor = std::function<void(const Region&)>;

/// Enumerates the activation regions of `net` inside `domain` and calls `visit` once per region,
/// streaming: no region is kept after its visit.
/// @param[in] net      network with d = net.input_dim() inputs; validated here
/// @param[in] domain   bounded input domain; domain.dim() == d
/// @param[in] options  threads, engine, tolerance, which geometry to fill, progress, cancel
/// @param[in] visit    called serially, in increasing order of activation pattern (lexicographic,
///                     inactive before active), so the sequence is identical for any thread count.
///                     Each Region has pattern (net.num_neurons() entries) and interior_point (d);
///                     with options.with_geometry its half-spaces (a of size d) and affine map
///                     (map_weight m x d, map_bias m, m = net.output_dim()); see EnumerateOptions
///                     for volume, vertices and facet_vertices. An exception it throws stops the run
///                     and reaches the caller.
/// @return statistics, including the count
/// @throws InputError if the network, domain or options are invalid, dimensions disagree or the
///         domain is empty; UncertifiedError if the network's scale exceeds what doubles hold (use
///         Engine::kExact); Cancelled when options.cancel becomes true
EnumerateStats enumerate_regions(const Network& net, const Domain& domain,
                                 const EnumerateOptions& options, const RegionVisitor& visit);

/// Turns a region into text, on a worker thread; see enumerate_formatted.
using RegionFormatter = std::function<std::string(const Region&)>;
/// Receives the texts, serially and in pattern order; see enumerate_formatted.
using TextConsumer = std::function<void(const std::string&)>;

/// Like the visitor form, for exports whose per-region work (measuring, formatting) would otherwise
/// run on one thread.
/// @param[in] net, domain, options  as for the visitor form
/// @param[in] format   runs in the worker threads, concurrently (so it must be thread-safe), and turns
///                     each region into text (e.g. JsonlWriter::format)
/// @param[in] consume  receives the texts serially, in pattern order (e.g. JsonlWriter::write_formatted)
/// @return statistics, including the count
/// @throws as the visitor form, and whatever format or consume throw
EnumerateStats enumerate_formatted(const Network& net, const Domain& domain, const EnumerateOptions& options,
                                   const RegionFormatter& format, const TextConsumer& consume);

/// Convenience form that collects every region (memory grows with the count).
/// @return the regions in increasing pattern order, as the visitor form would visit them
/// @throws as the visitor form
std::vector<Region> enumerate_regions(const Network& net, const Domain& domain,
                                      const EnumerateOptions& options = {});

/// Counts the regions without building them (with_geometry, with_volume and with_vertices are ignored).
/// @param[in] net, domain, options  as for enumerate_regions
/// @return statistics; num_regions is the count
/// @throws as enumerate_regions
EnumerateStats count_regions(const Network& net, const Domain& domain,
                             const EnumerateOptions& options = {});

}  // namespace relutope
