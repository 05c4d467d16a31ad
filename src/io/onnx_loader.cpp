// ONNX models as torch.onnx.export writes nn.Sequential MLPs: a chain of nodes from the one graph
// input to the one graph output. Affine nodes (Gemm, MatMul, Add) are composed until an activation
// closes a layer; shape-only nodes pass through.
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <limits>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "relutope/error.h"
#include "relutope/io.h"

namespace relutope {

namespace {

// Limits on what a file declares, checked before anything of that size is allocated.
constexpr std::int64_t kMaxInputs = std::int64_t{1} << 24;  // input features
constexpr std::int64_t kMaxIdentityWidth = 4096;             // an activation straight after the input

const char* const kSupported = "Gemm, MatMul, Add, Relu, LeakyRelu, PRelu, Flatten, Identity, Dropout, Reshape, Constant";

struct Tensor {
  std::vector<std::int64_t> dims;
  std::vector<double> values;
};

// ONNX data types (TensorProto.DataType): the name, and the bytes per element in raw_data (0: not loadable).
struct DataType {
  const char* name;
  int bytes;
};

DataType data_type(int code) {
  static const DataType kTypes[] = {
      {"UNDEFINED", 0}, {"FLOAT", 4},  {"UINT8", 1},   {"INT8", 1},       {"UINT16", 2},    {"INT16", 2},
      {"INT32", 4},     {"INT64", 8},  {"STRING", 0},  {"BOOL", 1},       {"FLOAT16", 2},   {"DOUBLE", 8},
      {"UINT32", 4},    {"UINT64", 8}, {"COMPLEX64", 0}, {"COMPLEX128", 0}, {"BFLOAT16", 2}, {"FLOAT8E4M3FN", 0},
      {"FLOAT8E4M3FNUZ", 0}, {"FLOAT8E5M2", 0}, {"FLOAT8E5M2FNUZ", 0}, {"UINT4", 0}, {"INT4", 0}, {"FLOAT4E2M1", 0}};
  if (code >= 0 && code < static_cast<int>(std::size(kTypes))) return kTypes[code];
  return {"unknown", 0};
}

// "FLOAT16 (data type 10)": never a bare number.
std::string describe_type(int code) { return std::string(data_type(code).name) + " (data type " + std::to_string(code) + ")"; }

// IEEE half and bfloat16 bit patterns, exactly as doubles.
double from_float16(std::uint16_t bits) {
  const int exponent = (bits >> 10) & 0x1f, mantissa = bits & 0x3ff;
  const double sign = (bits & 0x8000) ? -1.0 : 1.0;
  if (exponent == 0) return sign * std::ldexp(mantissa, -24);
  if (exponent == 31) return mantissa ? std::numeric_limits<double>::quiet_NaN() : sign * HUGE_VAL;
  return sign * std::ldexp(mantissa + 1024, exponent - 25);
}

double from_bfloat16(std::uint16_t bits) {
  const std::uint32_t wide = static_cast<std::uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &wide, sizeof f);
  return f;
}

// One little-endian element of `type` at `p` (ONNX stores raw_data little-endian).
double decode(int type, const unsigned char* p) {
  std::uint64_t bits = 0;
  for (int i = data_type(type).bytes - 1; i >= 0; --i) bits = (bits << 8) | p[i];
  switch (type) {
    case onnx::TensorProto::FLOAT: {
      const auto narrow = static_cast<std::uint32_t>(bits);
      float f;
      std::memcpy(&f, &narrow, sizeof f);
      return f;
    }
    case onnx::TensorProto::DOUBLE: {
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return d;
    }
    case onnx::TensorProto::FLOAT16: return from_float16(static_cast<std::uint16_t>(bits));
    case onnx::TensorProto::BFLOAT16: return from_bfloat16(static_cast<std::uint16_t>(bits));
    case onnx::TensorProto::INT8: return static_cast<std::int8_t>(bits);
    case onnx::TensorProto::INT16: return static_cast<std::int16_t>(bits);
    case onnx::TensorProto::INT32: return static_cast<std::int32_t>(bits);
    case onnx::TensorProto::INT64: return static_cast<double>(static_cast<std::int64_t>(bits));
    case onnx::TensorProto::BOOL: return bits != 0;
    default: return static_cast<double>(bits);  // UINT8, UINT16, UINT32, UINT64
  }
}

std::string with_commas(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string shape_text(const std::vector<std::int64_t>& dims) {
  std::string out = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) out += (i ? ", " : "") + std::to_string(dims[i]);
  return out + "]";
}

// A non-negative decimal integer, as external_data's offset and length are written.
bool parse_size(const std::string& text, std::uint64_t& value) {
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos) return false;
  value = std::stoull(text);
  return true;
}

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

  // Every size is checked against the data the file holds before anything is allocated, so a tensor
  // that declares gigabytes it does not have is an InputError, never a huge allocation.
  Tensor to_tensor(const onnx::TensorProto& t, const std::string& name) const {
    const std::string at = path_ + ": tensor \"" + name + "\": ";
    Tensor out;
    std::uint64_t count = 1;
    bool overflow = false;
    for (auto d : t.dims()) {
      if (d < 0) throw InputError(at + "dimension " + std::to_string(out.dims.size()) + " is " + std::to_string(d) + " (negative)");
      out.dims.push_back(d);
      overflow |= __builtin_mul_overflow(count, static_cast<std::uint64_t>(d), &count);
    }
    const int type = t.data_type();
    const int bytes = data_type(type).bytes;
    if (bytes == 0)
      throw InputError(at + "data type " + describe_type(type) +
                       " is not supported (supported: FLOAT, DOUBLE, FLOAT16, BFLOAT16, BOOL and the integer types)");
    std::uint64_t needed = 0;
    if (overflow || count > (std::uint64_t{1} << 40) || __builtin_mul_overflow(count, static_cast<std::uint64_t>(bytes), &needed))
      throw InputError(at + "shape " + shape_text(out.dims) + " declares more values than any model can hold (" +
                       (overflow ? std::string("the product of the dimensions overflows") : with_commas(count) + " values") + ")");
    const std::string declared = " (shape " + shape_text(out.dims) + " of " + data_type(type).name + " needs " +
                                 with_commas(needed) + " bytes)";

    std::string external;
    const bool is_external = t.data_location() == onnx::TensorProto::EXTERNAL;
    if (is_external) external = read_external(t, at, needed, declared);
    const std::string& raw = is_external ? external : t.raw_data();
    if (is_external || t.has_raw_data()) {
      if (raw.size() != needed)
        throw InputError(at + "raw data has " + with_commas(raw.size()) + " bytes, expected " + with_commas(needed) + declared +
                         (raw.size() < needed ? " (truncated file?)" : ""));
      out.values.resize(count);
      const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
      for (std::uint64_t i = 0; i < count; ++i) out.values[i] = decode(type, p + i * bytes);
    } else {
      // The typed fields of TensorProto: which one holds which type is fixed by onnx.proto.
      std::uint64_t held = 0;
      switch (type) {
        case onnx::TensorProto::FLOAT: held = t.float_data_size(); break;
        case onnx::TensorProto::DOUBLE: held = t.double_data_size(); break;
        case onnx::TensorProto::INT64: held = t.int64_data_size(); break;
        case onnx::TensorProto::UINT32:
        case onnx::TensorProto::UINT64: held = t.uint64_data_size(); break;
        default: held = t.int32_data_size(); break;  // INT8..INT32, UINT8, UINT16, BOOL, FLOAT16, BFLOAT16 (bit patterns)
      }
      if (held != count)
        throw InputError(at + "holds " + with_commas(held) + " values, its shape " + shape_text(out.dims) + " needs " +
                         with_commas(count) + (held < count ? " (truncated file, or external data that is missing?)" : ""));
      out.values.resize(count);
      for (std::uint64_t i = 0; i < count; ++i) {
        const int k = static_cast<int>(i);
        switch (type) {
          case onnx::TensorProto::FLOAT: out.values[i] = t.float_data(k); break;
          case onnx::TensorProto::DOUBLE: out.values[i] = t.double_data(k); break;
          case onnx::TensorProto::INT64: out.values[i] = static_cast<double>(t.int64_data(k)); break;
          case onnx::TensorProto::UINT32:
          case onnx::TensorProto::UINT64: out.values[i] = static_cast<double>(t.uint64_data(k)); break;
          case onnx::TensorProto::FLOAT16: out.values[i] = from_float16(static_cast<std::uint16_t>(t.int32_data(k))); break;
          case onnx::TensorProto::BFLOAT16: out.values[i] = from_bfloat16(static_cast<std::uint16_t>(t.int32_data(k))); break;
          case onnx::TensorProto::BOOL: out.values[i] = t.int32_data(k) != 0; break;
          default: out.values[i] = t.int32_data(k); break;
        }
      }
    }
    for (std::size_t i = 0; i < out.values.size(); ++i)
      if (!std::isfinite(out.values[i])) {
        std::string index;
        auto rest = static_cast<std::int64_t>(i);
        for (auto d = out.dims.rbegin(); d != out.dims.rend(); ++d) {
          index = "[" + std::to_string(rest % *d) + "]" + index;
          rest /= *d;
        }
        throw InputError(at + "entry " + index + " is " + (std::isnan(out.values[i]) ? "NaN" : "infinite") +
                         " (expected finite weights)");
      }
    return out;
  }

  const std::string& path() const { return path_; }

 private:
  // save_as_external_data: the bytes are in a file beside the model, named by "location", from
  // "offset" for "length" bytes. Only files inside the model's folder are read.
  std::string read_external(const onnx::TensorProto& t, const std::string& at, std::uint64_t needed,
                            const std::string& declared) const {
    namespace fs = std::filesystem;
    std::string location;
    std::uint64_t offset = 0, length = 0;
    bool has_location = false, has_length = false;
    for (const auto& entry : t.external_data()) {
      if (entry.key() == "location") {
        location = entry.value();
        has_location = true;
      } else if (entry.key() == "offset" || entry.key() == "length") {
        std::uint64_t& value = entry.key() == "offset" ? offset : length;
        if (!parse_size(entry.value(), value))
          throw InputError(at + "external data " + entry.key() + " \"" + entry.value() + "\" is not a byte count");
        has_length |= entry.key() == "length";
      }
    }
    if (!has_location || location.empty()) throw InputError(at + "external data without a location (file name)");
    if (location.find('\0') != std::string::npos) throw InputError(at + "external data location contains a NUL byte");
    const fs::path relative(location);
    bool escapes = relative.is_absolute() || relative.has_root_name() || relative.has_root_directory();
    for (const auto& part : relative) escapes |= part == "..";
    if (escapes)
      throw InputError(at + "external data location \"" + location +
                       "\" leaves the model's folder (only files in the folder of the model, without \"..\", are read)");
    fs::path dir = fs::path(path_).parent_path();
    if (dir.empty()) dir = ".";
    const fs::path file = dir / relative;
    std::error_code error;
    if (!fs::exists(file, error))
      throw InputError(at + "external data file \"" + location + "\" not found (looked for " + file.string() +
                       "; it must be copied with the model)");
    // A symbolic link may still point elsewhere: compare the resolved paths.
    const fs::path real_dir = fs::canonical(dir, error), real_file = fs::canonical(file, error);
    if (error) throw InputError(at + "external data file \"" + file.string() + "\": " + error.message());
    const auto mismatch = std::mismatch(real_dir.begin(), real_dir.end(), real_file.begin(), real_file.end());
    if (mismatch.first != real_dir.end())
      throw InputError(at + "external data file \"" + location + "\" resolves to " + real_file.string() +
                       ", outside the model's folder");
    if (!fs::is_regular_file(real_file, error)) throw InputError(at + "external data \"" + location + "\" is not a regular file");
    const std::uint64_t size = fs::file_size(real_file, error);
    if (error) throw InputError(at + "external data file \"" + file.string() + "\": " + error.message());
    const std::string where = "external data file \"" + location + "\" (" + with_commas(size) + " bytes)";
    if (offset > size) throw InputError(at + "offset " + with_commas(offset) + " is past the end of " + where);
    if (!has_length) length = size - offset;
    if (length > size - offset)
      throw InputError(at + "stored at bytes " + with_commas(offset) + " to " + with_commas(offset) + " + " + with_commas(length) +
                       " of " + where + ", past its end (truncated file?)");
    if (length != needed)
      throw InputError(at + "external data has " + with_commas(length) + " bytes, expected " + with_commas(needed) + declared);
    std::ifstream in(real_file, std::ios::binary);
    std::string data(length, '\0');
    if (!in.seekg(static_cast<std::streamoff>(offset)) || !in.read(data.data(), static_cast<std::streamsize>(length)))
      throw InputError(at + "cannot read " + with_commas(length) + " bytes at offset " + with_commas(offset) + " of " + where);
    return data;
  }

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

