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
// A TaskSource decides step 2's order. LocalTaskSource hands out one process's pending tasks in
// index order; a distributed source (MPI ranks asking a coordinator for work) would implement next().
#include <atomic>
#include <cstdint>
#include <vector>

namespace relutope::detail {

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
