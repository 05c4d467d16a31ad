#include "relutope/enumerate.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "detail/engine_setup.h"
#include "detail/enumerate_leaves.h"
#include "detail/flat_network.h"
#include "detail/helper_threads.h"
#include "detail/leaf_sink.h"
#include "detail/search_worker.h"
#include "detail/task_source.h"
#ifdef RELUTOPE_WITH_MPI
#include "detail/mpi_tasks.h"
#endif
#include "relutope/error.h"

namespace relutope {

const char* stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::kNone: return "complete";
    case StopReason::kTimeLimit: return "time limit";
    case StopReason::kRegionLimit: return "region limit";
    case StopReason::kStopped: return "stop requested";
  }
  return "?";
}

Engine resolve_engine(Engine requested, int input_dim, bool wants_geometry) {
  if (requested != Engine::kAuto) return requested;
  return input_dim <= (wants_geometry ? kMaxVertexGeometryDim : kMaxVertexEngineDim) ? Engine::kVertex : Engine::kLp;
}

namespace {

using Clock = std::chrono::steady_clock;
using detail::TaskOutput;

// Thrown by a task's sink when the run stops early (time limit, region limit, stop switch): ends the
// task, whose regions so far still count. Not an error; never leaves run_engine.
struct StopTask {};

// Everything the threads share while they run: counters, progress, stopping and the ordered
// hand-over of regions to the visitor.
struct Shared {
  const detail::FlatNetwork& flat;  // the network and domain as given: regions are reported in them
  const Domain& domain;
  // Where the engine's coordinates u sit in the input: x = centre + scale ⊙ u (identity for the
  // exact engine, which needs no normalisation).
  const Eigen::VectorXd& centre;
  const Eigen::VectorXd& scale;
  const EnumerateOptions& options;
  const RegionVisitor* visit;     // null when only counting
  const RegionFormatter* format;  // with `consume`: regions become text in the workers
  const TextConsumer* consume;
  const detail::LeafKey* leaf_key;  // with `consume`: the leaf-level hook, leaves become keys in the workers

  bool keeps_regions() const { return visit || format || leaf_key; }
  bool cancelled() const { return options.cancel && options.cancel->load(std::memory_order_relaxed); }
  double near_degenerate_depth;
  Clock::time_point start = Clock::now();
  std::atomic<std::uint64_t> found{0};
  std::atomic<std::int64_t> last_progress_ns{0};  // since `start`
  std::atomic<std::int64_t> busy_ns{0};  // the threads' time in tasks
  std::atomic<bool> stopping{false};
  std::atomic<StopReason> stop_reason{StopReason::kNone};
  std::mutex progress_mutex{};

  // Records the first reason to stop; the workers see `stopping` at their next region.
  void request_stop(StopReason reason) {
    StopReason none = StopReason::kNone;
    stop_reason.compare_exchange_strong(none, reason);
    stopping.store(true, std::memory_order_relaxed);
  }
  bool past_deadline() const {
    return options.time_limit > 0 && Clock::now() - start >= std::chrono::duration<double>(options.time_limit);
  }
  // Whether to stop now; `found_here` are this thread's regions not yet added to `found`. Reads the
  // clock, so callers space the calls out.
  bool should_stop(std::uint64_t found_here = 0) {
    if (stopping.load(std::memory_order_relaxed)) return true;
    if (options.stop && options.stop->load(std::memory_order_relaxed)) request_stop(StopReason::kStopped);
    else if (past_deadline()) request_stop(StopReason::kTimeLimit);
    // The visitor forms stop at exactly max_regions visited, in the collector.
    else if (options.max_regions && !keeps_regions() && found.load(std::memory_order_relaxed) + found_here >= options.max_regions)
      request_stop(StopReason::kRegionLimit);
    return stopping.load(std::memory_order_relaxed);
  }

  // EnumerateOptions::serial_start_seconds: waking the other threads cost 3-49 ms at load 3-6 on 2
  // cores, for a run of 0.18 ms on one thread; the cut and the tasks stay on one thread until then,
  // which loses at most half of it in parallel time on a big run.
  bool worth_sharing() const { return now_ns() >= options.serial_start_seconds * 1e9; }
  // The calling thread runs the tasks alone, its helpers asleep, until worth_sharing (run_tasks).
  std::atomic<bool> wake_pending{false};
  std::thread::id caller{};
  // Called often (between tasks, every 64 regions): wakes the helpers once it is worth sharing.
  void wake_when_worth_sharing() {
    if (!wake_pending.load(std::memory_order_relaxed) || std::this_thread::get_id() != caller || !worth_sharing()) return;
    wake_pending.store(false, std::memory_order_relaxed);
    detail::wake_helpers();
  }

