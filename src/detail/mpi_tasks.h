#pragma once
// Step 2 of the driver (detail/task_source.h) spread over the ranks of an MPI job: the TaskSource and
// TaskResults of one rank when EnumerateOptions::mpi asks for it. Private to src/; the MPI calls live
// in mpi_tasks.cpp, built with RELUTOPE_WITH_MPI only (without it, mpi_world() is always empty).
//
// Protocol (every message on a duplicate of MPI_COMM_WORLD, so that none meets the caller's):
//   - every rank cuts the same tasks (min_tasks is rank 0's, broadcast; mpi_check_same_cut checks the
//     count); rank 0 alone knows which are done (a resumed run) and hands out the pending ones in
//     increasing index order: its own threads take them from an atomic counter, the other ranks ask
//     with kRequest (how many) and get kTasks (indices; -1 = none left), a few ahead of their threads,
//     and at first more (guided self-scheduling: a quarter of an even share per thread of what is left);
//   - a finished task goes to rank 0 as kResult (index, TaskTotals, its JSONL texts), in pieces of at
//     most kMaxPieceBytes, where the TaskCollector takes it as it takes a local one: output order,
//     statistics and checkpoints are those of one process;
//   - every rank sends kProgress (regions found) every 0.25 s, so that rank 0's region limit and
//     progress line see the whole job; rank 0 sends kStop when the run stops (a limit, a signal on any
//     rank, an error), each rank kDone (stop reason, abandoned totals, busy time, error) when its
//     threads are done, and rank 0 kFinish once every rank is done. Then the stats are broadcast.
// One thread per rank (the channel's) makes the MPI calls while the workers run, so MPI needs only
// MPI_THREAD_SERIALIZED; it sleeps between polls (50 us to 1 ms) instead of spinning, as the
// workers need the cores.
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <vector>

#include "detail/task_source.h"
#include "relutope/enumerate.h"

namespace relutope::detail {

/// What the channel needs of the run it serves (enumerate.cpp's Shared).
class RunControl {
 public:
  virtual ~RunControl() = default;
  /// Polls the stop switch and the limits; true once the run is stopping.
  virtual bool should_stop() = 0;
  virtual void request_stop(StopReason reason) = 0;
  virtual StopReason stop_reason() const = 0;
  /// Regions found on this rank so far (all ranks' on rank 0, with add_found).
  virtual std::uint64_t found() const = 0;
  /// Rank 0: regions the other ranks found, for the region limit and the progress line.
  virtual void add_found(std::uint64_t regions) = 0;
};

/// This process's place in the MPI job.
struct MpiWorld {
  int rank = 0;
  int size = 1;
};

/// The job a run with EnumerateOptions::mpi spreads over: a value when `wanted`, the library was built
/// with MPI, MPI is initialised (not finalised) and MPI_COMM_WORLD has more than one rank.
/// @throws Error if MPI gives less than MPI_THREAD_SERIALIZED
std::optional<MpiWorld> mpi_world(bool wanted);

/// Rank 0's value of `value`, on every rank (collective).
int mpi_broadcast(int value);
/// The sum of `value` over the ranks, on every rank (collective).
int mpi_sum(int value);
/// Checks that every rank cut the search into `num_tasks` tasks (collective), unless a rank was
/// stopped while cutting (`stopped`).
/// @return whether any rank was stopped while cutting (then every rank ends the run)
/// @throws Error on every rank if the counts differ (the ranks were given different inputs or options)
bool mpi_check_same_cut(std::uint64_t num_tasks, bool stopped);
/// Rank 0's statistics on every rank (collective), with `error` (non-null on rank 0 when a rank
/// failed) rethrown on every rank: the failing rank's own exception there, an Error of the same kind
/// naming the rank elsewhere.
void mpi_broadcast_stats(EnumerateStats& stats, std::exception_ptr error);

/// One distributed run of step 2 on this rank. The workers use source() and results() as they use
/// the local pair; finish() completes the protocol.
class MpiTaskChannel {
 public:
  /// @param[in] total_threads  the threads of every rank together
  /// @param[in] pending    rank 0: the tasks to run, in increasing order (others: ignored)
  /// @param[in] collector  rank 0: the TaskCollector, called serially (others: null)
  MpiTaskChannel(const MpiWorld& world, RunControl& run, int threads, int total_threads, std::vector<std::int64_t> pending,
                 TaskResults* collector);
  ~MpiTaskChannel();
  MpiTaskChannel(const MpiTaskChannel&) = delete;
  MpiTaskChannel& operator=(const MpiTaskChannel&) = delete;

  TaskSource& source();
  TaskResults& results();

  /// This rank's workers are done (`error`: what ended them, or null; `busy_seconds`: time its
  /// threads spent in tasks). Returns once every rank is done: on rank 0 the busy seconds of every
  /// rank and the first error of any rank (its own first); elsewhere its own.
  struct Outcome {
    std::vector<double> busy_seconds;
    std::exception_ptr error;
  };
  Outcome finish(std::exception_ptr error, double busy_seconds);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace relutope::detail
