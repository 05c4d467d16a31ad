#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
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
/// Inline, so that the option-value parsers need only the model (the fuzzers build without the engines).
inline const char* engine_name(Engine engine) {
  switch (engine) {
    case Engine::kAuto: return "auto";
    case Engine::kVertex: return "vertex";
    case Engine::kLp: return "lp";
    case Engine::kExact: return "exact";
  }
  return "?";
}

/// The most threads a run may ask for: far more than any machine's cores, well below what the
/// OpenMP runtime can create (it crashes on tens of thousands).
constexpr int kMaxThreads = 1024;

/// What one task (an independent subtree of the search) contributed to a run's statistics; see RunState.
struct TaskTotals {
  std::uint64_t num_regions = 0;
  std::uint64_t num_near_degenerate = 0;
  std::uint64_t num_exact_decisions = 0;
  std::uint64_t num_lps = 0;
  std::uint64_t num_lp_fallbacks = 0;
};

/// How far a run got, in whole tasks: what a checkpoint saves and a resumed run starts from
/// (EnumerateOptions::on_checkpoint and resume; relutope/checkpoint.h writes it to a file).
/// The search is cut into num_tasks tasks, the same ones for the same network, domain, engine,
/// tolerance and min_tasks whatever the thread count; a task is done when it finished and, for the
/// visitor forms, all its regions were visited.
struct RunState {
  int min_tasks = 0;             ///< EnumerateOptions::min_tasks of the run
  std::uint64_t num_tasks = 0;   ///< tasks the search was cut into
  std::map<std::uint64_t, TaskTotals> done;  ///< task index -> what it contributed
};

/// Why a run stopped before its end (EnumerateStats::stopped).
enum class StopReason {
  kNone,        ///< it did not: the run is complete
  kTimeLimit,   ///< EnumerateOptions::time_limit passed
  kRegionLimit, ///< EnumerateOptions::max_regions regions were found
  kStopped,     ///< EnumerateOptions::stop became true (the CLI: SIGINT or SIGTERM)
};
/// "complete", "time limit", "region limit" or "stop requested" (count --json's "stopped").
const char* stop_reason_name(StopReason reason);

/// How enumerate_regions, count_regions and the functions built on them run. Checked at the start of
/// each call (InputError naming the field: "threads: ...", "tolerance: ...").
struct EnumerateOptions {
  int num_threads = 0;  ///< 0 = OpenMP's default (all cores); at most kMaxThreads
  /// A run stays on one thread for its first this many seconds and only then shares what is left with
  /// the others: waking threads costs up to a scheduler's time slice on a busy machine, more than a
  /// small run takes alone. 0 shares from the start. Counts and regions do not depend on it.
  double serial_start_seconds = 5e-4;
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
  /// LP engine: Region::interior_point is the point of largest margin from the region's cuts found
  /// along the search (an LP solved to its optimum per split) and depth the least margin on the
  /// way. false lets each LP stop once it finds a point beyond the near-degenerate depth: any
  /// interior point, and a depth that is a lower bound; faster, with the same counts and
  /// num_near_degenerate. Counting (count_regions) always runs so.
  bool max_margin_points = true;
  /// Called now and then (serially, from any thread) with the number of regions found so far.
  std::function<void(std::uint64_t regions_so_far)> progress;
  /// Stop switch for another thread (a GUI, the Python module's Ctrl-C): when it points to a flag that
  /// becomes true, the workers stop at the next region or task, the visitor is not called again (also
  /// when the visitor itself set it) and the call throws Cancelled.
  /// Not owned; must outlive the call. certify_count and count_report pass it on to each of their passes.
  const std::atomic<bool>* cancel = nullptr;

  // Stopping early with a partial result. Unlike `cancel`, these end the call normally with
  // EnumerateStats::complete false and num_regions a lower bound: the regions found until then (for
  // the visitor forms, those visited; every one of them is a region). The workers stop within a
  // region of noticing. Functions that need every region (certify_count, line_breakpoints,
  // analyze_neurons, measure_partition) throw Cancelled instead of using a partial result.
  /// Stop switch: when it points to a flag that becomes true, the run stops (StopReason::kStopped).
  /// Not owned; must outlive the call. It may be set from a signal handler (it is lock-free).
  const std::atomic<bool>* stop = nullptr;
  /// Stop after this many seconds from the start of the call (0 = no limit).
  double time_limit = 0;
  /// Stop once at least this many regions are found, counting those of `resume` (0 = no limit). The
  /// visitor forms visit exactly this many; counting may find a few more before the threads notice.
  std::uint64_t max_regions = 0;