  static constexpr std::int64_t kProgressNs = 250'000'000;
  std::int64_t now_ns() const { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count(); }
  bool progress_due() const {
    return options.progress && now_ns() - last_progress_ns.load(std::memory_order_relaxed) > kProgressNs;
  }
  void report_progress(std::uint64_t batch) {
    const std::uint64_t total = found += batch;
    if (!options.progress) return;
    {
      std::lock_guard<std::mutex> lock(progress_mutex);
      const std::int64_t now = now_ns();
      if (now - last_progress_ns.load(std::memory_order_relaxed) > kProgressNs) {
        last_progress_ns.store(now, std::memory_order_relaxed);
        options.progress(total);
      }
    }
  }
};

Halfspace domain_halfspace(const Domain& domain, int k) {
  const int d = domain.dim();
  Halfspace h;
  if (k < 2 * d) {
    const int i = k / 2;
    const bool upper = k % 2;
    h.a = Eigen::VectorXd::Zero(d);
    h.a[i] = upper ? 1.0 : -1.0;
    h.b = upper ? domain.hi[i] : -domain.lo[i];
  } else {
    h = domain.extra[k - 2 * d];
  }
  h.origin = HalfspaceOrigin{};
  h.origin.neuron = k;
  return h;
}

// Receives the leaves of one task; counts them and, when a visitor waits, builds the regions.
class TaskSink : public detail::LeafSink {
 public:
  TaskSink(Shared& shared, TaskOutput* out)
      : shared_(shared), out_(out), counting_limit_(shared.keeps_regions() ? 0 : shared.options.max_regions) {}
  ~TaskSink() override { shared_.found += pending_; }

  bool wants_constraints() const override {
    return out_ && (shared_.options.with_geometry || shared_.options.with_vertices);
  }
  bool wants_vertices() const override { return out_ && shared_.options.with_vertices; }
  bool wants_volume() const override { return out_ && shared_.options.with_volume; }

  void leaf(const detail::Leaf& leaf) override {
    if (shared_.cancelled()) throw Cancelled("enumeration cancelled");
    // Stopping: the flag and the region limit at every region, the clock and the stop switch every 64.
    if (shared_.stopping.load(std::memory_order_relaxed) || (num_regions % 64 == 0 && shared_.should_stop(pending_)) ||
        (counting_limit_ && shared_.found.load(std::memory_order_relaxed) + pending_ >= counting_limit_ &&
         shared_.should_stop(pending_)))
      throw StopTask();
    if (num_regions % 64 == 0) shared_.wake_when_worth_sharing();
    ++num_regions;
    if (leaf.near_degenerate.value_or(leaf.depth < shared_.near_degenerate_depth)) ++num_near_degenerate;
    // Progress every 1024 regions, or every 64 when they come slowly (the exact engine, the LP
    // engine in high dimension), so that the callback hears of them within its 250 ms.
    if (++pending_ == 1024 || (pending_ % 64 == 0 && shared_.progress_due())) {
      shared_.report_progress(pending_);
      pending_ = 0;
    }
    if (!out_) return;
    if (shared_.leaf_key) {  // no Region: the caller wants the engine's own leaf
      out_->texts.push_back((*shared_.leaf_key)(leaf));
      return;
    }
    const detail::FlatNetwork& flat = shared_.flat;
    Region region;
    region.pattern.assign(leaf.pattern, leaf.pattern + flat.num_neurons);
    const int d = flat.input_dim;
    const bool as_is = leaf.in_input_coordinates;
    const Eigen::VectorXd scale = as_is ? Eigen::VectorXd::Ones(d) : shared_.scale;
    const Eigen::VectorXd origin = as_is ? Eigen::VectorXd::Zero(d) : shared_.centre;
    auto to_input = [&](const double* u) -> Eigen::VectorXd {
      return origin + scale.cwiseProduct(Eigen::Map<const Eigen::VectorXd>(u, d));
    };
    region.interior_point = to_input(leaf.interior_point);
    // A ball of radius r in u holds a ball of radius r * min(scale) in the input.
    region.depth = std::isfinite(leaf.depth) ? scale.minCoeff() * leaf.depth : shared_.domain.diameter();
    if (leaf.volume >= 0) region.volume = leaf.volume * scale.prod();
    for (std::size_t v = 0; v * d < leaf.vertices.size(); ++v) region.vertices.push_back(to_input(leaf.vertices.data() + v * d));
    region.facet_vertices = leaf.constraint_vertices;
    if (wants_constraints()) {
      detail::RegionMaps maps = detail::region_maps(flat, region.pattern);
      for (detail::ConstraintCode code : leaf.constraints)
        region.halfspaces.push_back(code < 0 ? domain_halfspace(shared_.domain, -1 - code)
                                             : detail::neuron_halfspace(flat, maps, code));
      region.map_weight = std::move(maps.out_weight);
      region.map_bias = std::move(maps.out_bias);
    }
    if (shared_.format) out_->texts.push_back((*shared_.format)(region));
    else out_->regions.push_back(std::move(region));
  }

  std::uint64_t num_regions = 0;
  std::uint64_t num_near_degenerate = 0;

