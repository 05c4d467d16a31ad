// ONNX models as torch.onnx.export writes nn.Sequential MLPs: a chain of nodes from the one graph
// input to the one graph output. Affine nodes (Gemm, MatMul, Add) are composed until an activation
// closes a layer; shape-only nodes pass through.
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "relutope/error.h"
#include "relutope/io.h"

namespace relutope {

namespace {

const char* const kSupported = "Gemm, MatMul, Add, Relu, LeakyRelu, PRelu, Flatten, Identity, Dropout, Reshape, Constant";

struct Tensor {
  std::vector<std::int64_t> dims;
  std::vector<double> values;
  std::int64_t rows() const { return dims.size() == 2 ? dims[0] : 1; }
  std::int64_t cols() const { return dims.empty() ? 1 : dims.back(); }
};

class OnnxReader {
 public:
  explicit OnnxReader(std::string path) : path_(std::move(path)) {}

  [[noreturn]] void fail(const onnx::NodeProto* node, const std::string& what) const {
    std::string where = path_ + ": ";
    if (node) {
      const std::string name = !node->name().empty() ? node->name() : node->output_size() ? node->output(0) : "?";
      where += "node \"" + name + "\" (" + node->op_type() + "): ";
    }
    throw InputError(where + what);
  }

  Tensor to_tensor(const onnx::TensorProto& t, const std::string& name) const {
    Tensor out;
    std::int64_t count = 1;
    for (auto d : t.dims()) {
      out.dims.push_back(d);
      count *= d;
    }
    const std::string& raw = t.raw_data();
    auto read_raw = [&](auto sample) {
      using T = decltype(sample);
      if (raw.size() != static_cast<std::size_t>(count) * sizeof(T))
        throw InputError(path_ + ": tensor \"" + name + "\": raw data has " + std::to_string(raw.size()) +
                         " bytes, expected " + std::to_string(count * sizeof(T)) + " (truncated file?)");
      out.values.resize(count);
      for (std::int64_t i = 0; i < count; ++i) {
        T v;
        std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
        out.values[i] = static_cast<double>(v);
      }
    };
    switch (t.data_type()) {
      case onnx::TensorProto::FLOAT:
        if (t.has_raw_data()) read_raw(float{});
        else out.values.assign(t.float_data().begin(), t.float_data().end());
        break;
      case onnx::TensorProto::DOUBLE:
        if (t.has_raw_data()) read_raw(double{});
        else out.values.assign(t.double_data().begin(), t.double_data().end());
        break;
      case onnx::TensorProto::INT64:
        if (t.has_raw_data()) read_raw(std::int64_t{});
        else out.values.assign(t.int64_data().begin(), t.int64_data().end());
        break;
      default:
        throw InputError(path_ + ": tensor \"" + name + "\": data type " + std::to_string(t.data_type()) +
                         " is not supported (expected float, double or int64)");
    }
    if (static_cast<std::int64_t>(out.values.size()) != count)
      throw InputError(path_ + ": tensor \"" + name + "\": has " + std::to_string(out.values.size()) +
                       " values, its shape needs " + std::to_string(count));
    for (std::size_t i = 0; i < out.values.size(); ++i)
      if (!std::isfinite(out.values[i])) {
        std::string index;
        auto rest = static_cast<std::int64_t>(i);
        for (auto d = out.dims.rbegin(); d != out.dims.rend(); ++d) {
          index = "[" + std::to_string(rest % *d) + "]" + index;
          rest /= *d;
        }
        throw InputError(path_ + ": tensor \"" + name + "\": entry " + index + " is " +
                         (std::isnan(out.values[i]) ? "NaN" : "infinite") + " (expected finite weights)");
      }
    return out;
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

double float_attribute(const onnx::NodeProto& node, const std::string& name, double fallback) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return a.f();
  return fallback;
}

std::int64_t int_attribute(const onnx::NodeProto& node, const std::string& name, std::int64_t fallback) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return a.i();
  return fallback;
}

// HardSigmoid and ThresholdedRelu are piecewise linear, so they are merely unsupported.
bool is_not_piecewise_linear(const std::string& op) {
  static const std::set<std::string> kSmooth = {"Sigmoid", "Tanh", "Elu", "Selu", "Gelu", "Softplus", "Softsign",
                                                "Erf", "Exp", "Log", "Softmax", "LogSoftmax", "Mish", "Celu",
                                                "HardSwish"};
  return kSmooth.count(op) > 0;
}

bool is_affine(const std::string& op) { return op == "Gemm" || op == "MatMul" || op == "Add"; }

}  // namespace

Network load_network_onnx(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open file (does it exist and is it readable?)");
  onnx::ModelProto model;
  if (!model.ParseFromIstream(&in))
    throw InputError(path + ": not a valid ONNX model (the protobuf does not parse: truncated or not an ONNX file?)");
  const onnx::GraphProto& graph = model.graph();
  if (graph.node_size() == 0 || graph.input_size() == 0)
    throw InputError(path + ": not a valid ONNX model (no graph nodes or inputs: truncated or not an ONNX file?)");
  OnnxReader reader(path);

  std::map<std::string, Tensor> constants;
  for (const auto& init : graph.initializer()) constants[init.name()] = reader.to_tensor(init, init.name());

  // The one input that is not an initializer; its non-batch dimensions give the input size.
  const onnx::ValueInfoProto* input = nullptr;
  for (const auto& value : graph.input())
    if (!constants.count(value.name())) {
      if (input) throw InputError(path + ": the graph has several inputs (\"" + input->name() + "\", \"" + value.name() + "\"); expected one");
      input = &value;
    }
  if (!input) throw InputError(path + ": the graph has no input that is not an initializer");
  std::int64_t width = 1;
  const auto& shape = input->type().tensor_type().shape();
  for (int i = shape.dim_size() > 1 ? 1 : 0; i < shape.dim_size(); ++i) {
    if (!shape.dim(i).has_dim_value())
      throw InputError(path + ": input \"" + input->name() + "\": dimension " + std::to_string(i) +
                       " has no fixed size (only the batch dimension may be dynamic)");
    width *= shape.dim(i).dim_value();
  }
  if (shape.dim_size() == 0 || width <= 0) throw InputError(path + ": input \"" + input->name() + "\": shape unknown");

  // A chain has every computed value used by at most one node.
  std::map<std::string, int> uses;
  for (const auto& node : graph.node())
    for (const auto& name : node.input()) ++uses[name];

  Network net;
  net.source = path;
  Eigen::MatrixXd weight = Eigen::MatrixXd::Identity(width, width);
  Eigen::VectorXd bias = Eigen::VectorXd::Zero(width);
  bool pending_affine = false;
  std::string current = input->name();

  auto close_layer = [&](Activation activation, Eigen::VectorXd slopes) {
    Layer layer;
    layer.weight = weight;
    layer.bias = bias;
    layer.activation = activation;
    layer.negative_slope = std::move(slopes);
    net.layers.push_back(std::move(layer));
    weight = Eigen::MatrixXd::Identity(width, width);
    bias = Eigen::VectorXd::Zero(width);
    pending_affine = false;
  };

  int last_affine = -1;
  for (int i = 0; i < graph.node_size(); ++i)
    if (is_affine(graph.node(i).op_type())) last_affine = i;
  for (int index = 0; index < graph.node_size(); ++index) {
    const onnx::NodeProto& node = graph.node(index);
    const std::string& op = node.op_type();
    if (op == "Constant") {
      for (const auto& a : node.attribute())
        if (a.name() == "value") constants[node.output(0)] = reader.to_tensor(a.t(), node.output(0));
      if (!constants.count(node.output(0))) reader.fail(&node, "only the \"value\" form of Constant is supported");
      continue;
    }
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      reader.fail(&node, "operator domain \"" + node.domain() + "\" is not supported");
    // Exactly one input must be the value computed so far; the rest must be constants.
    std::vector<const Tensor*> params;
    int computed = 0;
    for (const auto& name : node.input()) {
      if (name.empty()) continue;
      if (constants.count(name)) {
        params.push_back(&constants.at(name));
      } else if (name == current) {
        ++computed;
      } else {
        reader.fail(&node, "input \"" + name + "\" is not the output of the previous node: the graph branches "
                                             "(skip connections are not supported yet; supported: a chain of " + kSupported + ")");
      }
    }
    if (computed != 1) reader.fail(&node, "expected exactly one computed input, got " + std::to_string(computed) +
                                              " (the graph branches or uses the same value twice)");
    if (uses[current] > 1)
      reader.fail(&node, "value \"" + current + "\" feeds " + std::to_string(uses[current]) + " nodes: the graph branches "
                         "(skip connections are not supported yet)");
    if (is_not_piecewise_linear(op)) {
      // After the last affine node it only maps the logits to probabilities: the network's regions are
      // those of the logits, but relutope does not take output heads yet.
      if (index > last_affine)
        reader.fail(&node, op + " after the last affine layer is a smooth output head; relutope does not accept output "
                                "heads yet (remove it before export: the linear regions are those of the logits before it)");
      reader.fail(&node, "op type " + op + " is not piecewise linear, so the network has no linear regions"
                         " (supported: " + std::string(kSupported) + ")");
    }

    if (op == "Gemm") {
      if (int_attribute(node, "transA", 0)) reader.fail(&node, "transA=1 is not supported (the data must be the first input)");
      if (node.input(0) != current) reader.fail(&node, "the computed value must be input A");
      if (params.empty()) reader.fail(&node, "input B must be a constant (an initializer)");
      const Tensor& b = *params[0];
      if (b.dims.size() != 2) reader.fail(&node, "input B must be a matrix");
      const double alpha = float_attribute(node, "alpha", 1.0), beta = float_attribute(node, "beta", 1.0);
      const bool trans_b = int_attribute(node, "transB", 0) != 0;
      const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> bm(b.values.data(), b.dims[0], b.dims[1]);
      Eigen::MatrixXd w = trans_b ? Eigen::MatrixXd(bm) : Eigen::MatrixXd(bm.transpose());  // out x in
      if (w.cols() != width)
        reader.fail(&node, "weight \"" + node.input(1) + "\": expected " + std::to_string(width) + " inputs (the width so far), got " +
                               std::to_string(w.cols()) + " (shape " + std::to_string(b.dims[0]) + "x" + std::to_string(b.dims[1]) +
                               ", transB=" + std::to_string(trans_b) + ")");
      Eigen::VectorXd c = Eigen::VectorXd::Zero(w.rows());
      if (params.size() > 1) {
        const Tensor& ct = *params[1];
        if (ct.values.size() == 1) c.setConstant(ct.values[0]);
        else if (static_cast<Eigen::Index>(ct.values.size()) == w.rows()) c = Eigen::Map<const Eigen::VectorXd>(ct.values.data(), w.rows());
        else reader.fail(&node, "bias \"" + node.input(2) + "\": expected " + std::to_string(w.rows()) + " values, got " + std::to_string(ct.values.size()));
      }
      w *= alpha;
      bias = w * bias + beta * c;
      weight = w * weight;
      width = w.rows();
      pending_affine = true;
    } else if (op == "MatMul") {
      if (node.input(0) != current || params.size() != 1 || params[0]->dims.size() != 2)
        reader.fail(&node, "expected the computed value times a constant matrix (x @ W)");
      const Tensor& b = *params[0];
      const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> bm(b.values.data(), b.dims[0], b.dims[1]);
      if (bm.rows() != width)
        reader.fail(&node, "weight \"" + node.input(1) + "\": expected " + std::to_string(width) + " rows (the width so far), got " + std::to_string(bm.rows()));
      const Eigen::MatrixXd w = bm.transpose();
      bias = w * bias;
      weight = w * weight;
      width = w.rows();
      pending_affine = true;
    } else if (op == "Add") {
      if (params.size() != 1) reader.fail(&node, "expected the computed value plus a constant");
      const Tensor& c = *params[0];
      if (c.values.size() == 1) bias.array() += c.values[0];
      else if (static_cast<std::int64_t>(c.values.size()) == width) bias += Eigen::Map<const Eigen::VectorXd>(c.values.data(), width);
      else reader.fail(&node, "constant \"" + (node.input(0) == current ? node.input(1) : node.input(0)) + "\": expected " +
                                  std::to_string(width) + " values, got " + std::to_string(c.values.size()));
      pending_affine = true;
    } else if (op == "Relu") {
      close_layer(Activation::kRelu, {});
    } else if (op == "LeakyRelu") {
      close_layer(Activation::kLeakyRelu, Eigen::VectorXd::Constant(1, float_attribute(node, "alpha", 0.01)));
    } else if (op == "PRelu") {
      if (params.size() != 1) reader.fail(&node, "the slope must be a constant");
      const Tensor& s = *params[0];
      if (s.values.size() != 1 && static_cast<std::int64_t>(s.values.size()) != width)
        reader.fail(&node, "slope \"" + node.input(1) + "\": expected 1 or " + std::to_string(width) + " values, got " + std::to_string(s.values.size()));
      close_layer(Activation::kPRelu, Eigen::Map<const Eigen::VectorXd>(s.values.data(), static_cast<Eigen::Index>(s.values.size())));
    } else if (op == "Flatten" || op == "Identity" || op == "Dropout") {
      // the feature vector is unchanged (Dropout is the identity at inference)
    } else if (op == "Reshape") {
      if (params.size() != 1) reader.fail(&node, "the target shape must be a constant");
      const auto& target = params[0]->values;
      const bool to_features = target.size() == 2 && (target[1] == static_cast<double>(width) || target[1] == -1);
      if (!to_features)
        reader.fail(&node, "only a reshape to [batch, " + std::to_string(width) + "] is supported (flattening the input)");
    } else {
      reader.fail(&node, "op type " + op + " is not supported (supported: " + kSupported + ")");
    }
    if (node.output_size() < 1) reader.fail(&node, "has no output");
    current = node.output(0);
  }
  bool output_found = false;
  for (const auto& out : graph.output()) output_found |= out.name() == current;
  if (!output_found) throw InputError(path + ": the chain of nodes ends at \"" + current + "\", which is not a graph output (the graph branches?)");
  if (pending_affine || net.layers.empty()) close_layer(Activation::kNone, {});
  return net;
}

}  // namespace relutope
