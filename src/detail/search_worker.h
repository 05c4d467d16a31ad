#pragma once
// What the engines share: a depth-first search over activation patterns that can be cut into
// independent subtrees (tasks) at a given number of two-way splits. Private to src/.
#include <algorithm>
#include <atomic>
#include <functional>
#include <vector>

#include "detail/leaf_sink.h"

namespace relutope::detail {

template <class Task>
class SearchWorker {
 public:
  virtual ~SearchWorker() = default;

  // Runs the subtree of `task`, handing every region to `sink`.
  virtual void run(const Task& task, LeafSink& sink) = 0;

  // Runs body(i, worker) for every i < n, each call on some worker of the caller's (one per thread),
  // in any order; rethrows the first exception a call threw. Empty: on this worker, in order.
  using ForEach = std::function<void(std::size_t n, const std::function<void(std::size_t, SearchWorker&)>& body)>;

  // Cuts the search below `root` into at least `min_tasks` subtrees where there are that many,
  // deepening the cut two splits at a time. The tasks are disjoint, together cover every region once,
  // and are in pattern order. A small tree is cut less: the deepening stops where the tree thins out,
  // i.e. once a cut has 64 tasks or more, a quarter of them end above it (regions, or subtrees the
  // engine does not cut) and those that reach it less than doubled since the last round, since each
  // deeper round yields tasks of a region or two (issue 11). Asked for 1,024 tasks, two_moons.onnx (386
  // regions) was cut 12 times into 386 tasks, now 5 times into 131; a 2x32x32 net of 1,605 regions into
  // 522 tasks instead of 1,179; trees of 44,372 regions and more keep their cut (a fifth or less of
  // their tasks end above it). The rule reads the tree alone, so the tasks are the same for every
  // thread and rank count.
  //
  // Each round takes the last round's tasks that reached its depth two splits further (the first
  // round: the root one split), instead of walking again from the root: the tasks are the ones a walk
  // from the root to the new depth gives, as a task's subtree is the same wherever it is run, while
  // the top of the tree is walked once (a third of a 2-thread count of 10^4 regions was the cut,
  // walked again per round, on one thread). The tasks of a round are independent: `for_each` runs
  // them on the caller's threads. `counters` of the workers for_each used add up to the cut's.
  //
  // `tail_rounds` > 0 then deepens the tail of that cut further, for a cut of few tasks that still
  // ends in small ones: each round takes the last `tail` tasks that may split further two splits
  // deeper (about four times as many, a quarter the size). Tasks are run in order, so the large
  // ones come first and the threads finish at nearly the same time (guided self-scheduling).
  std::vector<Task> make_tasks(const Task& root, int min_tasks, int max_cut, const ForEach& for_each = {},
                               int tail_rounds = 0, int tail = 0) {
    std::vector<Task> tasks{root};
    if (min_tasks <= 1) return tasks;
    std::vector<char> open{1};  // per task: at the last round's depth, so it may split further
    // Deepens the open tasks from index `first` on `step` splits; false if none split.
    const auto deepen_from = [&](std::size_t first, int step) {
      struct Deepened {
        std::vector<Task> tasks;
        std::vector<int> at_cut;  // indices into tasks of those at the cut depth
      };
      const std::size_t n = tasks.size() - first;
      std::vector<Deepened> deepened(n);
      const auto body = [&](std::size_t k, SearchWorker& worker) {
        if (open[first + k]) worker.deepen(tasks[first + k], step, deepened[k].tasks, deepened[k].at_cut);
      };
      if (for_each) {
        for_each(n, body);
      } else {
        for (std::size_t k = 0; k < n; ++k) body(k, *this);
      }
      const std::size_t before = tasks.size();
      std::vector<Task> frontier(std::make_move_iterator(tasks.begin()),
                                 std::make_move_iterator(tasks.begin() + static_cast<std::ptrdiff_t>(first)));
      std::vector<char> frontier_open(open.begin(), open.begin() + static_cast<std::ptrdiff_t>(first));
      for (std::size_t k = 0; k < n; ++k) {
        if (!open[first + k]) {  // a region or an uncut subtree: it stays as it is
          frontier.push_back(std::move(tasks[first + k]));
          frontier_open.push_back(0);
          continue;
        }
        const std::size_t start = frontier.size();
        for (Task& task : deepened[k].tasks) frontier.push_back(std::move(task));
        frontier_open.resize(frontier.size(), 0);
        for (int i : deepened[k].at_cut) frontier_open[start + i] = 1;
      }
      tasks.swap(frontier);
      open.swap(frontier_open);
      return tasks.size() > before;
    };
    std::size_t previous_hits = 1;  // the root
    int cut = 1;
    for (; cut <= max_cut; cut += 2) {
      const bool grew = deepen_from(0, cut == 1 ? 1 : 2);
      const std::size_t hits = static_cast<std::size_t>(std::count(open.begin(), open.end(), 1));
      const std::size_t ended = tasks.size() - hits;
      const bool small_tree = tasks.size() >= 64 && 4 * ended >= tasks.size() && hits < 2 * previous_hits;
      previous_hits = hits;
      if (!grew || small_tree || static_cast<int>(tasks.size()) >= min_tasks) break;
    }
    for (int round = 0; round < tail_rounds && tail > 0; ++round) {
      // The last `tail` open tasks, and the tasks after them that ended above.
      std::size_t first = tasks.size();
      for (int found = 0; first > 0 && found < tail;) found += open[--first];
      if (first == tasks.size() || !deepen_from(first, 2)) break;
    }
    return tasks;
  }