 private:
  Shared& shared_;
  TaskOutput* out_;
  const std::uint64_t counting_limit_;  // max_regions when only counting (the visitor forms stop in the collector)
  std::uint64_t pending_ = 0;
};

TaskTotals& operator+=(TaskTotals& a, const TaskTotals& b) {
  a.num_regions += b.num_regions;
  a.num_near_degenerate += b.num_near_degenerate;
  a.num_exact_decisions += b.num_exact_decisions;
  a.num_lps += b.num_lps;
  a.num_lp_fallbacks += b.num_lp_fallbacks;
  return a;
}

// Step 3 of the driver (detail/task_source.h): takes each task's result as it comes, in any order,
// and hands the regions to the visitor in task order, keeps the run's state for checkpoints and adds
// up the statistics. Its methods are called serially.
class TaskCollector : public detail::TaskResults {
 public:
  TaskCollector(Shared& shared, RunState state) : shared_(shared), state_(std::move(state)) {
    for (const auto& entry : state_.done) resumed_ += entry.second;
    while (next_to_visit_ < state_.num_tasks && state_.done.count(next_to_visit_)) ++next_to_visit_;
  }

  // The regions of the tasks a resumed run does not run again.
  const TaskTotals& resumed() const { return resumed_; }

  // Task i ran to its end: `totals` and, for the visitor forms, its regions or texts.
  void finished(std::uint64_t i, const TaskTotals& totals, TaskOutput&& output) override {
    if (!shared_.keeps_regions()) {
      state_.done[i] = totals;
      maybe_checkpoint();
      return;
    }
    if (visited_in_part_) {  // stopped at max_regions: nothing more is visited
      unvisited_ += totals;
      return;
    }
    waiting_[i] = Waiting{totals, std::move(output)};
    bool visited_a_task = false;
    for (auto it = waiting_.find(next_to_visit_); it != waiting_.end(); it = waiting_.find(next_to_visit_)) {
      // A stop (a limit, a signal, the visitor's own switch) ends the visiting at a task's end, also of
      // tasks that finished ahead: they stay waiting, counted but not done.
      if (shared_.should_stop()) break;
      if (!visit_all(it->second.output)) return;  // stopped at max_regions within this task: not done
      state_.done[next_to_visit_] = it->second.totals;
      waiting_.erase(it);  // frees its regions now
      do ++next_to_visit_;
      while (next_to_visit_ < state_.num_tasks && state_.done.count(next_to_visit_));
      visited_a_task = true;
    }
    if (visited_a_task) maybe_checkpoint();
  }

  // Task i stopped early: its totals count (its regions are regions), it is not done. The visitor
  // forms drop its regions (a region after a gap cannot be visited in order).
  void abandoned(const TaskTotals& totals) override { (shared_.keeps_regions() ? unvisited_ : extra_) += totals; }

  // The statistics of everything done, counted and (for the visitor forms) visited.
  void add_to(EnumerateStats& stats) const {
    TaskTotals all = extra_;
    for (const auto& entry : state_.done) all += entry.second;
    TaskTotals beyond = unvisited_;  // found, not visited: counters count, regions do not
    for (const auto& entry : waiting_) beyond += entry.second.totals;
    all.num_exact_decisions += beyond.num_exact_decisions;
    all.num_lps += beyond.num_lps;
    all.num_lp_fallbacks += beyond.num_lp_fallbacks;
    stats.num_regions = shared_.keeps_regions() ? resumed_.num_regions + visited_ : all.num_regions;
    stats.num_near_degenerate = all.num_near_degenerate;
    stats.num_exact_decisions += all.num_exact_decisions;
    stats.num_lps += all.num_lps;
    stats.num_lp_fallbacks += all.num_lp_fallbacks;
  }

  // The checkpoint at the end; none after a task was visited in part (at max_regions), as the
  // caller's output then holds regions beyond the state: the state was saved before them.
  void final_checkpoint() {
    if (!visited_in_part_) checkpoint();
  }

 private:
  struct Waiting {
    TaskTotals totals;
    TaskOutput output;
  };

  void checkpoint() {
    last_checkpoint_ = Clock::now();
    if (shared_.options.on_checkpoint) shared_.options.on_checkpoint(state_);
  }

  // Visits a task's regions; false if max_regions stopped it before the last.
  bool visit_all(const TaskOutput& output) {
    const std::uint64_t limit = shared_.options.max_regions;
    if (limit && resumed_.num_regions + visited_ + output.regions.size() + output.texts.size() > limit) {
      checkpoint();  // the last state whose regions are all visited, and no others
      visited_in_part_ = true;
    }
    for (const Region& region : output.regions) {
      // A cancel, also one the visitor itself sets, stops the visiting at once: the workers see it at
      // their next region or task, which may never come when the tasks have all finished.
      if (shared_.cancelled()) throw Cancelled("enumeration cancelled");
      if (limit && resumed_.num_regions + visited_ >= limit) return stop_at_limit();
      (*shared_.visit)(region);
      ++visited_;
    }
    for (const std::string& text : output.texts) {
      if (shared_.cancelled()) throw Cancelled("enumeration cancelled");
      if (limit && resumed_.num_regions + visited_ >= limit) return stop_at_limit();
      (*shared_.consume)(text);
      ++visited_;
    }
    return true;
  }
  bool stop_at_limit() {
    shared_.request_stop(StopReason::kRegionLimit);
    return false;
  }
  void maybe_checkpoint() {
    if (shared_.options.on_checkpoint &&
        Clock::now() - last_checkpoint_ >= std::chrono::duration<double>(shared_.options.checkpoint_seconds))
      checkpoint();
  }

