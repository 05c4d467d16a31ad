#pragma once
// The vertex engine's algorithm in exact rational arithmetic (GMP), with no tolerance: a vertex is
// on a hyperplane iff it satisfies its equation exactly; a cell splits iff it has vertices strictly
// on both sides, so every region found has positive volume; a constraint is a facet iff the vertices
// on it form a maximal proper face (contained in no other constraint's). Two vertices span an edge iff no third vertex lies on
// every constraint they share. Slow (coordinates grow with depth); it backs `count --exact`.
#include <gmpxx.h>

#include <vector>

#include "detail/leaf_sink.h"
#include "detail/search_worker.h"
#include "relutope/domain.h"
#include "relutope/network.h"
#include "relutope/region.h"

namespace relutope::detail {

class ExactEngine {
 public:
  using Rational = mpq_class;
  using Vector = std::vector<Rational>;
  using Matrix = std::vector<Vector>;  // rows

  ExactEngine(const Network& net, const Domain& domain);

  struct Cell {
    std::vector<Vector> x;             // vertices
    std::vector<std::vector<double>> approx;  // the vertices rounded to doubles, for the sign filter
    std::vector<std::vector<int>> on;  // sorted ids of the constraints tight at each vertex:
                                       // 0..2d-1 the box's faces, 2d + g neuron g
  };

  struct Task {
    Cell cell;
    ActivationPattern pattern;
    int layer = 0;
    int neuron = 0;
    Matrix post;  // the previous layer's outputs as affine maps of x: rows [w_0 .. w_{d-1}, c]
    Matrix pre;   // this layer's pre-activations on the cell (valid when neuron > 0)
  };
  Task root_task() const;

  class Worker : public SearchWorker<Task> {
   public:
    explicit Worker(const ExactEngine& engine);
    void run(const Task& task, LeafSink& sink) override;

   private:
    void descend(const Cell& cell, int layer, int neuron, const Matrix& post, int splits);
    void emit(const Cell& cell);
    void snapshot(const Cell& cell, int layer, int neuron, const Matrix& post);

    const ExactEngine& engine_;
    ActivationPattern pattern_;
    std::vector<Matrix> pre_;
    LeafSink* sink_ = nullptr;
    std::vector<double> interior_;
  };

 private:
  struct Layer {
    Matrix weight;
    Vector bias;
    Vector slope;
    int offset = 0;
  };
  std::vector<Layer> layers_;
  int dim_;
  int num_neurons_ = 0;
  Cell root_;
};

}  // namespace relutope::detail