  // Checkpoints (relutope/checkpoint.h saves them to files).
  /// Cut the search into at least this many tasks where it has that many (0 = one task for one
  /// thread; 64 per thread when the tasks are recorded: on_checkpoint, resume or mpi; else 8 per
  /// thread with the last of them split further, a cut of few tasks that ends in small ones).
  /// Tasks are the unit of checkpoints: a run to be resumed, maybe with another thread count, must
  /// fix it (RunState::min_tasks). At most kMaxTasks.
  int min_tasks = 0;
  /// Continue a run: the tasks in resume->done are not run again (nor their regions visited again);
  /// their totals are added to the statistics. Not owned; must outlive the call.
  /// @throws InputError (at the start) if it does not fit this run's cut (num_tasks or min_tasks differ)
  const RunState* resume = nullptr;
  /// Called serially with the state so far: after a task is done when checkpoint_seconds have passed
  /// since the last call (or since the start), and once at the end, complete or stopped. For the
  /// visitor forms, every region of the done tasks has been visited before the call, and no other.
  std::function<void(const RunState& state)> on_checkpoint;
  double checkpoint_seconds = 30;

  /// Spread the run over the ranks of an MPI job (README "Long runs", docs/scaling.md). It takes
  /// effect when the library was built with MPI (CMake RELUTOPE_WITH_MPI), the caller initialised MPI
  /// with at least MPI_THREAD_SERIALIZED and MPI_COMM_WORLD has more than one rank; otherwise it
  /// changes nothing. count_regions and enumerate_formatted are then collective: every rank calls them
  /// with the same network, domain and options (num_threads may differ). The ranks cut the same tasks
  /// (min_tasks as rank 0 resolves it, 64 per thread of the whole job when 0) and take them from rank 0
  /// on demand; rank 0 alone consumes the texts, reports progress, reads `resume` and calls
  /// on_checkpoint; the stop switch, time limit and region limit of any rank stop them all. Every rank
  /// returns rank 0's statistics: the count, statistics, texts and checkpoints of one process, for any
  /// number of ranks. An error on one rank is thrown on every rank. The visitor forms are not spread:
  /// they run whole on every rank.
  bool mpi = false;
};

/// The largest EnumerateOptions::min_tasks.
constexpr int kMaxTasks = 1 << 20;

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
  std::uint64_t num_tasks_resumed = 0;  ///< of those, done before (EnumerateOptions::resume) and not run again
  std::uint64_t num_regions_resumed = 0;  ///< of num_regions, those of the tasks done before (not found in this call)
  std::uint64_t num_lps = 0;      ///< LPs solved (LP engine)
  std::uint64_t num_lp_fallbacks = 0;  ///< of those, LPs the dense simplex could not certify and GLPK solved
  double tolerance_abs = 0.0;     ///< tolerance * domain diameter
  double seconds = 0.0;           ///< of this call (a resumed run's earlier time is not included)
  /// False when the run stopped early (time limit, region limit, stop switch): num_regions is then a
  /// lower bound, and the other counts are of the work done.
  bool complete = true;
  StopReason stopped = StopReason::kNone;  ///< why it stopped early
  int num_ranks = 1;  ///< MPI ranks the run was spread over (EnumerateOptions::mpi)
  /// Per rank: seconds its threads spent running tasks, summed over its threads (the load balance).
  std::vector<double> busy_seconds;
};

/// Receives one region; see enumerate_regions.
using RegionVisitor = std::function<void(const Region&)>;

/// Enumerates the activation regions of `net` inside `domain` and calls `visit` once per region,
/// streaming: no region is kept after its visit.
/// @param[in] net      network with d = net.input_dim() inputs; validated here
/// @param[in] domain   bounded input domain; domain.dim() == d
/// @param[in] options  threads, engine, tolerance, which geometry to fill, progress, cancel, limits,
///                     checkpoints
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
///         Engine::kExact); Cancelled when options.cancel becomes true. Stopping through
///         options.stop, time_limit or max_regions is no error: the stats say complete = false.
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
