#pragma once
// Small hand-built graphs for the walks' tests.
#include <Eigen/Core>

#include "relutope/graph.h"

namespace graphs {

// input -> MatMul (weight K x N, bias N or empty) -> Relu.
inline relutope::Graph relu_of_matmul(const Eigen::MatrixXd& weight, const Eigen::VectorXd& bias = {}) {
  using relutope::GraphNode;
  using relutope::OpKind;
  relutope::Graph g;
  GraphNode input;
  input.kind = OpKind::kInput;
  input.name = "x";
  input.shape = {1, weight.rows()};
  GraphNode matmul;
  matmul.kind = OpKind::kMatMul;
  matmul.name = "matmul";
  matmul.op_type = "MatMul";
  matmul.inputs = {0};
  matmul.weight = weight;  // K x N
  matmul.bias = bias;
  matmul.shape = {1, weight.cols()};
  GraphNode relu;
  relu.kind = OpKind::kRelu;
  relu.name = "relu";
  relu.op_type = "Relu";
  relu.inputs = {1};
  relu.slope = Eigen::VectorXd::Zero(1);
  relu.shape = matmul.shape;
  g.nodes = {input, matmul, relu};
  g.input = 0;
  g.output = 2;
  g.source = "hand-built";
  return g;
}

// input -> MatMul (weight K x 2) -> one MaxPool window over its two outputs.
inline relutope::Graph max_of_matmul(const Eigen::MatrixXd& weight) {
  relutope::Graph g = relu_of_matmul(weight);
  relutope::GraphNode& max = g.nodes[2];
  max.kind = relutope::OpKind::kMax;
  max.name = "pool";
  max.op_type = "MaxPool";
  max.slope.resize(0);
  max.rows.start = {0, 2};
  max.rows.index = {0, 1};
  max.shape = {1, 1};
  return g;
}

}  // namespace graphs