  Shared& shared_;
  RunState state_;
  TaskTotals resumed_, extra_, unvisited_;
  std::map<std::uint64_t, Waiting> waiting_;  // finished, waiting for the tasks before them
  std::uint64_t next_to_visit_ = 0;
  std::uint64_t visited_ = 0;  // regions visited in this call
  bool visited_in_part_ = false;
  Clock::time_point last_checkpoint_ = Clock::now();
};

// How step 1 cuts (SearchWorker::make_tasks): at least min_tasks tasks, then `tail_rounds` times
// the last `tail` of them two splits deeper.
struct CutPlan {
  int min_tasks = 1;
  int tail_rounds = 0;
  int tail = 0;
};

// Step 1 of the driver: cuts the search into tasks (disjoint subtrees, in pattern order), each round's
// subtrees on `threads` threads. The cut depends on min_tasks alone, so a fixed min_tasks gives the
// same tasks for every thread count. `stopped` becomes true, and no task is returned, when the run is
// stopped while cutting (which can take long: cuts into many tasks, the exact engine).
template <class EngineT>
std::vector<typename EngineT::Task> cut_tasks(const EngineT& engine, Shared& shared, const CutPlan& plan, int threads,
                                              EnumerateStats& stats, bool& stopped) {
  using Worker = typename EngineT::Worker;
  using Base = detail::SearchWorker<typename EngineT::Task>;
  const auto stop_cut = [&shared] {
    if (shared.cancelled()) throw Cancelled("enumeration cancelled");
    return shared.should_stop();
  };
  Worker first(engine);
  first.stop_cut = stop_cut;
  detail::WorkerCounters others;  // of the workers of the other threads
  // A round of fewer subtrees than two per thread, or one early in the run (Shared::worth_sharing), stays on
  // this thread (sharing costs more).
  // The helpers' workers live within their call, on their own thread, as the run's workers do (an LP
  // engine's GLPK problems belong to the thread that made them).
  const typename Base::ForEach for_each = [&](std::size_t n, const std::function<void(std::size_t, Base&)>& body) {
    if (threads <= 1 || n < 2 * static_cast<std::size_t>(threads) || !shared.worth_sharing()) {
      for (std::size_t i = 0; i < n; ++i) body(i, first);
      return;
    }
    std::mutex mutex;  // first_error, others
    std::exception_ptr first_error;
    std::atomic<bool> failed{false};
    std::atomic<std::size_t> next{0};
    const std::thread::id caller = std::this_thread::get_id();
    detail::run_with_helpers(threads, [&] {
      std::unique_ptr<Worker> own;
      try {
        Worker* worker = &first;
        if (std::this_thread::get_id() != caller) {
          own = std::make_unique<Worker>(engine);
          own->stop_cut = stop_cut;
          worker = own.get();
        }
        for (std::size_t i = 0; !failed.load(std::memory_order_relaxed) && (i = next++) < n;) body(i, *worker);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!first_error) first_error = std::current_exception();
        failed = true;
      }
      if (own) {
        std::lock_guard<std::mutex> lock(mutex);
        others.lps += own->counters.lps;
        others.lps_fallback += own->counters.lps_fallback;
        others.exact_decisions += own->counters.exact_decisions;
      }
    });
    if (first_error) std::rethrow_exception(first_error);
  };
  std::vector<typename EngineT::Task> tasks;
  try {
    tasks = first.make_tasks(engine.root_task(), plan.min_tasks, shared.flat.num_neurons, for_each, plan.tail_rounds,
                             plan.tail);
  } catch (const typename Worker::CutStopped&) {
    stopped = true;
    return {};
  }
  stats.num_lps += first.counters.lps + others.lps;
  stats.num_lp_fallbacks += first.counters.lps_fallback + others.lps_fallback;
  stats.num_exact_decisions += first.counters.exact_decisions + others.exact_decisions;
  stats.num_tasks = tasks.size();
  return tasks;
}

// Step 2: runs one task; false in the second member if the run stopped it early.
template <class WorkerT, class TaskT>
std::pair<TaskTotals, bool> run_task(WorkerT& worker, const TaskT& task, Shared& shared, TaskOutput* output,
                                     std::vector<TaskT>* given = nullptr) {
  const detail::WorkerCounters before = worker.counters;
  TaskTotals totals;
  bool finished = true;
  {
    TaskSink sink(shared, output);
    try {
      if (given) worker.run_giving_away(task, sink, *given);
      else worker.run(task, sink);
    } catch (const StopTask&) {
      finished = false;
    }
    totals.num_regions = sink.num_regions;
    totals.num_near_degenerate = sink.num_near_degenerate;
  }
  totals.num_exact_decisions = worker.counters.exact_decisions - before.exact_decisions;
  totals.num_lps = worker.counters.lps - before.lps;
  totals.num_lp_fallbacks = worker.counters.lps_fallback - before.lps_fallback;
  return {totals, finished};
}

int effective_min_tasks(const EnumerateOptions& options, int threads) {
  return options.min_tasks > 0 ? options.min_tasks : threads == 1 ? 1 : 64 * threads;
}