  // Runs `task` down `depth` more splits and appends to `out` the subtrees found there and the regions
  // and uncut subtrees that end above, in pattern order; `at_cut`: the indices into `out` of those at
  // the depth.
  void deepen(const Task& task, int depth, std::vector<Task>& out, std::vector<int>& at_cut) {
    struct : LeafSink {
      bool wants_constraints() const override { return false; }
      void leaf(const Leaf&) override {}
    } no_leaves;  // while cutting, leaves become tasks too: nothing is emitted
    out.clear();
    at_cut.clear();
    frontier_ = &out;
    hit_at_ = &at_cut;
    cut_depth_ = depth;
    try {
      run(task, no_leaves);
    } catch (...) {
      frontier_ = nullptr;
      hit_at_ = nullptr;
      throw;
    }
    frontier_ = nullptr;
    hit_at_ = nullptr;
  }

  // One step of a random probe down the search tree (src/estimate.cpp): the children of `task` at
  // its first split, cut as make_tasks cuts at depth 1 (a k-way Max split gives k children). Sets
  // `split` to false when the search below `task` reaches a leaf, or a subtree the engine does not
  // cut (the vertex engine's exact subtrees), without splitting: the one task returned is then that
  // leaf or subtree, to be run to its end.
  std::vector<Task> expand(const Task& task, bool& split) {
    struct : LeafSink {
      bool wants_constraints() const override { return false; }
      void leaf(const Leaf&) override {}
    } no_leaves;
    std::vector<Task> children;
    frontier_ = &children;
    cut_depth_ = 1;
    cut_hits_ = 0;
    run(task, no_leaves);
    frontier_ = nullptr;
    split = cut_hits_ > 0;
    return children;
  }

  // Runs `task` as run() does, but gives the rest of it away when asked (give_away()) while it runs: from
  // its next node below the task's first split on, the search records every subtree it has not entered
  // yet as a task (as the cut does, SearchWorker::deepen) in `given`, in pattern order, and returns.
  // The regions it handed to `sink` come before those of `given` in pattern order. The driver shares
  // the end of a counting run this way (enumerate.cpp, TailSharing): a thread out of tasks takes part
  // of a running one instead of waiting for it.
  void run_giving_away(const Task& task, LeafSink& sink, std::vector<Task>& given) {
    given.clear();
    given_ = &given;
    struct Reset {
      SearchWorker& worker;
      ~Reset() {
        worker.given_ = nullptr;
        if (worker.giving_) worker.frontier_ = nullptr;
        worker.giving_ = false;
      }
    } reset{*this};
    run(task, sink);
  }
  // Asks run_giving_away to give the rest of its task away (from any thread); kept until it does, or
  // until keep_task().
  void give_away() { give_away_.store(true, std::memory_order_relaxed); }
  void keep_task() { give_away_.store(false, std::memory_order_relaxed); }

  WorkerCounters counters;

  // Thrown out of make_tasks when stop_cut says so.
  struct CutStopped {};
  // Asked every few nodes while make_tasks cuts (a cut into many tasks can take long): true ends the
  // cut with CutStopped (it may also throw itself, e.g. Cancelled). Empty: the cut runs to its end.
  std::function<bool()> stop_cut;

 protected:
  // True where the search must stop and record a task instead of going deeper.
  bool cutting() const { return frontier_ != nullptr; }
  bool at_cut(int splits) {
    if (given_ && splits > 0 && give_away_.load(std::memory_order_relaxed)) {  // run_giving_away
      give_away_.store(false, std::memory_order_relaxed);
      frontier_ = given_;
      given_ = nullptr;
      giving_ = true;
    }
    if (giving_) return true;
    if (frontier_ && stop_cut && ++cut_polls_ % 16 == 0 && stop_cut()) throw CutStopped{};
    const bool hit = frontier_ && splits == cut_depth_;
    cut_hits_ += hit;
    if (hit && hit_at_) hit_at_->push_back(static_cast<int>(frontier_->size()));  // the snapshot comes next
    return hit;
  }
  std::vector<Task>* frontier_ = nullptr;

 private:
  int cut_depth_ = 0;
  std::vector<int>* hit_at_ = nullptr;  // deepen(): where at_cut's snapshots go in frontier_
  mutable int cut_hits_ = 0;  // tasks recorded at the cut depth (not at a leaf) since expand() began
  mutable unsigned cut_polls_ = 0;
  std::vector<Task>* given_ = nullptr;  // run_giving_away(): where its subtrees go once asked
  bool giving_ = false;                 // run_giving_away() was asked: frontier_ is given_
  std::atomic<bool> give_away_{false};
};

}  // namespace relutope::detail
