#pragma once
#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "relutope/network.h"

namespace relutope {

/// A tensor's shape, outermost dimension first; values are stored row-major (the last index varies
/// fastest), as ONNX and PyTorch store them. The batch dimension of a graph input is 1.
using TensorShape = std::vector<std::int64_t>;

/// Number of values of a tensor.
/// @param[in] shape  dimensions, outermost first (empty for a scalar)
/// @return their product (1 for a scalar)
std::int64_t num_elements(const TensorShape& shape);

/// A shape as text, for messages.
/// @param[in] shape  dimensions, outermost first
/// @return e.g. "[1, 3, 8, 8]"
std::string shape_text(const TensorShape& shape);

/// What a graph node computes. Affine ops map their inputs affinely; units are the piecewise-linear
/// nonlinearities, each of which becomes one layer of the lowered Network.
enum class OpKind {
  kInput,     ///< the graph input
  kConstant,  ///< a constant tensor (GraphNode::values)
  // affine
  kSparse,    ///< y = S [x_0; x_1; ...] + shift: index maps and averages (Reshape, Transpose, Slice, Pad,
              ///< Concat, Split, Gather, broadcasting, AveragePool, GlobalAveragePool); S in GraphNode::rows
  kScale,     ///< y = scale .* x + shift, elementwise (BatchNormalization, Add/Sub/Mul/Div by a constant)
  kSum,       ///< y = sum_k coefs[k] x_k over inputs of one shape (Add and Sub of two computed values)
  kMatMul,    ///< y[..., n] = sum_k x[..., k] weight(k, n) + bias[n] over the last axis (Gemm, MatMul)
  kConv,      ///< 1-D or 2-D convolution with strides, pads, dilations and groups (GraphNode::conv)
  // units
  kRelu,      ///< y = x for x >= 0, slope * x below (Relu, LeakyRelu, PRelu); slope has 1 or numel values
  kClip,      ///< y = min(max(x, lo), hi); lo = -inf or hi = +inf for a one-sided clip
  kMax,       ///< y[u] = the largest input in window u (MaxPool windows, elementwise Max); S in GraphNode::rows
};

/// Whether nodes of this kind are affine (applied by apply_affine: kSparse, kScale, kSum, kMatMul, kConv).
/// @param[in] kind  a node kind
/// @return true for the affine kinds
bool is_affine(OpKind kind);
/// Whether nodes of this kind are units (applied by apply_unit: kRelu, kClip, kMax).
/// @param[in] kind  a node kind
/// @return true for the unit kinds
bool is_unit(OpKind kind);

/// A sparse matrix by rows (CSR): row r has entries index[start[r] .. start[r+1]) with `weight`
/// (weight is empty for kMax windows, where every entry counts once). Columns index the inputs of the
/// node one after the other (input 0's values, then input 1's, ...).
struct SparseRows {
  std::vector<std::int64_t> start{0};
  std::vector<std::int64_t> index;
  std::vector<double> weight;

  std::int64_t num_rows() const { return static_cast<std::int64_t>(start.size()) - 1; }
};

/// Convolution geometry: spatial dimensions padded to 2 (a 1-D convolution has height 1).
struct ConvGeometry {
  int in_channels = 0, out_channels = 0, groups = 1;
  int in_h = 1, in_w = 1, out_h = 1, out_w = 1;
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0;  ///< padding before; padding after is implied by out_h, out_w
  int dilation_h = 1, dilation_w = 1;
};

/// One node of a Graph; its output is one tensor.
struct GraphNode {
  OpKind kind = OpKind::kInput;
  std::string name;     ///< the ONNX node's name (or its output's name): used in messages
  std::string op_type;  ///< the ONNX operator it came from ("Conv", "Reshape", ...)
  std::vector<int> inputs;  ///< indices of earlier nodes
  TensorShape shape;        ///< output shape

  Eigen::VectorXd values;   ///< kConstant: the values
  SparseRows rows;          ///< kSparse: the matrix S; kMax: the windows
  Eigen::VectorXd scale;    ///< kScale: numel values, or empty for 1
  Eigen::VectorXd shift;    ///< kSparse, kScale: numel values added to the point, or empty for 0
  std::vector<double> coefs;  ///< kSum: one per input
  Eigen::MatrixXd weight;   ///< kMatMul: K x N; kConv: out_channels x (in_channels / groups * kernel_h * kernel_w)
  Eigen::VectorXd bias;     ///< kMatMul: N values; kConv: out_channels values (or empty)
  ConvGeometry conv;        ///< kConv
  Eigen::VectorXd slope;    ///< kRelu: 1 or numel slopes below 0
  double lo = 0, hi = 0;    ///< kClip bounds (-inf / +inf when absent)

