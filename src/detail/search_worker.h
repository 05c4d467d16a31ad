#pragma once
// What the engines share: a depth-first search over activation patterns that can be cut into
// independent subtrees (tasks) at a given number of two-way splits. Private to src/.
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

  // Cuts the search below `root` into at least `min_tasks` subtrees where there are that many,
  // deepening the cut two splits at a time (the top of the tree is cheap to redo). The tasks are
  // disjoint, together cover every region once, and are in pattern order. A small tree is cut less:
  // the deepening stops where the tree thins out, i.e. once a cut has 64 tasks or more, a quarter of
  // them end above it (regions, or subtrees the engine does not cut) and those that reach it less than
  // doubled since the last round, since each deeper round walks most of the tree again for tasks of a
  // region or two (issue 11). Asked for 1,024 tasks, two_moons.onnx (386 regions) was cut 12 times
  // into 386 tasks, now 5 times into 131; a 2x32x32 net of 1,605 regions into 522 tasks instead of
  // 1,179; trees of 44,372 regions and more keep their cut (a fifth or less of their tasks end above
  // it). The rule reads the tree alone, so the tasks are the same for every thread and rank count.
  std::vector<Task> make_tasks(const Task& root, int min_tasks, int max_cut) {
    std::vector<Task> tasks{root};
    if (min_tasks <= 1) return tasks;
    struct : LeafSink {
      bool wants_constraints() const override { return false; }
      void leaf(const Leaf&) override {}
    } no_leaves;  // while cutting, leaves become tasks too: nothing is emitted
    std::size_t previous_hits = 1;  // the root
    for (int cut = 1; cut <= max_cut; cut += 2) {
      std::vector<Task> frontier;
      counters.exact_decisions = 0;  // only the last round's decisions stay made; earlier rounds are redone
      frontier_ = &frontier;
      cut_depth_ = cut;
      cut_hits_ = 0;
      run(root, no_leaves);
      frontier_ = nullptr;
      const bool grew = frontier.size() > tasks.size();
      const std::size_t hits = static_cast<std::size_t>(cut_hits_), ended = frontier.size() - hits;
      const bool small_tree = frontier.size() >= 64 && 4 * ended >= frontier.size() && hits < 2 * previous_hits;
      previous_hits = hits;
      tasks.swap(frontier);  // always the last round's tasks: the counters belong to them
      if (!grew || small_tree || static_cast<int>(tasks.size()) >= min_tasks) break;
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

  // Thrown out of make_tasks when stop_cut says so.
  struct CutStopped {};
  // Asked every few nodes while make_tasks cuts (a cut into many tasks can take long): true ends the
  // cut with CutStopped (it may also throw itself, e.g. Cancelled). Empty: the cut runs to its end.
  std::function<bool()> stop_cut;

 protected:
  // True where the search must stop and record a task instead of going deeper.
  bool cutting() const { return frontier_ != nullptr; }
  bool at_cut(int splits) const {
    if (frontier_ && stop_cut && ++cut_polls_ % 16 == 0 && stop_cut()) throw CutStopped{};
    const bool hit = frontier_ && splits == cut_depth_;
    cut_hits_ += hit;
    return hit;
  }
  std::vector<Task>* frontier_ = nullptr;

 private:
  int cut_depth_ = 0;
  mutable int cut_hits_ = 0;  // tasks recorded at the cut depth (not at a leaf) since expand() began
  mutable unsigned cut_polls_ = 0;
};

}  // namespace relutope::detail