// The cut of a run whose tasks are not recorded (no checkpoint, no resume, one process) and whose
// min_tasks is the default: 8 tasks per thread, then its last 2 per thread deepened three times
// (SearchWorker::make_tasks), about 68 tasks at 2 threads instead of the 128-450 of 64 per thread.
// Each task costs its copy and set-up (1 ms of CPU time in a 3 ms count of 4,773 regions cut into
// 355 tasks), while a tail of small tasks keeps the threads' ends together as well as many tasks do.
// A count whose threads share the tail of a running task (`share_tail`) is not cut at all: the
// helper takes its share of the one task once the serial start is over, and a small count pays
// neither the cut nor the tasks' set-up. Fresh processes at 2 threads, medians of 9-15 (BENCHMARKS.md):
// 2 -> 4x32 (4,773 regions) 3.4 -> 2.5 ms (3.3 at 1 thread), 3 -> 3x16 6.6 -> 5.4 ms; 3 -> 3x32
// (88,997) 24.3 -> 26.3 ms is the one case it costs.
CutPlan cut_plan(const EnumerateOptions& options, int threads, int min_tasks, bool recorded, bool share_tail) {
  if (options.min_tasks > 0 || threads <= 1 || recorded) return CutPlan{min_tasks, 0, 0};
  if (share_tail) return CutPlan{1, 0, 0};
  return CutPlan{8 * threads, 3, 2 * threads};
}

// The state a run starts from: nothing done, or what options.resume says, checked against this cut.
RunState start_state(const Shared& shared, int min_tasks, std::uint64_t num_tasks, EnumerateStats& stats) {
  RunState state;
  state.min_tasks = min_tasks;
  state.num_tasks = num_tasks;
  if (const RunState* resume = shared.options.resume) {
    if (resume->min_tasks != state.min_tasks || resume->num_tasks != state.num_tasks) {
      std::ostringstream msg;
      msg << "resume: the saved run cut the search into " << resume->num_tasks << " tasks (min_tasks "
          << resume->min_tasks << "), this one into " << state.num_tasks << " (min_tasks " << state.min_tasks << ")";
      throw InputError(msg.str());
    }
    if (!resume->done.empty() && resume->done.rbegin()->first >= state.num_tasks)
      throw InputError("resume: task " + std::to_string(resume->done.rbegin()->first) + " is done, but there are only " +
                       std::to_string(state.num_tasks) + " tasks");
    state.done = resume->done;
    stats.num_tasks_resumed = state.done.size();
  }
  return state;
}


// The end of a counting run on several threads (run_tasks): a thread that finds no task left asks a
// running one to give the rest of its task away (SearchWorker::run_giving_away) and runs part of it,
// instead of waiting for it; what was given away goes the same way, so the threads end together
// however unequal the tasks were (a plain count has one: cut_plan). Only where the tasks are not
// recorded and no region is kept (the regions of a given-away part come after its task's, so the
// visitor forms would need ordered sub-tasks; checkpoints and MPI name the cut's tasks): counts are
// sums, and the counts and every statistic but the busy seconds and `tasks` are those of one thread.
template <class Worker, class Task>
class TailSharing {
 public:
  // The indices the given-away parts are collected under: from `first_index` on (after the cut's).
  explicit TailSharing(std::uint64_t first_index) : next_index_(first_index) {}

  // A thread joins the run (each thread once, when it starts taking tasks).
  void join() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++active_;
  }
  // A thread leaves the run because it stops (a limit, an error; not when take() says nothing is
  // left): nothing more is given away, and the others leave too.
  void leave() {
    std::lock_guard<std::mutex> lock(mutex_);
    --active_;
    stopped_ = true;
    changed_.notify_all();
  }

  // For a thread the task source has no task for: a given-away part to run (moved into `task`, its
  // index in `index`), after waiting for one if another thread still runs a task; false when no
  // thread runs one and nothing is left, or the run stops. The thread has left the run once it
  // returns false.
  bool take(Worker& self, Task& task, std::uint64_t& index) {
    std::unique_lock<std::mutex> lock(mutex_);
    --active_;
    ++idle_;
    for (;;) {
      if (!given_.empty() && !stopped_) {
        task = std::move(given_.back());  // the last given is the largest: the shallowest subtree
        given_.pop_back();
        index = next_index_++;
        --idle_;
        ++active_;
        return begin_locked(self);
      }
      if (active_ == 0 || stopped_) {
        --idle_;
        changed_.notify_all();
        return false;
      }
      for (Worker* worker : running_) worker->give_away();  // given_ is empty
      changed_.wait(lock);
    }
  }
  // A task from the source starts on `self`.
  void begin(Worker& self) {
    std::lock_guard<std::mutex> lock(mutex_);
    begin_locked(self);
  }
  // The task on `self` ended; `given` what it gave away, in pattern order.
  void end(Worker& self, std::vector<Task>& given) {
    std::lock_guard<std::mutex> lock(mutex_);
    running_.erase(std::find(running_.begin(), running_.end(), &self));
    self.keep_task();  // a late request: the next task runs whole unless asked again
    for (Task& t : given) given_.push_back(std::move(t));
    given.clear();
    if (idle_ > 0) changed_.notify_all();
  }

 private:
  bool begin_locked(Worker& self) {
    running_.push_back(&self);
    // A thread waits with nothing given to take (one woken for a given task may not run yet): this
    // task is shared from its first split. Not more often: a thread whose helper is slow to wake
    // would cut its own tasks smaller and smaller (thousands of tasks of a region or two).
    if (static_cast<std::size_t>(idle_) > given_.size()) self.give_away();
    return true;
  }

  std::mutex mutex_;
  std::condition_variable changed_;  // given_, active_ or stopped_ changed
  std::vector<Task> given_;
  std::vector<Worker*> running_;  // the workers running a task
  std::uint64_t next_index_;
  int active_ = 0;  // threads in the run, not waiting in take()
  int idle_ = 0;    // threads waiting in take()
  bool stopped_ = false;
};