  std::int64_t size() const { return num_elements(shape); }
};

/// A network as a DAG of affine ops and piecewise-linear units in topological order: every node's
/// inputs come before it. Shapes are static (the batch dimension is 1).
struct Graph {
  std::vector<GraphNode> nodes;
  int input = 0;    ///< the kInput node
  int output = -1;  ///< the node whose value is the network's output
  std::string source;       ///< file name, for messages
  std::string output_head;  ///< a smooth head after the output that was left out (see Network::output_head)

  int input_dim() const { return static_cast<int>(nodes[input].size()); }
  int output_dim() const { return static_cast<int>(nodes[output].size()); }

  /// Forward pass of one input.
  /// @param[in] x  input_dim() values, the input tensor row-major (as PyTorch stores it)
  /// @return output_dim() values, the output node's tensor row-major
  /// @throws InputError if x has not input_dim() values
  Eigen::VectorXd evaluate(const Eigen::VectorXd& x) const;
};

/// Applies affine node `node` to an affine family of its inputs without building its matrix.
/// A family of a tensor with n values is an n x k matrix: column 0 is a point, which gets the node's
/// biases and shifts, columns 1..k-1 are directions, which do not. So one column is the forward pass,
/// [b | W] the dense affine map x -> W x + b of the inputs, and [origin | directions] a slice.
/// @param[in] node    an affine node (is_affine(node.kind))
/// @param[in] inputs  one family per node input, all with the same number k of columns (input i is
///                    nodes[node.inputs[i]].size() x k); a kConstant input is a family whose directions
///                    are zero (see constant_family)
/// @return the node's family, node.size() x k
/// @throws Error if the node is not affine
Eigen::MatrixXd apply_affine(const GraphNode& node, const std::vector<const Eigen::MatrixXd*>& inputs);

/// The family of a constant node: its values as the point, no change along any direction.
/// @param[in] node  a kConstant node
/// @param[in] k     columns of the family (1 + the number of directions)
/// @return node.size() x k: node.values in column 0, zeros elsewhere
Eigen::MatrixXd constant_family(const GraphNode& node, Eigen::Index k);

/// Applies a unit node to the values of its inputs (the forward pass at one point).
/// @param[in] node    a unit node (is_unit(node.kind))
/// @param[in] inputs  one vector per node input, input i of size nodes[node.inputs[i]].size()
/// @return node.size() values: the activation, or for kMax the largest value of each window
/// @throws Error if the node is not a unit
Eigen::VectorXd apply_unit(const GraphNode& node, const std::vector<const Eigen::VectorXd*>& inputs);

/// The most bytes lower_to_network may use for dense layers unless told otherwise (512 MB).
constexpr std::size_t kDefaultDenseLimitBytes = std::size_t{512} << 20;

/// Lowers a graph to the layered Network the engines use. Each unit becomes one layer, in topological
/// order; values still needed later are carried through as linear rows (slope 1 in a kPRelu layer,
/// one-row units in a kMax layer); the affine ops between two units are folded into one dense matrix
/// by applying them to identity columns. Relu/LeakyRelu/PRelu and one-sided clips become ReLU-family
/// rows, a two-sided clip two ReLU rows (unit_rows 2), Max windows kMax units. The output head is kept.
/// @param[in] graph        the network (load_graph_onnx)
/// @param[in] limit_bytes  the most memory the dense layers may take (see dense_layers_bytes)
/// @return a Network with graph.input_dim() inputs and graph.output_dim() outputs that computes the
///         same function up to the rounding of the folded products; its exact definition
///         (Network::exact) is a copy of the graph, which exact arithmetic lowers in rationals, so
///         that certified counts and exact decisions are those of the graph, not of the roundings
/// @throws InputError if the dense layers would need more than `limit_bytes` (estimated before any
///         allocation), naming the node where the limit is exceeded
Network lower_to_network(const Graph& graph, std::size_t limit_bytes = kDefaultDenseLimitBytes);

/// The bytes lower_to_network would need at its peak for the dense layers and the blocks that fold
/// them, estimated without allocating them. Compare with kDefaultDenseLimitBytes to choose between the
/// layered engines and the walk through the graph's own operations (pieces_on_segment).
/// @param[in] graph  the network
/// @return the estimate in bytes (a double: it may exceed any integer type for networks like ResNet-18)
double dense_layers_bytes(const Graph& graph);

/// Loads an ONNX model as torch.onnx.export writes it as a Graph (see README "Model formats").
/// @param[in] path  a .onnx file; external data must lie in its folder
/// @return the graph, its nodes in topological order, constants folded, shapes static
/// @throws InputError naming the file and the node, tensor or input at fault
Graph load_graph_onnx(const std::string& path);

}  // namespace relutope