// A bias or slope added to a (batch, features) value acts per feature only if its dimensions before
// the last are all 1: shape [N] or [1, N], or one value. A shape like [N, 1] would broadcast across the
// batch instead, giving a (N, N) result that is not a feature vector.
bool along_features(const Tensor& t) {
  return t.values.size() == 1 || std::all_of(t.dims.begin(), t.dims.end() - (t.dims.empty() ? 0 : 1),
                                              [](std::int64_t d) { return d == 1; });
}

std::string shape_of(const Tensor& t) { return shape_text(t.dims); }

bool is_affine(const std::string& op) { return op == "Gemm" || op == "MatMul" || op == "Add"; }

// Dropout is the identity in inference mode. From opset 12 the mode is an input, training_mode (BOOL),
// which torch.onnx.export sets to true when the model was exported in training mode: the output is
// then random, and relutope refuses it unless the ratio is 0.
void check_dropout(const onnx::NodeProto& node, const std::map<std::string, Tensor>& constants, const OnnxReader& reader) {
  if (node.input_size() < 3 || node.input(2).empty()) return;
  const std::string& mode = node.input(2);
  const auto found = constants.find(mode);
  if (found == constants.end())
    reader.fail(&node, "training_mode \"" + mode + "\" is computed in the graph, so the Dropout may be in training mode, "
                       "where its output is random; export the model after model.eval() (the exporter then drops the Dropout)");
  const std::vector<double>& training = found->second.values;
  if (training.size() != 1)
    reader.fail(&node, "training_mode \"" + mode + "\": expected one BOOL value, got " + std::to_string(training.size()));
  if (training[0] == 0) return;
  if (node.input_size() >= 2 && !node.input(1).empty()) {
    const auto ratio = constants.find(node.input(1));
    if (ratio != constants.end() && ratio->second.values.size() == 1 && ratio->second.values[0] == 0) return;
  }
  reader.fail(&node, "Dropout in training mode (training_mode = true): it zeroes random inputs, so the network is random "
                     "and has no fixed linear regions; export the model after model.eval() (torch.onnx.export(..., "
                     "training=torch.onnx.TrainingMode.EVAL), the default)");
}

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
    const std::int64_t d = shape.dim(i).dim_value();
    if (d <= 0 || __builtin_mul_overflow(width, d, &width) || width > kMaxInputs)
      throw InputError(path + ": input \"" + input->name() + "\": dimension " + std::to_string(i) + " is " + std::to_string(d) +
                       (d <= 0 ? " (expected a positive size)"
                               : ": more than " + std::to_string(kMaxInputs) + " input features in all (is the shape right?)"));
  }
  if (shape.dim_size() == 0) throw InputError(path + ": input \"" + input->name() + "\": shape unknown");

  // A chain has every computed value used by at most one node.
  std::map<std::string, int> uses;
  for (const auto& node : graph.node())
    for (const auto& name : node.input()) ++uses[name];

  Network net;
  net.source = path;
  // The affine map composed since the last activation, x -> weight x + bias. Until an affine node
  // comes it is the identity, kept implicit: only a layer that really is the identity (an activation
  // right after the input or another activation) is ever built as a width x width matrix.
  Eigen::MatrixXd weight;
  Eigen::VectorXd bias;
  bool identity = true;
  bool pending_affine = false;
  std::string current = input->name();

  auto make_explicit = [&](const onnx::NodeProto& node) {
    if (!identity) return;
    if (width > kMaxIdentityWidth)
      reader.fail(&node, "follows the input or an activation directly, which needs a " + std::to_string(width) + " x " +
                             std::to_string(width) + " identity layer (at most " + std::to_string(kMaxIdentityWidth) + " wide)");
    weight = Eigen::MatrixXd::Identity(width, width);
    bias = Eigen::VectorXd::Zero(width);
    identity = false;
  };
  // x -> w (weight x + bias) + c
  auto compose = [&](const Eigen::MatrixXd& w, const Eigen::VectorXd& c) {
    if (identity) {
      weight = w;
      bias = c;
    } else {
      bias = w * bias + c;
      weight = w * weight;
    }
    identity = false;
    width = w.rows();
    pending_affine = true;
  };
  auto close_layer = [&](const onnx::NodeProto& node, Activation activation, Eigen::VectorXd slopes) {
    make_explicit(node);
    Layer layer;
    layer.weight = std::move(weight);
    layer.bias = std::move(bias);
    layer.activation = activation;
    layer.negative_slope = std::move(slopes);
    net.layers.push_back(std::move(layer));
    identity = true;
    pending_affine = false;
  };

  int last_affine = -1;
  for (int i = 0; i < graph.node_size(); ++i)
    if (is_affine(graph.node(i).op_type())) last_affine = i;
  for (int index = 0; index < graph.node_size(); ++index) {
    const onnx::NodeProto& node = graph.node(index);
    const std::string& op = node.op_type();
    if (node.output_size() < 1 || node.output(0).empty()) reader.fail(&node, "has no output");
    if (op == "Constant") {
      for (const auto& a : node.attribute())
        if (a.name() == "value") constants[node.output(0)] = reader.to_tensor(a.t(), node.output(0));
      if (!constants.count(node.output(0))) reader.fail(&node, "only the \"value\" form of Constant is supported");
      continue;
    }
    if (op == "Dropout") check_dropout(node, constants, reader);
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
        if (!along_features(ct))
          reader.fail(&node, "bias \"" + node.input(2) + "\": shape " + shape_of(ct) + " does not act per output (expected [" +
                                 std::to_string(w.rows()) + "], [1, " + std::to_string(w.rows()) + "] or one value)");
        if (ct.values.size() == 1) c.setConstant(ct.values[0]);
        else if (static_cast<Eigen::Index>(ct.values.size()) == w.rows()) c = Eigen::Map<const Eigen::VectorXd>(ct.values.data(), w.rows());
        else reader.fail(&node, "bias \"" + node.input(2) + "\": expected " + std::to_string(w.rows()) + " values, got " + std::to_string(ct.values.size()));
      }
      w *= alpha;
      compose(w, beta * c);
    } else if (op == "MatMul") {
      if (node.input(0) != current || params.size() != 1 || params[0]->dims.size() != 2)
        reader.fail(&node, "expected the computed value times a constant matrix (x @ W)");
      const Tensor& b = *params[0];
      const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> bm(b.values.data(), b.dims[0], b.dims[1]);
      if (bm.rows() != width)
        reader.fail(&node, "weight \"" + node.input(1) + "\": expected " + std::to_string(width) + " rows (the width so far), got " + std::to_string(bm.rows()));
      compose(bm.transpose(), Eigen::VectorXd::Zero(bm.cols()));
    } else if (op == "Add") {
      if (params.size() != 1) reader.fail(&node, "expected the computed value plus a constant");
      const Tensor& c = *params[0];
      const std::string name = node.input(0) == current ? node.input(1) : node.input(0);
      if (!along_features(c))
        reader.fail(&node, "constant \"" + name + "\": shape " + shape_of(c) + " does not act per feature (expected [" +
                               std::to_string(width) + "], [1, " + std::to_string(width) + "] or one value)");
      make_explicit(node);
      if (c.values.size() == 1) bias.array() += c.values[0];
      else if (static_cast<std::int64_t>(c.values.size()) == width) bias += Eigen::Map<const Eigen::VectorXd>(c.values.data(), width);
      else reader.fail(&node, "constant \"" + name + "\": expected " +
                                  std::to_string(width) + " values, got " + std::to_string(c.values.size()));
      pending_affine = true;
    } else if (op == "Relu") {
      close_layer(node, Activation::kRelu, {});
    } else if (op == "LeakyRelu") {
      close_layer(node, Activation::kLeakyRelu, Eigen::VectorXd::Constant(1, float_attribute(node, "alpha", 0.01)));
    } else if (op == "PRelu") {
      if (params.size() != 1) reader.fail(&node, "the slope must be a constant");
      const Tensor& s = *params[0];
      if (!along_features(s))
        reader.fail(&node, "slope \"" + node.input(1) + "\": shape " + shape_of(s) + " does not act per feature (expected [" +
                               std::to_string(width) + "], [1, " + std::to_string(width) + "] or one value)");
      if (s.values.size() != 1 && static_cast<std::int64_t>(s.values.size()) != width)
        reader.fail(&node, "slope \"" + node.input(1) + "\": expected 1 or " + std::to_string(width) + " values, got " + std::to_string(s.values.size()));
      close_layer(node, Activation::kPRelu, Eigen::Map<const Eigen::VectorXd>(s.values.data(), static_cast<Eigen::Index>(s.values.size())));
    } else if (op == "Flatten" || op == "Identity" || op == "Dropout") {
      // the feature vector is unchanged (Dropout is the identity at inference: check_dropout)
    } else if (op == "Reshape") {
      if (params.size() != 1) reader.fail(&node, "the target shape must be a constant");
      const auto& target = params[0]->values;
      const bool to_features = target.size() == 2 && (target[1] == static_cast<double>(width) || target[1] == -1);
      if (!to_features)
        reader.fail(&node, "only a reshape to [batch, " + std::to_string(width) + "] is supported (flattening the input)");
    } else {
      reader.fail(&node, "op type " + op + " is not supported (supported: " + kSupported + ")");
    }
    current = node.output(0);
  }
  bool output_found = false;
  for (const auto& out : graph.output()) output_found |= out.name() == current;
  if (!output_found) throw InputError(path + ": the chain of nodes ends at \"" + current + "\", which is not a graph output (the graph branches?)");
  if (pending_affine || net.layers.empty()) close_layer(graph.node(graph.node_size() - 1), Activation::kNone, {});
  return net;
}

}  // namespace relutope