// Step 2 on all threads: each runs the tasks `source` hands it and gives their results to `results`,
// until the source has none left, the run stops or an error comes (rethrown here). With
// `serial_start`, the calling thread runs the tasks alone until the run is worth sharing
// (Shared::worth_sharing), then wakes the helpers, also within a task: a small run never wakes one
// (detail/helper_threads.h). With `share_tail` (counting, tasks not recorded), a thread with no task
// left takes part of another's (TailSharing).
template <class EngineT>
void run_tasks(const EngineT& engine, const std::vector<typename EngineT::Task>& tasks, Shared& shared, int threads,
               detail::TaskSource& source, detail::TaskResults& results, bool serial_start, bool share_tail) {
  using Worker = typename EngineT::Worker;
  std::mutex error_mutex, results_mutex;
  std::exception_ptr first_error;
  std::atomic<bool> failed{false};
  const auto keep_first_error = [&](std::exception_ptr error) {
    std::lock_guard<std::mutex> lock(error_mutex);
    if (!first_error) first_error = std::move(error);
    failed = true;
  };
  using Task = typename EngineT::Task;
  std::optional<TailSharing<Worker, Task>> tail;
  if (share_tail && threads > 1) tail.emplace(tasks.size());
  // Runs tasks from the source (then, with `tail`, parts of the other threads' tasks) on `worker` until
  // none is left, the run stops or an error comes.
  const auto run_from_source = [&](Worker& worker) {
    if (tail) tail->join();
    const auto stop = [&] {
      if (tail) tail->leave();
    };
    std::vector<Task> given;  // what the task gave away (with `tail`)
    Task given_task;
    for (;;) {
      shared.wake_when_worth_sharing();
      const std::int64_t i = source.next();
      std::uint64_t index = static_cast<std::uint64_t>(i);
      const Task* task = nullptr;
      if (i >= 0) {
        task = &tasks[i];
        if (tail) tail->begin(worker);
      } else if (tail && tail->take(worker, given_task, index)) {
        task = &given_task;
      } else {
        return;  // none left (take() has left the run); a run that ends at max_regions is complete
      }
      // Asked only with a task in hand, so that the run stopped is one with regions left to find.
      const bool cancelled = shared.cancelled();
      if (cancelled) keep_first_error(std::make_exception_ptr(Cancelled("enumeration cancelled")));
      if (cancelled || shared.should_stop()) {
        if (tail) tail->end(worker, given);
        return stop();
      }
      bool completed = false;
      try {
        TaskOutput output;
        const auto task_start = Clock::now();
        const auto [totals, finished] =
            run_task(worker, *task, shared, shared.keeps_regions() ? &output : nullptr, tail ? &given : nullptr);
        shared.busy_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - task_start).count();
        completed = finished;
        std::lock_guard<std::mutex> lock(results_mutex);
        // The visitor may throw (a caller stopping early): kept as the run's error, so that the
        // other threads stop too.
        try {
          if (failed.load()) {
          } else if (finished) {
            results.finished(index, totals, std::move(output));
          } else {
            results.abandoned(totals);
          }
        } catch (...) {
          keep_first_error(std::current_exception());
        }
      } catch (...) {
        keep_first_error(std::current_exception());
      }
      if (tail) {
        if (!completed || failed.load()) given.clear();  // the run stops: nothing more to share
        tail->end(worker, given);
      }
      if (failed.load()) return stop();
    }
  };
  if (threads <= 1) {
    Worker worker(engine);
    run_from_source(worker);
    if (first_error) std::rethrow_exception(first_error);
    return;
  }
  // With `serial_start` the helpers sleep until the calling thread's work wakes them, between tasks or
  // within one (Shared::wake_when_worth_sharing): a small run never wakes them, and a run that
  // outlasts the serial start shares its task in progress (with `share_tail`) at once.
  shared.caller = std::this_thread::get_id();
  const bool wake_now = !serial_start || shared.worth_sharing();
  shared.wake_pending = !wake_now;
  detail::run_with_helpers(
      threads,
      [&] {
        std::unique_ptr<Worker> worker;
        try {
          worker = std::make_unique<Worker>(engine);
        } catch (...) {
          keep_first_error(std::current_exception());
          return;
        }
        run_from_source(*worker);
      },
      wake_now);
  shared.wake_pending = false;
  if (first_error) std::rethrow_exception(first_error);
}

