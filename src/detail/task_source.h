#pragma once
// Which task a worker thread runs next: the seam between cutting the search into tasks, running
// them and collecting their results in order (src/enumerate.cpp's run_engine). Private to src/.
//
// The driver runs in three separable steps, each a function of the task index alone:
//   1. cut: SearchWorker::make_tasks(root, min_tasks) gives the same tasks 0..n-1 in every process
//      and for every thread count (min_tasks fixed);
//   2. run task i: any worker, anywhere, gives the same TaskTotals and regions for it;
//   3. collect task i: TaskCollector (enumerate.cpp) takes (i, totals, output) in any order and
//      visits regions, checkpoints and sums in task order.
// A TaskSource decides step 2's order and TaskResults receives step 2's results. In one process,
// LocalTaskSource hands out the pending tasks in index order and the TaskCollector is the
// TaskResults. Distributed (MPI ranks), every rank would cut alike; a source's next() would ask a
// coordinator for an index, and on the ranks without the collector a TaskResults would send
// (i, totals, texts) to it. run_tasks (enumerate.cpp) runs step 2 with any pair.
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "relutope/enumerate.h"
#include "relutope/region.h"

namespace relutope::detail {

// What one task hands over beside its TaskTotals: its regions (visitor form), or the texts the
// formatter made of them (enumerate_formatted); both empty when only counting.
struct TaskOutput {
  std::vector<Region> regions;
  std::vector<std::string> texts;
};

// Where the results of step 2 go. Called serially (the driver holds a critical section).
class TaskResults {
 public:
  virtual ~TaskResults() = default;
  // Task i ran to its end.
  virtual void finished(std::uint64_t i, const TaskTotals& totals, TaskOutput&& output) = 0;
  // A task the run stopped early (time limit, region limit, stop switch): its regions so far count,
  // it is not done.
  virtual void abandoned(const TaskTotals& totals) = 0;
};

class TaskSource {
 public:
  virtual ~TaskSource() = default;
  // The index of the next task the calling thread should run, or -1 when there is none left.
  // Called concurrently by the worker threads.
  virtual std::int64_t next() = 0;
};

// The tasks of one process, handed out in increasing index order (so that the ordered collection
// in step 3 buffers little).
class LocalTaskSource : public TaskSource {
 public:
  explicit LocalTaskSource(std::vector<std::int64_t> pending) : pending_(std::move(pending)) {}
  std::int64_t next() override {
    const std::size_t k = next_.fetch_add(1, std::memory_order_relaxed);
    return k < pending_.size() ? pending_[k] : -1;
  }

 private:
  std::vector<std::int64_t> pending_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace relutope::detail
