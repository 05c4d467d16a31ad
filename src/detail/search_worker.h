#pragma once
// What the engines share: a depth-first search over activation patterns that can be cut into
// independent subtrees (tasks) at a given number of two-way splits. Private to src/.
#include <vector>

#include "detail/leaf_sink.h"

namespace relutope::detail {

template <class Task>
class SearchWorker {
 public:
  virtual ~SearchWorker() = default;

  // Runs the subtree of `task`, handing every region to `sink`.
  virtual void run(const Task& task, LeafSink& sink) = 0;

  // Cuts the search below `root` into at least `min_tasks` subtrees where there are that many,
  // deepening the cut two splits at a time (the top of the tree is cheap to redo). The tasks are
  // disjoint, together cover every region once, and are in pattern order.
  std::vector<Task> make_tasks(const Task& root, int min_tasks, int max_cut) {
    std::vector<Task> tasks{root};
    if (min_tasks <= 1) return tasks;
    struct : LeafSink {
      bool wants_constraints() const override { return false; }
      void leaf(const Leaf&) override {}
    } no_leaves;  // while cutting, leaves become tasks too: nothing is emitted
    for (int cut = 1; cut <= max_cut; cut += 2) {
      std::vector<Task> frontier;
      counters.exact_decisions = 0;  // only the last round's decisions stay made; earlier rounds are redone
      frontier_ = &frontier;
      cut_depth_ = cut;
      run(root, no_leaves);
      frontier_ = nullptr;
      const bool grew = frontier.size() > tasks.size();
      tasks.swap(frontier);  // always the last round's tasks: the counters belong to them
      if (!grew || static_cast<int>(tasks.size()) >= min_tasks) break;
    }
    return tasks;
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

  WorkerCounters counters;

 protected:
  // True where the search must stop and record a task instead of going deeper.
  bool cutting() const { return frontier_ != nullptr; }
  bool at_cut(int splits) const {
    const bool hit = frontier_ && splits == cut_depth_;
    cut_hits_ += hit;
    return hit;
  }
  std::vector<Task>* frontier_ = nullptr;

 private:
  int cut_depth_ = 0;
  mutable int cut_hits_ = 0;  // tasks recorded at the cut depth (not at a leaf) since expand() began
};

}  // namespace relutope::detail