#ifdef RELUTOPE_WITH_MPI
// What the MPI channel (detail/mpi_tasks.h) needs of the run.
class SharedControl : public detail::RunControl {
 public:
  explicit SharedControl(Shared& shared) : shared_(shared) {}
  bool should_stop() override { return shared_.should_stop(); }
  void request_stop(StopReason reason) override { shared_.request_stop(reason); }
  StopReason stop_reason() const override { return shared_.stop_reason.load(); }
  std::uint64_t found() const override { return shared_.found.load(std::memory_order_relaxed); }
  void add_found(std::uint64_t regions) override { shared_.found += regions; }

 private:
  Shared& shared_;
};
#endif

// The statistics of a run stopped while cutting: those of the tasks a resumed run had done (whose
// checkpoint stays as it is: without the cut there is nothing newer to save).
void stopped_in_the_cut(Shared& shared, EnumerateStats& stats) {
  shared.request_stop(StopReason::kStopped);  // keeps the first reason: the time limit, say
  stats.stopped = shared.stop_reason.load();
  stats.complete = false;
  stats.busy_seconds = {0.0};
  if (const RunState* resume = shared.options.resume) {
    TaskTotals done;
    for (const auto& entry : resume->done) done += entry.second;
    stats.num_regions = stats.num_regions_resumed = done.num_regions;
    stats.num_near_degenerate = done.num_near_degenerate;
    stats.num_exact_decisions += done.num_exact_decisions;
    stats.num_lps += done.num_lps;
    stats.num_lp_fallbacks += done.num_lp_fallbacks;
    stats.num_tasks = resume->num_tasks;
    stats.num_tasks_resumed = resume->done.size();
  }
}

double busy_seconds(const Shared& shared) { return static_cast<double>(shared.busy_ns.load()) * 1e-9; }

// The statistics of the collected tasks (rank 0's collector in a distributed run).
void finish_stats(const TaskCollector& collector, const Shared& shared, EnumerateStats& stats) {
  collector.add_to(stats);
  stats.num_regions_resumed = collector.resumed().num_regions;
  stats.stopped = shared.stop_reason.load();
  stats.complete = stats.stopped == StopReason::kNone;
}

// Cuts the search into tasks, runs them on all threads (skipping those a resumed run has done) and
// collects their regions in task order, so the output is the same for any thread count; with
// EnumerateOptions::mpi, over the ranks of an MPI job (detail/mpi_tasks.h), the same for any rank count.
template <class EngineT>
void run_engine(const EngineT& engine, Shared& shared, int threads, EnumerateStats& stats) {
#ifdef RELUTOPE_WITH_MPI
  // The visitor forms hand over Region objects, which do not travel: they run whole on every rank.
  const std::optional<detail::MpiWorld> world = detail::mpi_world(shared.options.mpi && !shared.visit);
#else
  const bool world = false;
#endif
  int min_tasks = effective_min_tasks(shared.options, threads);
#ifdef RELUTOPE_WITH_MPI
  const int total_threads = world ? detail::mpi_sum(threads) : threads;
  if (world) min_tasks = detail::mpi_broadcast(effective_min_tasks(shared.options, total_threads));
#endif
  bool cut_stopped = false;
  const bool recorded = world || shared.options.on_checkpoint || shared.options.resume;
  // Counting alone, the threads share the tail of a running task (run_tasks).
  const bool share_tail = !recorded && !shared.keeps_regions();
  const std::vector<typename EngineT::Task> tasks = cut_tasks(
      engine, shared, cut_plan(shared.options, threads, min_tasks, recorded, share_tail), threads, stats, cut_stopped);
#ifdef RELUTOPE_WITH_MPI
  if (world) cut_stopped = detail::mpi_check_same_cut(tasks.size(), cut_stopped);
  const bool root = !world || world->rank == 0;
#else
  const bool root = true;
#endif
  if (cut_stopped) {  // no task ran: what a resumed run had done is all there is
    if (root) stopped_in_the_cut(shared, stats);
#ifdef RELUTOPE_WITH_MPI
    if (world) {
      stats.num_ranks = world->size;
      detail::mpi_broadcast_stats(stats, nullptr);
    }
#endif
    return;
  }
  // Only rank 0 knows what a resumed run has done: the others run what it hands out.
  RunState state = root ? start_state(shared, min_tasks, tasks.size(), stats) : RunState{min_tasks, tasks.size(), {}};
  std::vector<std::int64_t> pending;
  for (std::uint64_t i = 0; i < state.num_tasks; ++i)
    if (!state.done.count(i)) pending.push_back(static_cast<std::int64_t>(i));
  TaskCollector collector(shared, std::move(state));
  shared.found = collector.resumed().num_regions;
  if (!world) {
    detail::LocalTaskSource source(std::move(pending));
    run_tasks(engine, tasks, shared, threads, source, collector, /*serial_start=*/true, share_tail);
    finish_stats(collector, shared, stats);
    stats.busy_seconds = {busy_seconds(shared)};
    collector.final_checkpoint();
    return;
  }
#ifdef RELUTOPE_WITH_MPI
  SharedControl control(shared);
  detail::MpiTaskChannel channel(*world, control, threads, total_threads, std::move(pending), root ? &collector : nullptr);
  std::exception_ptr error;
  try {
    run_tasks(engine, tasks, shared, threads, channel.source(), channel.results(), /*serial_start=*/false,
              /*share_tail=*/false);
  } catch (...) {
    error = std::current_exception();
  }
  detail::MpiTaskChannel::Outcome outcome = channel.finish(error, busy_seconds(shared));
  if (root) {
    finish_stats(collector, shared, stats);
    stats.busy_seconds = outcome.busy_seconds;
    stats.num_ranks = world->size;
    try {
      if (!outcome.error) collector.final_checkpoint();
    } catch (...) {
      outcome.error = std::current_exception();  // thrown on every rank below, not here alone
    }
  }
  detail::mpi_broadcast_stats(stats, outcome.error);
#endif
}

EnumerateStats enumerate_impl(const Network& net, const Domain& domain, const EnumerateOptions& options,
                              const RegionVisitor* visit, const RegionFormatter* format = nullptr,
                              const TextConsumer* consume = nullptr, const detail::LeafKey* leaf_key = nullptr) {
  const auto start = Clock::now();
  detail::check_enumerate_inputs(net, domain, options);
  const detail::FlatNetwork flat(net);
  EnumerateStats stats;
  stats.engine = resolve_engine(options.engine, domain.dim(), options.with_vertices || options.with_volume);
  stats.num_threads = detail::resolve_threads(options.num_threads);
  // Made now, so that they have started by the time the cut and the serial start are over.
  detail::start_helpers(stats.num_threads);
  stats.tolerance_abs = options.tolerance * domain.diameter();
  // Only regions handed out, and asked for so, need the LP engine's max-margin points.
  const bool max_margin_points = (visit || format || leaf_key) && options.max_margin_points;
  detail::with_engine(net, domain, flat, stats.engine, options.tolerance, max_margin_points,
                      [&](const auto& engine, const detail::EngineFrame& frame) {
                        Shared shared{flat, domain, frame.centre, frame.scale, options, visit, format, consume, leaf_key,
                                      frame.near_degenerate_depth};
                        run_engine(engine, shared, stats.num_threads, stats);
                      });
  stats.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return stats;
}

}  // namespace

namespace detail {

int resolve_threads(int requested) {
#ifdef _OPENMP
  return requested > 0 ? requested : omp_get_max_threads();
#else
  (void)requested;
  return 1;
#endif
}

EnumerateStats enumerate_leaves(const Network& net, const Domain& domain, const EnumerateOptions& options,
                                const LeafKey& key, const TextConsumer& consume) {
  return enumerate_impl(net, domain, options, nullptr, nullptr, &consume, &key);
}

void check_enumerate_inputs(const Network& net, const Domain& domain, const EnumerateOptions& options) {
  net.validate();
  domain.validate();
  if (domain.dim() != net.input_dim()) {
    std::ostringstream msg;
    msg << "domain " << domain.describe() << " has dimension " << domain.dim() << " but the network"
        << (net.source.empty() ? "" : " " + net.source) << " has " << net.input_dim() << " inputs";
    throw InputError(msg.str());
  }
  if (!(options.tolerance > 0) || !std::isfinite(options.tolerance)) {
    std::ostringstream msg;
    msg << "tolerance: expected a positive number, got " << options.tolerance;
    throw InputError(msg.str());
  }
  const auto require_seconds = [](const char* name, double seconds, const char* zero_means) {
    if (seconds >= 0 && std::isfinite(seconds)) return;
    std::ostringstream msg;
    msg << name << ": expected a number of seconds >= 0" << zero_means << ", got " << seconds;
    throw InputError(msg.str());
  };
  require_seconds("time_limit", options.time_limit, " (0 = none)");
  require_seconds("checkpoint_seconds", options.checkpoint_seconds, "");
  require_seconds("serial_start_seconds", options.serial_start_seconds, "");
  if (options.min_tasks < 0 || options.min_tasks > kMaxTasks)
    throw InputError("min_tasks: expected 0 (64 per thread) or a number from 1 to " + std::to_string(kMaxTasks) +
                     ", got " + std::to_string(options.min_tasks));
  if (options.num_threads < 0 || options.num_threads > kMaxThreads)
    throw InputError("threads: expected 0 (all cores) or a number from 1 to " + std::to_string(kMaxThreads) +
                     ", got " + std::to_string(options.num_threads));
}

}  // namespace detail

EnumerateStats enumerate_regions(const Network& net, const Domain& domain, const EnumerateOptions& options,
                                 const RegionVisitor& visit) {
  return enumerate_impl(net, domain, options, &visit);
}

EnumerateStats enumerate_formatted(const Network& net, const Domain& domain, const EnumerateOptions& options,
                                   const RegionFormatter& format, const TextConsumer& consume) {
  return enumerate_impl(net, domain, options, nullptr, &format, &consume);
}

std::vector<Region> enumerate_regions(const Network& net, const Domain& domain, const EnumerateOptions& options) {
  std::vector<Region> regions;
  enumerate_regions(net, domain, options, [&](const Region& r) { regions.push_back(r); });
  return regions;
}

EnumerateStats count_regions(const Network& net, const Domain& domain, const EnumerateOptions& options) {
  return enumerate_impl(net, domain, options, nullptr);
}

}  // namespace relutope
