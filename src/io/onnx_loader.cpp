// ONNX models as torch.onnx.export writes them, read into a Graph: every node becomes graph nodes
// with static shapes (the batch dimension is 1), nodes whose inputs are all constant are folded (the
// Shape/Gather/Concat/Unsqueeze chains PyTorch writes for flattening), and nodes that do not lead to
// the output are dropped. load_network_onnx lowers the graph to layers (src/graph/lower.cpp).
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
#include "relutope/graph.h"
#include "relutope/io.h"

namespace relutope {

namespace {

// Limits on what a file declares, checked before anything of that size is allocated.
constexpr std::int64_t kMaxInputs = std::int64_t{1} << 24;  // input features
constexpr std::int64_t kMaxTensorValues = std::int64_t{1} << 24;  // any tensor the graph computes (ResNet-18: 802,816)
// Limits on the whole file, so that a few bytes of nodes cannot ask for minutes or gigabytes: each node
// alone may stay under kMaxTensorValues and still add up.
constexpr std::int64_t kMaxGraphValues = std::int64_t{1} << 26;  // all tensors together (ResNet-18 with batch norms: 8.2 million)
// Folding is for the shape chains and the odd weight transpose PyTorch writes; a file that computes
// more from its constants than this is not a network we can read.
constexpr std::int64_t kMaxFoldWork = std::int64_t{1} << 22;  // values read and written plus multiply-adds
// Index maps (Expand, Transpose, Slice, Concat, Pad, Split of computed values) cost 16-24 bytes per value
// to build, three times what the graph-values budget charges, and were built before the budget could
// refuse a later node: 2^24 of them took 400 MB and 3 s in the fuzz build. Checked before each is
// built. Real networks need few (none in ResNet-18; Concat and Slice of a 64x112x112 activation: 800,000).
constexpr std::int64_t kMaxIndexMapEntries = std::int64_t{1} << 22;


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

const char* const kSupported =
    "Gemm, MatMul, Add, Sub, Mul, Div, Conv, BatchNormalization, AveragePool, GlobalAveragePool, MaxPool, Max, "
    "Pad, Concat, Split, Slice, Gather, Transpose, Reshape, Flatten, Squeeze, Unsqueeze, Expand, Identity, Dropout, "
    "Cast, Shape, Constant, ConstantOfShape, Equal and If on constants, Relu, LeakyRelu, PRelu, Clip";

// HardSigmoid and ThresholdedRelu are piecewise linear, so they are merely unsupported.
bool is_not_piecewise_linear(const std::string& op) {
  static const std::set<std::string> kSmooth = {"Sigmoid", "Tanh", "Elu", "Selu", "Gelu", "Softplus", "Softsign",
                                                "Erf", "Exp", "Log", "Softmax", "LogSoftmax", "Mish", "Celu",
                                                "HardSwish", "Sqrt", "Pow", "Reciprocal"};
  return kSmooth.count(op) > 0;
}

bool is_output_head(const std::string& op) {
  return op == "Softmax" || op == "LogSoftmax" || op == "Sigmoid" || op == "Tanh";
}

const onnx::AttributeProto* find_attribute(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

double float_attribute(const onnx::NodeProto& node, const std::string& name, double fallback) {
  const auto* a = find_attribute(node, name);
  return a ? a->f() : fallback;
}

std::int64_t int_attribute(const onnx::NodeProto& node, const std::string& name, std::int64_t fallback) {
  const auto* a = find_attribute(node, name);
  return a ? a->i() : fallback;
}

std::vector<std::int64_t> ints_attribute(const onnx::NodeProto& node, const std::string& name) {
  const auto* a = find_attribute(node, name);
  return a ? std::vector<std::int64_t>(a->ints().begin(), a->ints().end()) : std::vector<std::int64_t>{};
}

std::string string_attribute(const onnx::NodeProto& node, const std::string& name, const std::string& fallback) {
  const auto* a = find_attribute(node, name);
  return a ? a->s() : fallback;
}

std::vector<std::int64_t> row_major_strides(const TensorShape& shape) {
  std::vector<std::int64_t> strides(shape.size(), 1);
  for (std::size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

// Calls f(index, linear) for every multi-index of `shape` in row-major order.
template <class F>
void for_each_index(const TensorShape& shape, F f) {
  const std::int64_t n = num_elements(shape);
  std::vector<std::int64_t> index(shape.size(), 0);
  for (std::int64_t linear = 0; linear < n; ++linear) {
    f(index, linear);
    for (std::size_t d = shape.size(); d-- > 0;) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
}

// A value of the ONNX graph: computed by a graph node, or a constant (initializer, Constant node or
// a folded node), or one of the graph's other inputs (which is neither).
struct Value {
  int node = -1;
  Tensor tensor;
  bool integer = false;      // a constant of an integer or BOOL type (Div truncates, as ONNX does)
  bool graph_input = false;  // a second graph input
  bool is_constant() const { return node < 0 && !graph_input; }
};

bool is_integer_type(int type) {
  return type != onnx::TensorProto::FLOAT && type != onnx::TensorProto::DOUBLE && type != onnx::TensorProto::FLOAT16 &&
         type != onnx::TensorProto::BFLOAT16;
}

class GraphBuilder {
 public:
  explicit GraphBuilder(const std::string& path) : reader_(path) {}

  Graph build(const onnx::GraphProto& graph) {
    graph_.source = reader_.path();
    for (const auto& init : graph.initializer()) {
      Value v;
      v.tensor = reader_.to_tensor(init, init.name());
      v.integer = is_integer_type(init.data_type());
      values_[init.name()] = std::move(v);
    }
    std::map<std::string, const onnx::NodeProto*> writers;
    check_single_assignment(graph, writers);
    read_input(graph);
    count_uses(graph);
    for (const auto& out : graph.output()) ++uses_[out.name()];
    convert_nodes(graph);
    read_output(graph);
    prune();
    return std::move(graph_);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { reader_.fail(node_, what); }

  // A shape computed from the file's attributes and constants, checked before anything of its size is
  // allocated: a Reshape, Expand, Pad or ConstantOfShape may ask for any size.
  void check_shape(const TensorShape& shape, const std::string& what) const {
    std::int64_t n = 1;
    for (std::int64_t d : shape)
      if (d < 0) fail(what + " would have shape " + shape_text(shape) + ", with a negative dimension");
      else if (__builtin_mul_overflow(n, d, &n) || n > kMaxTensorValues)
        fail(what + " would have shape " + shape_text(shape) + ": more than " + with_commas(kMaxTensorValues) +
             " values, the most relutope computes in one tensor");
  }

  // The running totals of the whole file against its limits: fails when `amount` more would pass `limit`.
  void check_budget(std::int64_t used, std::int64_t amount, std::int64_t limit, const std::string& what,
                    const std::string& after = "") const {
    if (amount > limit - used)
      fail(what + " more than " + with_commas(static_cast<std::uint64_t>(limit)) + " values in this file (" +
           with_commas(static_cast<std::uint64_t>(used)) + " before this node), the most relutope computes for one network" +
           after);
  }
  void check_graph_values(std::int64_t amount) const {
    check_budget(graph_values_, amount, kMaxGraphValues, "the tensors of the graph would have");
  }
  void charge_graph_values(std::int64_t amount) {
    check_graph_values(amount);
    graph_values_ += amount;
  }
  // Before allocating a constant of `amount` values, which set_constant() then charges.
  void check_fold_work(std::int64_t amount) const {
    check_budget(fold_work_, amount, kMaxFoldWork, "folding the constants would take",
                 "; torch.onnx.export folds them itself with do_constant_folding=True, the default");
  }
  void charge_fold_work(std::int64_t amount) {
    check_fold_work(amount);
    fold_work_ += amount;
  }
  // Before an index map of `amount` entries is built: its output's share of the graph's values, and
  // the index maps' own budget.
  void charge_index_map(std::int64_t amount) {
    check_graph_values(amount);
    check_budget(index_map_entries_, amount, kMaxIndexMapEntries,
                 "the index maps (Expand, Transpose, Slice, Concat, Pad, Split) would have");
    index_map_entries_ += amount;
  }

  // What folding a constant `node` costs beyond writing its output: reading the inputs, and the
  // multiply-adds of a matrix product or a convolution (sizes are checked, so no product overflows).
  std::int64_t fold_work(const GraphNode& node, const std::vector<std::string>& inputs) const {
    std::int64_t work = 0;
    for (const auto& n : inputs) work += static_cast<std::int64_t>(values_.at(n).tensor.values.size());
    const std::int64_t out = num_elements(node.shape);
    if (node.kind == OpKind::kMatMul) work += out * node.weight.rows();
    if (node.kind == OpKind::kConv) work += out * node.weight.cols();
    return work;
  }

  std::vector<std::int64_t> index_map_for(const TensorShape& out_shape) {
    check_shape(out_shape, "the output");
    charge_index_map(num_elements(out_shape));
    return std::vector<std::int64_t>(static_cast<std::size_t>(num_elements(out_shape)));
  }

  // Every value is written once (ONNX graphs are in SSA form): by one node, an initializer or a graph
  // input. The conversion relies on it (a value found again must be the same value, a chain of uses
  // ends), so a file that writes a value twice is refused before any node is read.
  void check_single_assignment(const onnx::GraphProto& graph, std::map<std::string, const onnx::NodeProto*>& writers) {
    auto describe = [](const onnx::NodeProto* node) {
      return node ? "node \"" + (node->name().empty() ? node->output(0) : node->name()) + "\" (" + node->op_type() + ")"
                  : std::string("an initializer or a graph input");
    };
    auto write = [&](const std::string& name, const onnx::NodeProto* node) {
      if (name.empty()) return;  // an optional output left out
      const auto [at, first] = writers.emplace(name, node);
      if (first) return;
      const std::string what = "writes \"" + name + "\", which " + describe(at->second) +
                               " writes already (each value of an ONNX graph is written once)";
      if (node) reader_.fail(node, what);
      // An initializer may also be listed among the graph's inputs (the IR before version 4 did so).
      if (at->second) throw InputError(reader_.path() + ": \"" + name + "\" is an initializer or input but " + describe(at->second) + " writes it too");
    };
    for (const auto& init : graph.initializer()) write(init.name(), nullptr);
    for (const auto& input : graph.input()) write(input.name(), nullptr);
    for (const auto& node : graph.node()) {
      for (const auto& a : node.attribute())
        if (a.has_g()) {  // a branch sees the values before it; sibling branches may use the same names
          std::map<std::string, const onnx::NodeProto*> scope = writers;
          check_single_assignment(a.g(), scope);
        }
      for (const auto& out : node.output()) write(out, &node);
    }
  }

  // Uses of each value, in the graph and in the branches of its If nodes.
  void count_uses(const onnx::GraphProto& graph) {
    for (const auto& node : graph.node()) {
      for (const auto& in : node.input()) {
        ++uses_[in];
        user_[in] = &node;
      }
      for (const auto& a : node.attribute())
        if (a.has_g()) {
          count_uses(a.g());
          for (const auto& out : a.g().output()) ++uses_[out.name()];
        }
    }
  }

  void convert_nodes(const onnx::GraphProto& graph) {
    const onnx::NodeProto* outer = node_;
    for (const auto& node : graph.node()) {
      node_ = &node;
      convert();
    }
    node_ = outer;
  }

  // An If whose condition is a constant (PyTorch writes one for squeeze(dim): "is that dimension 1?")
  // is the branch it takes, inlined.
  void convert_if() {
    const Value& cond = value(node_->input(0), "condition");
    if (!cond.is_constant() || cond.tensor.values.size() != 1)
      fail("the condition \"" + node_->input(0) + "\" depends on the input's values; only an If with a constant "
           "condition (from shapes) is supported");
    const auto* branch = find_attribute(*node_, cond.tensor.values[0] != 0 ? "then_branch" : "else_branch");
    if (!branch || !branch->has_g()) fail("has no branch for its condition");
    const onnx::GraphProto& g = branch->g();
    if (g.output_size() != node_->output_size())
      fail("the branch has " + std::to_string(g.output_size()) + " outputs, the node " + std::to_string(node_->output_size()));
    for (const auto& init : g.initializer()) {
      Value v;
      v.tensor = reader_.to_tensor(init, init.name());
      v.integer = is_integer_type(init.data_type());
      values_[init.name()] = std::move(v);
    }
    const onnx::NodeProto* self = node_;
    convert_nodes(g);
    for (int o = 0; o < self->output_size(); ++o) values_[self->output(o)] = value(g.output(o).name(), "branch output");
  }

  // The data input: the one graph input that is not an initializer. Its first dimension is the batch
  // (read as 1) when it has more than one; every other dimension must be fixed.
  void read_input(const onnx::GraphProto& graph) {
    const onnx::ValueInfoProto* input = nullptr;
    for (const auto& value : graph.input()) {
      if (values_.count(value.name())) continue;
      if (!input) {
        input = &value;
      } else {
        Value other;
        other.graph_input = true;
        values_[value.name()] = other;
      }
    }
    const std::string& path = reader_.path();
    if (!input) throw InputError(path + ": the graph has no input that is not an initializer");
    const auto& shape = input->type().tensor_type().shape();
    if (shape.dim_size() == 0) throw InputError(path + ": input \"" + input->name() + "\": shape unknown");
    TensorShape dims;
    std::int64_t width = 1;
    for (int i = 0; i < shape.dim_size(); ++i) {
      if (i == 0 && shape.dim_size() > 1) {
        dims.push_back(1);  // the batch
        continue;
      }
      if (!shape.dim(i).has_dim_value())
        throw InputError(path + ": input \"" + input->name() + "\": dimension " + std::to_string(i) +
                         (shape.dim(i).has_dim_param() ? " (\"" + shape.dim(i).dim_param() + "\")" : std::string()) +
                         " has no fixed size (only the batch dimension, the first, may be dynamic)");
      const std::int64_t d = shape.dim(i).dim_value();
      if (d <= 0 || __builtin_mul_overflow(width, d, &width) || width > kMaxInputs)
        throw InputError(path + ": input \"" + input->name() + "\": dimension " + std::to_string(i) + " is " + std::to_string(d) +
                         (d <= 0 ? " (expected a positive size)"
                                 : ": more than " + std::to_string(kMaxInputs) + " input features in all (is the shape right?)"));
      dims.push_back(d);
    }
    GraphNode node;
    node.kind = OpKind::kInput;
    node.name = input->name();
    node.op_type = "input";
    node.shape = dims;
    graph_.input = add(std::move(node));
    Value v;
    v.node = graph_.input;
    values_[input->name()] = v;
  }

  void read_output(const onnx::GraphProto& graph) {
    const std::string& path = reader_.path();
    if (graph.output_size() != 1)
      throw InputError(path + ": the graph has " + std::to_string(graph.output_size()) + " outputs; expected one");
    std::string name = graph.output(0).name();
    const auto head = heads_.find(name);
    if (head != heads_.end()) {
      graph_.output_head = head->second.first;
      name = head->second.second;
    }
    const Value& v = value(name, "graph output");
    if (v.node < 0) throw InputError(path + ": the output \"" + name + "\" does not depend on the input (it is a constant)");
    graph_.output = v.node;
  }

  // Keeps the nodes the output depends on (a unit that does not lead to the output must not split regions).
  void prune() {
    std::vector<char> keep(graph_.nodes.size(), 0);
    keep[graph_.output] = 1;
    for (std::size_t i = graph_.nodes.size(); i-- > 0;)
      if (keep[i])
        for (int in : graph_.nodes[i].inputs) keep[in] = 1;
    keep[graph_.input] = 1;
    std::vector<int> renumber(graph_.nodes.size(), -1);
    std::vector<GraphNode> kept;
    for (std::size_t i = 0; i < graph_.nodes.size(); ++i) {
      if (!keep[i]) continue;
      renumber[i] = static_cast<int>(kept.size());
      kept.push_back(std::move(graph_.nodes[i]));
      for (int& in : kept.back().inputs) in = renumber[in];
    }
    graph_.nodes = std::move(kept);
    graph_.input = renumber[graph_.input];
    graph_.output = renumber[graph_.output];
  }

  int add(GraphNode node) {
    graph_.nodes.push_back(std::move(node));
    return static_cast<int>(graph_.nodes.size()) - 1;
  }

  const Value& value(const std::string& name, const std::string& what) const {
    const auto found = values_.find(name);
    if (found == values_.end()) {
      if (node_) fail(what + " \"" + name + "\" is not computed by an earlier node (the nodes are not in topological order?)");
      throw InputError(reader_.path() + ": " + what + " \"" + name + "\" is not computed by any node");
    }
    return found->second;
  }

  TensorShape shape(const std::string& name) const {
    const Value& v = value(name, "input");
    if (v.graph_input) fail(multiple_inputs(name));
    return v.node >= 0 ? graph_.nodes[v.node].shape : v.tensor.dims;
  }

  std::string multiple_inputs(const std::string& name) const {
    return "input \"" + name + "\" is a second graph input; relutope reads networks with one input (the data)";
  }

  // A parameter that must be a constant: a weight, a bias, a shape, a slope.
  const Tensor& constant(int input, const std::string& what) const {
    if (node_->input_size() <= input || node_->input(input).empty()) fail(what + " is missing");
    const std::string& name = node_->input(input);
    const Value& v = value(name, what);
    if (v.graph_input)
      fail(what + " \"" + name + "\" is a graph input, not a constant (an initializer): relutope needs fixed weights "
                                 "(export the model with its parameters, export_params=True)");
    if (v.node >= 0) fail(what + " \"" + name + "\" is computed from the network's input; it must be a constant");
    return v.tensor;
  }

  bool has_input(int input) const { return node_->input_size() > input && !node_->input(input).empty(); }

  std::vector<std::int64_t> constant_ints(int input, const std::string& what) const {
    const Tensor& t = constant(input, what);
    std::vector<std::int64_t> out;
    // PyTorch writes INT64_MAX and INT64_MIN for open slice ends; they arrive as doubles of +-2^63.
    constexpr double kTwoTo63 = 9223372036854775808.0;
    for (double v : t.values) {
      if (std::isnan(v)) fail(what + " \"" + node_->input(input) + "\" holds NaN, not an integer");
      out.push_back(v >= kTwoTo63 ? INT64_MAX : v <= -kTwoTo63 ? INT64_MIN : static_cast<std::int64_t>(v));
    }
    return out;
  }

  void set_constant(const std::string& name, Tensor t, bool integer) {
    charge_fold_work(static_cast<std::int64_t>(t.values.size()));
    Value v;
    v.tensor = std::move(t);
    v.integer = integer;
    values_[name] = std::move(v);
  }

  void alias(const std::string& out, const std::string& in) {
    const Value& v = value(in, "input");
    if (v.graph_input) fail(multiple_inputs(in));
    values_[out] = v;
  }

  // The graph node of a data input, a kConstant node for a constant one.
  int node_of(const std::string& name) {
    const Value& v = value(name, "input");
    if (v.graph_input) fail(multiple_inputs(name));
    if (v.node >= 0) return v.node;
    const auto cached = constant_nodes_.find(name);
    if (cached != constant_nodes_.end()) return cached->second;
    GraphNode node;
    node.kind = OpKind::kConstant;
    node.name = name;
    node.op_type = "Constant";
    node.shape = v.tensor.dims;
    node.values = Eigen::Map<const Eigen::VectorXd>(v.tensor.values.data(), static_cast<Eigen::Index>(v.tensor.values.size()));
    return constant_nodes_[name] = add(std::move(node));
  }

  bool all_constant(const std::vector<std::string>& names) const {
    for (const auto& n : names)
      if (!value(n, "input").is_constant()) return false;
    return true;
  }

  // Adds `node` computing output `out` from the data inputs `inputs`; folds it when they are all
  // constant, by the same apply_affine / apply_unit the forward pass uses.
  void emit(GraphNode node, const std::vector<std::string>& inputs, const std::string& out) {
    check_shape(node.shape, "the output");
    charge_graph_values(num_elements(node.shape));
    node.name = node_->name().empty() ? out : node_->name();
    node.op_type = node_->op_type();
    if (all_constant(inputs)) {
      charge_fold_work(fold_work(node, inputs));
      bool integer = true;
      std::vector<Eigen::MatrixXd> columns;
      for (const auto& n : inputs) {
        const Tensor& t = values_.at(n).tensor;
        integer = integer && values_.at(n).integer;
        columns.push_back(Eigen::Map<const Eigen::VectorXd>(t.values.data(), static_cast<Eigen::Index>(t.values.size())));
      }
      Eigen::VectorXd result;
      if (is_affine(node.kind)) {
        std::vector<const Eigen::MatrixXd*> in;
        for (const auto& c : columns) in.push_back(&c);
        result = apply_affine(node, in).col(0);
      } else {
        std::vector<Eigen::VectorXd> vectors(columns.begin(), columns.end());
        std::vector<const Eigen::VectorXd*> in;
        for (const auto& c : vectors) in.push_back(&c);
        result = apply_unit(node, in);
      }
      Tensor t;
      t.dims = node.shape;
      t.values.assign(result.data(), result.data() + result.size());
      set_constant(out, std::move(t), integer && node.kind != OpKind::kMatMul);
      return;
    }
    for (const auto& n : inputs) node.inputs.push_back(node_of(n));
    const int index = add(std::move(node));
    Value v;
    v.node = index;
    values_[out] = v;
  }

  // An index map: output value i is input value src[i] (inputs one after the other), or fill[i] when
  // src[i] < 0.
  void emit_index_map(const std::vector<std::string>& inputs, const TensorShape& out_shape,
                      const std::vector<std::int64_t>& src, const std::string& out, double fill = 0) {
    GraphNode node;
    node.kind = OpKind::kSparse;
    node.shape = out_shape;
    bool shifted = false;
    node.rows.start.reserve(src.size() + 1);
    node.rows.index.reserve(src.size());
    for (std::int64_t s : src) {
      if (s >= 0) node.rows.index.push_back(s);
      else shifted = shifted || fill != 0;
      node.rows.start.push_back(static_cast<std::int64_t>(node.rows.index.size()));
    }
    if (shifted) {
      node.shift = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(src.size()));
      for (std::size_t i = 0; i < src.size(); ++i)
        if (src[i] < 0) node.shift[static_cast<Eigen::Index>(i)] = fill;
    }
    emit(std::move(node), inputs, out);
  }

  // Same values in the same order under another shape (Reshape, Flatten, Squeeze, Unsqueeze).
  void emit_reshape(const std::string& in, const TensorShape& out_shape, const std::string& out) {
    check_shape(out_shape, "the output");
    if (num_elements(out_shape) != num_elements(shape(in)))
      fail("cannot reshape " + shape_text(shape(in)) + " (" + std::to_string(num_elements(shape(in))) + " values) to " +
           shape_text(out_shape));
    const Value& v = value(in, "input");
    if (v.is_constant()) {
      Tensor t = v.tensor;
      t.dims = out_shape;
      set_constant(out, std::move(t), v.integer);
      return;
    }
    GraphNode node;
    node.kind = OpKind::kScale;  // no scale, no shift: the identity
    node.shape = out_shape;
    emit(std::move(node), {in}, out);
  }

  // Broadcast (numpy rules) of two shapes; fails naming both.
  TensorShape broadcast(const TensorShape& a, const TensorShape& b) const {
    TensorShape out(std::max(a.size(), b.size()), 1);
    for (std::size_t i = 0; i < out.size(); ++i) {
      const std::int64_t da = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
      const std::int64_t db = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
      if (da != db && da != 1 && db != 1)
        fail("shapes " + shape_text(a) + " and " + shape_text(b) + " do not broadcast");
      out[i] = std::max(da, db);
    }
    check_shape(out, "the broadcast result");
    return out;
  }

  // Index of each value of `to` in a tensor of shape `from` broadcast to it.
  static std::vector<std::int64_t> broadcast_map(const TensorShape& from, const TensorShape& to) {
    const auto strides = row_major_strides(from);
    const std::size_t lead = to.size() - from.size();
    std::vector<std::int64_t> src(static_cast<std::size_t>(num_elements(to)));
    for_each_index(to, [&](const std::vector<std::int64_t>& idx, std::int64_t linear) {
      std::int64_t s = 0;
      for (std::size_t d = 0; d < from.size(); ++d)
        if (from[d] != 1) s += idx[lead + d] * strides[d];
      src[static_cast<std::size_t>(linear)] = s;
    });
    return src;
  }

  Eigen::VectorXd broadcast_values(const Tensor& t, const TensorShape& to) const {
    const auto src = broadcast_map(t.dims, to);
    Eigen::VectorXd out(static_cast<Eigen::Index>(src.size()));
    for (std::size_t i = 0; i < src.size(); ++i) out[static_cast<Eigen::Index>(i)] = t.values[static_cast<std::size_t>(src[i])];
    return out;
  }

  // The data input broadcast to `to`: itself, or a new index-map node.
  std::string broadcast_to(const std::string& in, const TensorShape& to) {
    const TensorShape from = shape(in);
    if (from == to) return in;
    const std::string name = node_->output(0) + "#broadcast" + std::to_string(broadcasts_++);
    charge_index_map(num_elements(to));
    emit_index_map({in}, to, broadcast_map(from, to), name);
    return name;
  }

  // A constant combined with a computed value x must act on each sample alone: it may not add
  // dimensions to x or stretch x's first (batch) dimension.
  void check_per_sample(const std::string& x, const std::string& c, const TensorShape& out) const {
    const TensorShape xs = shape(x);
    if (out.size() > xs.size() || (xs.size() > 1 && xs[0] == 1 && out[0] > 1))
      fail("constant \"" + c + "\": shape " + shape_text(shape(c)) + " does not act per feature: with the value " +
           shape_text(xs) + " it broadcasts to " + shape_text(out) + ", across the batch");
  }

  void convert_binary(const std::string& op, const std::string& out) {
    if (node_->input_size() != 2) fail("expected 2 inputs, got " + std::to_string(node_->input_size()));
    const std::string a = node_->input(0), b = node_->input(1);
    const TensorShape out_shape = broadcast(shape(a), shape(b));
    const Value &va = value(a, "input"), &vb = value(b, "input");
    if (va.is_constant() && vb.is_constant()) {
      check_shape(out_shape, "the output");
      charge_fold_work(2 * num_elements(out_shape));
      const Eigen::VectorXd x = broadcast_values(va.tensor, out_shape), y = broadcast_values(vb.tensor, out_shape);
      const bool integer = va.integer && vb.integer;
      Tensor t;
      t.dims = out_shape;
      t.values.resize(static_cast<std::size_t>(x.size()));
      Eigen::Map<Eigen::VectorXd> r(t.values.data(), x.size());
      if (op == "Add") r = x + y;
      else if (op == "Sub") r = x - y;
      else if (op == "Mul") r = x.cwiseProduct(y);
      else if (!integer) r = x.cwiseQuotient(y);
      else  // ONNX's integer Div truncates; a zero divisor gives 0 here rather than a trap
        for (Eigen::Index i = 0; i < x.size(); ++i) r[i] = y[i] == 0 ? 0 : std::trunc(x[i] / y[i]);
      set_constant(out, std::move(t), integer);
      return;
    }
    if (!va.is_constant() && !vb.is_constant()) {
      if (op == "Mul" || op == "Div")
        fail(op + " of two values computed from the input (\"" + a + "\", \"" + b +
             "\") is not piecewise linear (supported: " + op + " by a constant)");
      GraphNode node;
      node.kind = OpKind::kSum;
      node.shape = out_shape;
      node.coefs = {1.0, op == "Sub" ? -1.0 : 1.0};
      const std::string ba = broadcast_to(a, out_shape), bb = broadcast_to(b, out_shape);
      emit(std::move(node), {ba, bb}, out);
      return;
    }
    const bool x_first = !va.is_constant();
    const std::string x = x_first ? a : b, c = x_first ? b : a;
    check_per_sample(x, c, out_shape);
    const Eigen::VectorXd k = broadcast_values(value(c, "constant").tensor, out_shape);
    GraphNode node;
    node.kind = OpKind::kScale;
    node.shape = out_shape;
    if (op == "Add") {
      node.shift = k;
    } else if (op == "Sub") {
      if (x_first) node.shift = -k;
      else {
        node.scale = Eigen::VectorXd::Constant(k.size(), -1.0);
        node.shift = k;
      }
    } else if (op == "Mul") {
      node.scale = k;
    } else {
      if (!x_first) fail("Div of a constant by a value computed from the input (\"" + x + "\") is not piecewise linear");
      for (Eigen::Index i = 0; i < k.size(); ++i)
        if (k[i] == 0) fail("divisor \"" + c + "\" has a zero");
      node.scale = k.cwiseInverse();
    }
    emit(std::move(node), {broadcast_to(x, out_shape)}, out);
  }

  // y = x W + b over the last axis; x is input `x` (computed), W a K x N constant.
  void emit_matmul(const std::string& x, Eigen::MatrixXd w, Eigen::VectorXd b, TensorShape out_shape,
                   const std::string& out) {
    GraphNode node;
    node.kind = OpKind::kMatMul;
    node.shape = std::move(out_shape);
    node.weight = std::move(w);
    node.bias = std::move(b);
    emit(std::move(node), {x}, out);
  }

  static Eigen::MatrixXd matrix(const Tensor& t) {
    return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(t.values.data(), t.dims[0], t.dims[1]);
  }

  void convert_gemm(const std::string& out) {
    if (int_attribute(*node_, "transA", 0)) fail("transA=1 is not supported (the data must be the first input)");
    const std::string a = node_->input(0);
    if (!value(a, "input A").is_constant() && value(a, "input A").node < 0) fail(multiple_inputs(a));
    const Tensor& b = constant(1, "weight (input B)");
    if (b.dims.size() != 2) fail("weight \"" + node_->input(1) + "\": expected a matrix, got shape " + shape_text(b.dims));
    const TensorShape as = shape(a);
    if (as.size() != 2) fail("input A \"" + a + "\": expected a matrix [batch, features], got shape " + shape_text(as));
    const double alpha = float_attribute(*node_, "alpha", 1.0), beta = float_attribute(*node_, "beta", 1.0);
    const bool trans_b = int_attribute(*node_, "transB", 0) != 0;
    Eigen::MatrixXd w = trans_b ? Eigen::MatrixXd(matrix(b).transpose()) : matrix(b);  // K x N
    if (w.rows() != as[1])
      fail("weight \"" + node_->input(1) + "\": expected " + std::to_string(as[1]) + " inputs (the width so far), got " +
           std::to_string(w.rows()) + " (shape " + std::to_string(b.dims[0]) + "x" + std::to_string(b.dims[1]) +
           ", transB=" + std::to_string(trans_b) + ")");
    Eigen::VectorXd c = Eigen::VectorXd::Zero(w.cols());
    if (has_input(2)) {
      const Tensor& ct = constant(2, "bias (input C)");
      const bool per_output = ct.values.size() == 1 ||
                              std::all_of(ct.dims.begin(), ct.dims.end() - (ct.dims.empty() ? 0 : 1),
                                          [](std::int64_t d) { return d == 1; });
      if (!per_output)
        fail("bias \"" + node_->input(2) + "\": shape " + shape_text(ct.dims) + " does not act per output (expected [" +
             std::to_string(w.cols()) + "], [1, " + std::to_string(w.cols()) + "] or one value)");
      if (ct.values.size() == 1) c.setConstant(ct.values[0]);
      else if (static_cast<Eigen::Index>(ct.values.size()) == w.cols()) c = Eigen::Map<const Eigen::VectorXd>(ct.values.data(), w.cols());
      else fail("bias \"" + node_->input(2) + "\": expected " + std::to_string(w.cols()) + " values, got " + std::to_string(ct.values.size()));
    }
    emit_matmul(a, alpha * w, beta * c, {as[0], w.cols()}, out);
  }

  void convert_matmul(const std::string& out) {
    const std::string a = node_->input(0), b = node_->input(1);
    const Value& vb = value(b, "input");
    if (!vb.is_constant()) {
      if (vb.graph_input) constant(1, "weight");
      fail("expected the computed value times a constant matrix (x @ W)");
    }
    TensorShape as = shape(a);
    const Tensor& w = vb.tensor;
    if (w.dims.empty() || w.dims.size() > 2 || as.empty())
      fail("expected x @ W with a constant matrix W, got shapes " + shape_text(as) + " and " + shape_text(w.dims));
    const std::int64_t k = w.dims[0], n = w.dims.size() == 2 ? w.dims[1] : 1;
    if (as.back() != k)
      fail("weight \"" + b + "\": expected " + std::to_string(as.back()) + " rows (the width so far), got " + std::to_string(k));
    TensorShape out_shape = as;
    if (w.dims.size() == 2) out_shape.back() = n;
    else out_shape.pop_back();
    emit_matmul(a, Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(w.values.data(), k, n),
                Eigen::VectorXd(), out_shape, out);
  }

  // Spatial geometry of Conv, AveragePool and MaxPool: kernel, strides, pads (auto_pad), dilations.
  struct Window {
    int spatial = 0;
    std::vector<std::int64_t> in, kernel, stride, pad_begin, pad_end, dilation, out;
  };

  Window window(const TensorShape& x, const std::vector<std::int64_t>& kernel, bool allow_ceil) const {
    Window w;
    w.spatial = static_cast<int>(x.size()) - 2;
    if (w.spatial < 1 || w.spatial > 2)
      fail("input of shape " + shape_text(x) + ": expected [batch, channels, length] or [batch, channels, height, width] (1-D or 2-D)");
    w.in.assign(x.begin() + 2, x.end());
    w.kernel = kernel;
    if (static_cast<int>(w.kernel.size()) != w.spatial)
      fail("kernel_shape has " + std::to_string(w.kernel.size()) + " values, expected " + std::to_string(w.spatial));
    auto per_axis = [&](const char* name, std::int64_t fallback) {
      std::vector<std::int64_t> v = ints_attribute(*node_, name);
      if (v.empty()) v.assign(static_cast<std::size_t>(w.spatial), fallback);
      if (static_cast<int>(v.size()) != w.spatial)
        fail(std::string(name) + " has " + std::to_string(v.size()) + " values, expected " + std::to_string(w.spatial));
      for (std::int64_t e : v)
        if (e < (fallback == 0 ? 0 : 1) || e > kMaxTensorValues) fail(std::string(name) + " has the value " + std::to_string(e));
      return v;
    };
    w.stride = per_axis("strides", 1);
    w.dilation = per_axis("dilations", 1);
    for (std::int64_t k : w.kernel)
      if (k < 1 || k > kMaxTensorValues) fail("kernel_shape has the value " + std::to_string(k));
    const std::string auto_pad = string_attribute(*node_, "auto_pad", "NOTSET");
    w.pad_begin.assign(static_cast<std::size_t>(w.spatial), 0);
    w.pad_end.assign(static_cast<std::size_t>(w.spatial), 0);
    if (auto_pad == "NOTSET") {
      const std::vector<std::int64_t> pads = ints_attribute(*node_, "pads");
      if (!pads.empty()) {
        if (static_cast<int>(pads.size()) != 2 * w.spatial)
          fail("pads has " + std::to_string(pads.size()) + " values, expected " + std::to_string(2 * w.spatial));
        for (int d = 0; d < w.spatial; ++d) {
          w.pad_begin[d] = pads[d];
          w.pad_end[d] = pads[d + w.spatial];
          if (pads[d] < 0 || pads[d + w.spatial] < 0) fail("negative pads are not supported");
          if (pads[d] > kMaxTensorValues || pads[d + w.spatial] > kMaxTensorValues) fail("pads " + shape_text(pads) + " are too large");
        }
      }
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      for (int d = 0; d < w.spatial; ++d) {
        const std::int64_t out = (w.in[d] + w.stride[d] - 1) / w.stride[d];
        const std::int64_t total =
            std::max<std::int64_t>(0, (out - 1) * w.stride[d] + (w.kernel[d] - 1) * w.dilation[d] + 1 - w.in[d]);
        w.pad_begin[d] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
        w.pad_end[d] = total - w.pad_begin[d];
      }
    } else if (auto_pad != "VALID") {
      fail("auto_pad \"" + auto_pad + "\" is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
    }
    const bool ceil_mode = int_attribute(*node_, "ceil_mode", 0) != 0;
    for (int d = 0; d < w.spatial; ++d) {
      const std::int64_t span = w.in[d] + w.pad_begin[d] + w.pad_end[d] - ((w.kernel[d] - 1) * w.dilation[d] + 1);
      if (span < 0)
        fail("the window (kernel " + std::to_string(w.kernel[d]) + ", dilation " + std::to_string(w.dilation[d]) +
             ") is larger than the padded input (" + std::to_string(w.in[d]) + ") along spatial axis " + std::to_string(d));
      const std::int64_t floor_out = span / w.stride[d] + 1;
      if (ceil_mode) {
        // PyTorch's rule: one more window if it starts inside the input or the left padding.
        std::int64_t ceil_out = (span + w.stride[d] - 1) / w.stride[d] + 1;
        if ((ceil_out - 1) * w.stride[d] >= w.in[d] + w.pad_begin[d]) --ceil_out;
        if (ceil_out != floor_out && !allow_ceil)
          fail("ceil_mode=1 is not supported: along spatial axis " + std::to_string(d) + " it adds a partial window (" +
               std::to_string(ceil_out) + " outputs instead of " + std::to_string(floor_out) +
               "); use ceil_mode=False or pad the input so that the windows fit");
      }
      w.out.push_back(floor_out);
    }
    TensorShape out_shape{x[0], x[1]};
    out_shape.insert(out_shape.end(), w.out.begin(), w.out.end());
    check_shape(out_shape, "the output");
    std::int64_t window_size = 1;
    for (std::int64_t k : w.kernel) window_size *= k;
    if (window_size > kMaxTensorValues || num_elements(out_shape) > kMaxTensorValues / window_size)
      fail("kernel " + shape_text(w.kernel) + " over an output of shape " + shape_text(out_shape) + " is more than " +
           with_commas(kMaxTensorValues) + " window entries");
    return w;
  }

  void convert_conv(const std::string& out) {
    const std::string x = node_->input(0);
    const TensorShape xs = shape(x);
    if (value(x, "input").is_constant()) fail("the input X is a constant");
    const Tensor& wt = constant(1, "weight");
    if (wt.dims.size() != xs.size())
      fail("weight \"" + node_->input(1) + "\": shape " + shape_text(wt.dims) + " does not match the input " + shape_text(xs));
    std::vector<std::int64_t> kernel(wt.dims.begin() + 2, wt.dims.end());
    const std::vector<std::int64_t> given = ints_attribute(*node_, "kernel_shape");
    if (!given.empty() && given != kernel)
      fail("kernel_shape " + shape_text(given) + " differs from the weight's " + shape_text(kernel));
    const Window w = window(xs, kernel, false);
    const std::int64_t groups = int_attribute(*node_, "group", 1);
    const std::int64_t c = xs[1], m = wt.dims[0];
    if (groups < 1 || c % groups != 0 || m % groups != 0 || wt.dims[1] != c / groups)
      fail("weight \"" + node_->input(1) + "\": shape " + shape_text(wt.dims) + " does not fit " + std::to_string(c) +
           " input channels in " + std::to_string(groups) + " group(s)");
    GraphNode node;
    node.kind = OpKind::kConv;
    node.shape = {xs[0], m};
    node.shape.insert(node.shape.end(), w.out.begin(), w.out.end());
    ConvGeometry& g = node.conv;
    g.in_channels = static_cast<int>(c);
    g.out_channels = static_cast<int>(m);
    g.groups = static_cast<int>(groups);
    const int s = w.spatial;
    g.in_h = s == 2 ? static_cast<int>(w.in[0]) : 1;
    g.in_w = static_cast<int>(w.in[s - 1]);
    g.out_h = s == 2 ? static_cast<int>(w.out[0]) : 1;
    g.out_w = static_cast<int>(w.out[s - 1]);
    g.kernel_h = s == 2 ? static_cast<int>(kernel[0]) : 1;
    g.kernel_w = static_cast<int>(kernel[s - 1]);
    g.stride_h = s == 2 ? static_cast<int>(w.stride[0]) : 1;
    g.stride_w = static_cast<int>(w.stride[s - 1]);
    g.pad_top = s == 2 ? static_cast<int>(w.pad_begin[0]) : 0;
    g.pad_left = static_cast<int>(w.pad_begin[s - 1]);
    g.dilation_h = s == 2 ? static_cast<int>(w.dilation[0]) : 1;
    g.dilation_w = static_cast<int>(w.dilation[s - 1]);
    const std::int64_t patch = wt.dims[1] * g.kernel_h * g.kernel_w;
    node.weight = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(wt.values.data(), m, patch);
    if (has_input(2)) {
      const Tensor& b = constant(2, "bias");
      if (static_cast<std::int64_t>(b.values.size()) != m)
        fail("bias \"" + node_->input(2) + "\": expected " + std::to_string(m) + " values, got " + std::to_string(b.values.size()));
      node.bias = Eigen::Map<const Eigen::VectorXd>(b.values.data(), m);
    }
    emit(std::move(node), {x}, out);
  }

  // Per-channel values (axis 1) repeated over a tensor of shape xs.
  static Eigen::VectorXd per_channel(const Eigen::VectorXd& v, const TensorShape& xs) {
    const std::int64_t inner = xs.size() > 2 ? num_elements(TensorShape(xs.begin() + 2, xs.end())) : 1;
    Eigen::VectorXd out(num_elements(xs));
    for (Eigen::Index i = 0; i < out.size(); ++i) out[i] = v[(i / inner) % v.size()];
    return out;
  }

  void convert_batch_norm(const std::string& out) {
    if (int_attribute(*node_, "training_mode", 0))
      fail("BatchNormalization in training mode (training_mode=1) normalizes by the batch's statistics; export after "
           "model.eval()");
    for (int o = 1; o < node_->output_size(); ++o)
      if (!node_->output(o).empty() && uses_[node_->output(o)] > 0)
        fail("output \"" + node_->output(o) + "\" (running statistics) is used; only the inference form is supported");
    const std::string x = node_->input(0);
    const TensorShape xs = shape(x);
    if (xs.size() < 2) fail("input of shape " + shape_text(xs) + ": expected [batch, channels, ...]");
    const std::int64_t c = xs[1];
    const char* names[] = {"scale", "bias (B)", "mean", "variance"};
    Eigen::VectorXd p[4];
    for (int i = 0; i < 4; ++i) {
      const Tensor& t = constant(i + 1, names[i]);
      if (static_cast<std::int64_t>(t.values.size()) != c)
        fail(std::string(names[i]) + " \"" + node_->input(i + 1) + "\": expected " + std::to_string(c) + " values (one per channel), got " +
             std::to_string(t.values.size()));
      p[i] = Eigen::Map<const Eigen::VectorXd>(t.values.data(), c);
    }
    const double eps = float_attribute(*node_, "epsilon", 1e-5);
    for (Eigen::Index i = 0; i < c; ++i)
      if (!(p[3][i] + eps > 0)) fail("variance \"" + node_->input(4) + "\"[" + std::to_string(i) + "] + epsilon is not positive");
    const Eigen::VectorXd s = p[0].array() / (p[3].array() + eps).sqrt();
    const Eigen::VectorXd t = p[1].array() - p[2].array() * s.array();
    GraphNode node;
    node.kind = OpKind::kScale;
    node.shape = xs;
    node.scale = per_channel(s, xs);
    node.shift = per_channel(t, xs);
    emit(std::move(node), {x}, out);
  }

  // The windows of a pooling node over [batch, channels, spatial...]: entries inside the input.
  // Returns, per window, its entries and (for averages) how many positions it covers with padding.
  void pool_windows(const TensorShape& xs, const Window& w, SparseRows& rows, std::vector<double>* padded_size) const {
    const std::int64_t channels = xs[0] * xs[1];
    const std::int64_t in_h = w.spatial == 2 ? w.in[0] : 1, in_w = w.in[w.spatial - 1];
    const std::int64_t out_h = w.spatial == 2 ? w.out[0] : 1, out_w = w.out[w.spatial - 1];
    const std::int64_t kh = w.spatial == 2 ? w.kernel[0] : 1, kw = w.kernel[w.spatial - 1];
    const std::int64_t sh = w.spatial == 2 ? w.stride[0] : 1, sw = w.stride[w.spatial - 1];
    const std::int64_t ph = w.spatial == 2 ? w.pad_begin[0] : 0, pw = w.pad_begin[w.spatial - 1];
    const std::int64_t dh = w.spatial == 2 ? w.dilation[0] : 1, dw = w.dilation[w.spatial - 1];
    for (std::int64_t c = 0; c < channels; ++c)
      for (std::int64_t oh = 0; oh < out_h; ++oh)
        for (std::int64_t ow = 0; ow < out_w; ++ow) {
          for (std::int64_t i = 0; i < kh; ++i)
            for (std::int64_t j = 0; j < kw; ++j) {
              const std::int64_t ih = oh * sh - ph + i * dh, iw = ow * sw - pw + j * dw;
              if (ih >= 0 && ih < in_h && iw >= 0 && iw < in_w) rows.index.push_back((c * in_h + ih) * in_w + iw);
            }
          rows.start.push_back(static_cast<std::int64_t>(rows.index.size()));
          if (padded_size) padded_size->push_back(static_cast<double>(kh * kw));
        }
  }

  void convert_pool(const std::string& out, bool is_max) {
    const std::string x = node_->input(0);
    const TensorShape xs = shape(x);
    const Window w = window(xs, ints_attribute(*node_, "kernel_shape"), false);
    if (!is_max)
      for (std::int64_t d : w.dilation)
        if (d != 1) fail("dilations other than 1 are not supported for AveragePool");
    if (is_max && node_->output_size() > 1 && !node_->output(1).empty() && uses_[node_->output(1)] > 0)
      fail("the Indices output is used; only the values are supported");
    GraphNode node;
    node.shape = {xs[0], xs[1]};
    node.shape.insert(node.shape.end(), w.out.begin(), w.out.end());
    if (is_max) {
      node.kind = OpKind::kMax;
      std::int64_t window_size = 1;
      for (std::int64_t k : w.kernel) window_size *= k;
      if (window_size > kMaxUnitStates)
        fail("a window of " + std::to_string(window_size) + " values: a Max unit may have at most " + std::to_string(kMaxUnitStates));
      pool_windows(xs, w, node.rows, nullptr);
      for (std::int64_t u = 0; u < node.rows.num_rows(); ++u) {
        const std::int64_t k = node.rows.start[u + 1] - node.rows.start[u];
        if (k == 0) fail("a window lies entirely in the padding");
        if (k > kMaxUnitStates)
          fail("a window of " + std::to_string(k) + " values: a Max unit may have at most " + std::to_string(kMaxUnitStates));
      }
    } else {
      node.kind = OpKind::kSparse;
      std::vector<double> padded;
      pool_windows(xs, w, node.rows, &padded);
      const bool include_pad = int_attribute(*node_, "count_include_pad", 0) != 0;
      for (std::int64_t u = 0; u < node.rows.num_rows(); ++u) {
        const std::int64_t k = node.rows.start[u + 1] - node.rows.start[u];
        if (k == 0 && !include_pad) fail("a window lies entirely in the padding");
        const double divisor = include_pad ? padded[static_cast<std::size_t>(u)] : static_cast<double>(k);
        for (std::int64_t e = 0; e < k; ++e) node.rows.weight.push_back(1.0 / divisor);
      }
    }
    emit(std::move(node), {x}, out);
  }

  void convert_global_average_pool(const std::string& out) {
    const std::string x = node_->input(0);
    const TensorShape xs = shape(x);
    if (xs.size() < 3) fail("input of shape " + shape_text(xs) + ": expected [batch, channels, spatial...]");
    const std::int64_t inner = num_elements(TensorShape(xs.begin() + 2, xs.end()));
    GraphNode node;
    node.kind = OpKind::kSparse;
    node.shape = TensorShape(xs.size(), 1);
    node.shape[0] = xs[0];
    node.shape[1] = xs[1];
    for (std::int64_t c = 0; c < xs[0] * xs[1]; ++c) {
      for (std::int64_t i = 0; i < inner; ++i) {
        node.rows.index.push_back(c * inner + i);
        node.rows.weight.push_back(1.0 / static_cast<double>(inner));
      }
      node.rows.start.push_back(static_cast<std::int64_t>(node.rows.index.size()));
    }
    emit(std::move(node), {x}, out);
  }

  void convert_max(const std::string& out) {
    std::vector<std::string> inputs;
    for (const auto& in : node_->input())
      if (!in.empty()) inputs.push_back(in);
    if (inputs.empty()) fail("has no inputs");
    if (inputs.size() == 1) return alias(out, inputs[0]);
    TensorShape out_shape = shape(inputs[0]);
    for (const auto& in : inputs) out_shape = broadcast(out_shape, shape(in));
    if (inputs.size() > static_cast<std::size_t>(kMaxUnitStates))
      fail(std::to_string(inputs.size()) + " inputs: a Max unit may have at most " + std::to_string(kMaxUnitStates));
    std::vector<std::string> broadcast_inputs;
    for (const auto& in : inputs) {
      if (value(in, "input").is_constant()) {
        const std::string name = node_->output(0) + "#broadcast" + std::to_string(broadcasts_++);
        check_fold_work(num_elements(out_shape));
        Tensor t;
        t.dims = out_shape;
        const Eigen::VectorXd v = broadcast_values(value(in, "input").tensor, out_shape);
        t.values.assign(v.data(), v.data() + v.size());
        set_constant(name, std::move(t), false);
        broadcast_inputs.push_back(name);
      } else {
        broadcast_inputs.push_back(broadcast_to(in, out_shape));
      }
    }
    GraphNode node;
    node.kind = OpKind::kMax;
    node.shape = out_shape;
    const std::int64_t n = num_elements(out_shape);
    for (std::int64_t u = 0; u < n; ++u) {
      for (std::size_t k = 0; k < inputs.size(); ++k) node.rows.index.push_back(static_cast<std::int64_t>(k) * n + u);
      node.rows.start.push_back(static_cast<std::int64_t>(node.rows.index.size()));
    }
    emit(std::move(node), broadcast_inputs, out);
  }

  void convert_unit_relu(const std::string& out, Eigen::VectorXd slope) {
    GraphNode node;
    node.kind = OpKind::kRelu;
    node.shape = shape(node_->input(0));
    node.slope = std::move(slope);
    emit(std::move(node), {node_->input(0)}, out);
  }

  void convert_prelu(const std::string& out) {
    const TensorShape xs = shape(node_->input(0));
    const Tensor& s = constant(1, "slope");
    // The slope broadcasts to x (unidirectionally); PyTorch writes [C, 1, 1] or [C] per channel.
    Tensor t = s;
    if (xs.size() > 2 && s.dims.size() == 1 && s.values.size() > 1 && static_cast<std::int64_t>(s.values.size()) == xs[1])
      t.dims = {xs[1], 1, 1}, t.dims.resize(xs.size() - 1, 1);
    const bool fits = t.dims.size() <= xs.size() && [&] {
      for (std::size_t i = 0; i < t.dims.size(); ++i)
        if (t.dims[i] != 1 && t.dims[i] != xs[xs.size() - t.dims.size() + i]) return false;
      return true;
    }();
    if (!fits || (xs.size() > 1 && t.dims.size() == xs.size() && t.dims[0] != 1))
      fail("slope \"" + node_->input(1) + "\": shape " + shape_text(s.dims) + " does not act per feature of the input " +
           shape_text(xs));
    if (s.values.size() == 1) return convert_unit_relu(out, Eigen::VectorXd::Constant(1, s.values[0]));
    convert_unit_relu(out, broadcast_values(t, xs));
  }

  void convert_clip(const std::string& out) {
    const double inf = std::numeric_limits<double>::infinity();
    double lo = -inf, hi = inf;
    if (find_attribute(*node_, "min") || find_attribute(*node_, "max")) {  // opset 6: attributes
      lo = float_attribute(*node_, "min", -inf);
      hi = float_attribute(*node_, "max", inf);
    }
    for (int i : {1, 2})
      if (has_input(i)) {
        const Tensor& t = constant(i, i == 1 ? "min" : "max");
        if (t.values.size() != 1) fail(std::string(i == 1 ? "min" : "max") + " must be one value, got shape " + shape_text(t.dims));
        (i == 1 ? lo : hi) = t.values[0];
      }
    if (lo <= -3.4e38) lo = -inf;  // FLT_MAX stands for "no bound" in opset 6
    if (hi >= 3.4e38) hi = inf;
    if (lo > hi) fail("min " + std::to_string(lo) + " is larger than max " + std::to_string(hi));
    if (std::isinf(lo) && std::isinf(hi)) return alias(out, node_->input(0));
    GraphNode node;
    node.kind = OpKind::kClip;
    node.shape = shape(node_->input(0));
    node.lo = lo;
    node.hi = hi;
    emit(std::move(node), {node_->input(0)}, out);
  }

  static std::int64_t normalize_axis(std::int64_t axis, std::size_t rank) {
    return axis < 0 ? axis + static_cast<std::int64_t>(rank) : axis;
  }

  std::int64_t axis_of(std::int64_t axis, std::size_t rank, bool inclusive = false) const {
    const std::int64_t a = normalize_axis(axis, rank);
    if (a < 0 || a > static_cast<std::int64_t>(rank) - (inclusive ? 0 : 1))
      fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    return a;
  }

  void convert_transpose(const std::string& out) {
    const std::string x = node_->input(0);
    const TensorShape xs = shape(x);
    std::vector<std::int64_t> perm = ints_attribute(*node_, "perm");
    if (perm.empty())
      for (std::size_t i = xs.size(); i-- > 0;) perm.push_back(static_cast<std::int64_t>(i));
    if (perm.size() != xs.size()) fail("perm has " + std::to_string(perm.size()) + " values for rank " + std::to_string(xs.size()));
    TensorShape out_shape;
    std::vector<bool> taken(xs.size(), false);
    for (std::int64_t& p : perm) {
      p = axis_of(p, xs.size());
      // An axis twice would read the same input element for several outputs: not a transpose.
      if (taken[static_cast<std::size_t>(p)]) fail("perm " + shape_text(ints_attribute(*node_, "perm")) + " is not a permutation");
      taken[static_cast<std::size_t>(p)] = true;
      out_shape.push_back(xs[static_cast<std::size_t>(p)]);
    }
    const auto strides = row_major_strides(xs);
    std::vector<std::int64_t> src = index_map_for(out_shape);
    for_each_index(out_shape, [&](const std::vector<std::int64_t>& idx, std::int64_t linear) {
      std::int64_t s = 0;
      for (std::size_t d = 0; d < perm.size(); ++d) s += idx[d] * strides[static_cast<std::size_t>(perm[d])];
      src[static_cast<std::size_t>(linear)] = s;
    });
    emit_index_map({x}, out_shape, src, out);
  }

  // Slice along `axes` from `starts` to `ends` by `steps`, with ONNX's clamping.
  void convert_slice(const std::string& out) {
    const std::string x = node_->input(0);
    const TensorShape xs = shape(x);
    std::vector<std::int64_t> starts, ends, axes, steps;
    if (find_attribute(*node_, "starts")) {  // opset 1-9
      starts = ints_attribute(*node_, "starts");
      ends = ints_attribute(*node_, "ends");
      axes = ints_attribute(*node_, "axes");
    } else {
      starts = constant_ints(1, "starts");
      ends = constant_ints(2, "ends");
      if (has_input(3)) axes = constant_ints(3, "axes");
      if (has_input(4)) steps = constant_ints(4, "steps");
    }
    if (axes.empty())
      for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<std::int64_t>(i));
    if (steps.empty()) steps.assign(starts.size(), 1);
    if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
      fail("starts, ends, axes and steps differ in length");
    std::vector<std::int64_t> first(xs.size(), 0), step(xs.size(), 1);
    TensorShape out_shape = xs;
    for (std::size_t i = 0; i < starts.size(); ++i) {
      const std::size_t a = static_cast<std::size_t>(axis_of(axes[i], xs.size()));
      const std::int64_t dim = xs[a];
      if (steps[i] == 0) fail("a step of 0");
      // A step longer than the axis takes one value, as a step of the axis' length does (no overflow).
      const std::int64_t longest = std::max<std::int64_t>(dim, 1);
      const std::int64_t s = std::clamp<std::int64_t>(steps[i], -longest, longest);
      auto clamp = [&](std::int64_t v, bool is_start) {
        if (v < 0) v += dim;
        if (s > 0) return std::clamp<std::int64_t>(v, 0, dim);
        return std::clamp<std::int64_t>(v, is_start ? 0 : -1, dim - 1);
      };
      const std::int64_t b = clamp(std::max<std::int64_t>(std::min<std::int64_t>(starts[i], INT64_MAX / 2), INT64_MIN / 2), true);
      const std::int64_t e = clamp(std::max<std::int64_t>(std::min<std::int64_t>(ends[i], INT64_MAX / 2), INT64_MIN / 2), false);
      const std::int64_t n = s > 0 ? std::max<std::int64_t>(0, (e - b + s - 1) / s) : std::max<std::int64_t>(0, (b - e + (-s) - 1) / (-s));
      first[a] = b;
      step[a] = s;
      out_shape[a] = n;
    }
    const auto strides = row_major_strides(xs);
    std::vector<std::int64_t> src = index_map_for(out_shape);
    for_each_index(out_shape, [&](const std::vector<std::int64_t>& idx, std::int64_t linear) {
      std::int64_t s = 0;
      for (std::size_t d = 0; d < xs.size(); ++d) s += (first[d] + idx[d] * step[d]) * strides[d];
      src[static_cast<std::size_t>(linear)] = s;
    });
    emit_index_map({x}, out_shape, src, out);
  }

  // Output o of Split, or a Slice-like piece along `axis` from `begin` of `size`.
  void emit_piece(const std::string& x, std::int64_t axis, std::int64_t begin, std::int64_t size, const std::string& out) {
    const TensorShape xs = shape(x);
    TensorShape out_shape = xs;
    out_shape[static_cast<std::size_t>(axis)] = size;
    const auto strides = row_major_strides(xs);
    std::vector<std::int64_t> src = index_map_for(out_shape);
    for_each_index(out_shape, [&](const std::vector<std::int64_t>& idx, std::int64_t linear) {
      std::int64_t s = 0;
      for (std::size_t d = 0; d < xs.size(); ++d) s += (idx[d] + (static_cast<std::int64_t>(d) == axis ? begin : 0)) * strides[d];
      src[static_cast<std::size_t>(linear)] = s;
    });
    emit_index_map({x}, out_shape, src, out);
  }

  void convert_split() {
    const std::string x = node_->input(0);
    const TensorShape xs = shape(x);
    const std::int64_t axis = axis_of(int_attribute(*node_, "axis", 0), xs.size());
    std::vector<std::int64_t> sizes = ints_attribute(*node_, "split");
    if (sizes.empty() && has_input(1)) sizes = constant_ints(1, "split");
    const std::int64_t dim = xs[static_cast<std::size_t>(axis)];
    const int outputs = node_->output_size();
    if (sizes.empty()) {
      const std::int64_t piece = (dim + outputs - 1) / outputs;
      for (int o = 0; o < outputs; ++o) sizes.push_back(std::max<std::int64_t>(0, std::min(piece, dim - piece * o)));
    }
    // Summed with each size checked against what is left of the axis: huge or negative sizes from a
    // corrupt file must not overflow the sum (or cancel out) on the way to the check.
    std::int64_t total = 0;
    bool fits = static_cast<int>(sizes.size()) == outputs;
    for (std::int64_t s : sizes) {
      if (s < 0 || s > dim - total) fits = false;
      else total += s;
    }
    if (!fits || total != dim)
      fail("split sizes " + shape_text(sizes) + " do not divide axis " + std::to_string(axis) + " of " + shape_text(xs) +
           " into " + std::to_string(outputs) + " outputs");
    std::int64_t begin = 0;
    for (int o = 0; o < outputs; ++o) {
      if (!node_->output(o).empty()) emit_piece(x, axis, begin, sizes[static_cast<std::size_t>(o)], node_->output(o));
      begin += sizes[static_cast<std::size_t>(o)];
    }
  }

  void convert_concat(const std::string& out) {
    std::vector<std::string> inputs;
    for (const auto& in : node_->input())
      if (!in.empty()) inputs.push_back(in);
    if (inputs.empty()) fail("has no inputs");
    const TensorShape first = shape(inputs[0]);
    const std::int64_t axis = axis_of(int_attribute(*node_, "axis", 0), first.size());
    TensorShape out_shape = first;
    out_shape[static_cast<std::size_t>(axis)] = 0;
    std::vector<std::int64_t> offsets, begins;
    std::int64_t offset = 0;
    for (const auto& in : inputs) {
      const TensorShape s = shape(in);
      TensorShape a = s, b = first;
      if (s.size() != first.size()) fail("inputs of ranks " + std::to_string(first.size()) + " and " + std::to_string(s.size()));
      a[static_cast<std::size_t>(axis)] = b[static_cast<std::size_t>(axis)] = 0;
      if (a != b) fail("input shapes " + shape_text(first) + " and " + shape_text(s) + " differ outside axis " + std::to_string(axis));
      begins.push_back(out_shape[static_cast<std::size_t>(axis)]);
      offsets.push_back(offset);
      out_shape[static_cast<std::size_t>(axis)] += s[static_cast<std::size_t>(axis)];
      offset += num_elements(s);
    }
    std::vector<std::int64_t> src = index_map_for(out_shape);
    for_each_index(out_shape, [&](const std::vector<std::int64_t>& idx, std::int64_t linear) {
      const std::int64_t along = idx[static_cast<std::size_t>(axis)];
      std::size_t k = begins.size() - 1;
      while (begins[k] > along) --k;
      TensorShape s = shape(inputs[k]);
      const auto strides = row_major_strides(s);
      std::int64_t at = offsets[k];
      for (std::size_t d = 0; d < s.size(); ++d) at += (idx[d] - (static_cast<std::int64_t>(d) == axis ? begins[k] : 0)) * strides[d];
      src[static_cast<std::size_t>(linear)] = at;
    });
    emit_index_map(inputs, out_shape, src, out);
  }

  void convert_gather(const std::string& out) {
    const std::string x = node_->input(0);
    const TensorShape xs = shape(x);
    const Tensor& indices = constant(1, "indices");
    const std::int64_t axis = axis_of(int_attribute(*node_, "axis", 0), xs.size());
    const std::int64_t dim = xs[static_cast<std::size_t>(axis)];
    TensorShape out_shape(xs.begin(), xs.begin() + axis);
    out_shape.insert(out_shape.end(), indices.dims.begin(), indices.dims.end());
    out_shape.insert(out_shape.end(), xs.begin() + axis + 1, xs.end());
    const auto strides = row_major_strides(xs);
    const std::size_t r = indices.dims.size();
    std::vector<std::int64_t> src = index_map_for(out_shape);
    const auto index_strides = row_major_strides(indices.dims);
    for_each_index(out_shape, [&](const std::vector<std::int64_t>& idx, std::int64_t linear) {
      std::int64_t k = 0;
      for (std::size_t d = 0; d < r; ++d) k += idx[static_cast<std::size_t>(axis) + d] * index_strides[d];
      const double index = indices.values[static_cast<std::size_t>(k)];
      if (!(std::abs(index) <= static_cast<double>(dim))) fail("index " + std::to_string(index) + " is out of range for axis " + std::to_string(axis) + " of size " + std::to_string(dim));
      std::int64_t i = static_cast<std::int64_t>(index);
      if (i < 0) i += dim;
      if (i < 0 || i >= dim) fail("index " + std::to_string(i) + " is out of range for axis " + std::to_string(axis) + " of size " + std::to_string(dim));
      std::int64_t s = i * strides[static_cast<std::size_t>(axis)];
      for (std::int64_t d = 0; d < axis; ++d) s += idx[static_cast<std::size_t>(d)] * strides[static_cast<std::size_t>(d)];
      for (std::size_t d = static_cast<std::size_t>(axis) + 1; d < xs.size(); ++d) s += idx[d + r - 1] * strides[d];
      src[static_cast<std::size_t>(linear)] = s;
    });
    emit_index_map({x}, out_shape, src, out);
  }

  void convert_pad(const std::string& out) {
    const std::string x = node_->input(0);
    const TensorShape xs = shape(x);
    const std::string mode = string_attribute(*node_, "mode", "constant");
    if (mode != "constant") fail("mode \"" + mode + "\" is not supported (supported: constant)");
    std::vector<std::int64_t> pads = find_attribute(*node_, "pads") ? ints_attribute(*node_, "pads") : constant_ints(1, "pads");
    double fill = float_attribute(*node_, "value", 0.0);
    if (has_input(2)) {
      const Tensor& v = constant(2, "constant_value");
      if (v.values.size() != 1) fail("constant_value must be one value");
      fill = v.values[0];
    }
    std::vector<std::int64_t> axes;
    if (has_input(3)) axes = constant_ints(3, "axes");
    else
      for (std::size_t i = 0; i < xs.size(); ++i) axes.push_back(static_cast<std::int64_t>(i));
    if (pads.size() != 2 * axes.size()) fail("pads has " + std::to_string(pads.size()) + " values, expected " + std::to_string(2 * axes.size()));
    std::vector<std::int64_t> begin(xs.size(), 0);
    TensorShape out_shape = xs;
    for (std::size_t i = 0; i < axes.size(); ++i) {
      const std::size_t a = static_cast<std::size_t>(axis_of(axes[i], xs.size()));
      if (pads[i] < 0 || pads[i + axes.size()] < 0) fail("negative pads (cropping) are not supported");
      if (pads[i] > kMaxTensorValues || pads[i + axes.size()] > kMaxTensorValues) fail("pads " + shape_text(pads) + " are too large");
      begin[a] = pads[i];
      out_shape[a] += pads[i] + pads[i + axes.size()];
    }
    const auto strides = row_major_strides(xs);
    std::vector<std::int64_t> src = index_map_for(out_shape);
    for_each_index(out_shape, [&](const std::vector<std::int64_t>& idx, std::int64_t linear) {
      std::int64_t s = 0;
      for (std::size_t d = 0; d < xs.size(); ++d) {
        const std::int64_t i = idx[d] - begin[d];
        if (i < 0 || i >= xs[d]) {
          s = -1;
          break;
        }
        s += i * strides[d];
      }
      src[static_cast<std::size_t>(linear)] = s;
    });
    emit_index_map({x}, out_shape, src, out, fill);
  }

  void convert_reshape(const std::string& out) {
    const std::string x = node_->input(0);
    const TensorShape xs = shape(x);
    std::vector<std::int64_t> target = find_attribute(*node_, "shape") ? ints_attribute(*node_, "shape") : constant_ints(1, "shape");
    const bool allow_zero = int_attribute(*node_, "allowzero", 0) != 0;
    std::int64_t known = 1, infer = -1;
    for (std::size_t i = 0; i < target.size(); ++i) {
      if (target[i] == 0 && !allow_zero) {
        if (i >= xs.size()) fail("shape " + shape_text(target) + ": a 0 at axis " + std::to_string(i) + " past the input's rank");
        target[i] = xs[i];
      }
      if (target[i] == -1) {
        if (infer >= 0) fail("shape " + shape_text(target) + " has two -1");
        infer = static_cast<std::int64_t>(i);
      } else if (target[i] < 0 || target[i] > kMaxTensorValues) {
        fail("shape " + shape_text(target) + (target[i] < 0 ? " has a negative size" : " is too large"));
      } else if (__builtin_mul_overflow(known, target[i], &known)) {
        fail("shape " + shape_text(target) + " is too large");
      }
    }
    if (infer >= 0) {
      if (known == 0 || num_elements(xs) % known != 0)
        fail("cannot reshape " + shape_text(xs) + " to " + shape_text(target));
      target[static_cast<std::size_t>(infer)] = num_elements(xs) / known;
    }
    emit_reshape(x, target, out);
  }

  std::vector<std::int64_t> axes_of(int input) const {
    if (find_attribute(*node_, "axes")) return ints_attribute(*node_, "axes");
    if (has_input(input)) return constant_ints(input, "axes");
    return {};
  }

  void convert() {
    const onnx::NodeProto& node = *node_;
    const std::string& op = node.op_type();
    if (node.output_size() < 1 || node.output(0).empty()) fail("has no output");
    const std::string out = node.output(0);
    // The inputs every converter reads by position (ONNX's required inputs), checked once here.
    static const std::map<std::string, int> kRequiredInputs = {
        {"Add", 2}, {"Sub", 2}, {"Mul", 2}, {"Div", 2}, {"Equal", 2}, {"Gemm", 2}, {"MatMul", 2}, {"Conv", 2},
        {"PRelu", 2}, {"Expand", 2}, {"Gather", 2}, {"BatchNormalization", 5}};
    const auto required = kRequiredInputs.find(op);
    const int needed = required != kRequiredInputs.end() ? required->second : op == "Constant" ? 0 : 1;
    if (node.input_size() < needed)
      fail("expected at least " + std::to_string(needed) + " input" + (needed == 1 ? "" : "s") + ", got " +
           std::to_string(node.input_size()));
    if (op == "Constant") {
      for (const auto& a : node.attribute()) {
        Tensor t;
        bool integer = false;
        if (a.name() == "value") {
          t = reader_.to_tensor(a.t(), out);
          integer = is_integer_type(a.t().data_type());
        } else if (a.name() == "value_float") {
          t.values = {a.f()};
        } else if (a.name() == "value_floats") {
          t.values.assign(a.floats().begin(), a.floats().end());
          t.dims = {static_cast<std::int64_t>(t.values.size())};
        } else if (a.name() == "value_int") {
          t.values = {static_cast<double>(a.i())};
          integer = true;
        } else if (a.name() == "value_ints") {
          for (auto v : a.ints()) t.values.push_back(static_cast<double>(v));
          t.dims = {static_cast<std::int64_t>(t.values.size())};
          integer = true;
        } else {
          continue;
        }
        return set_constant(out, std::move(t), integer);
      }
      fail("only the value, value_float(s) and value_int(s) forms of Constant are supported");
    }
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      fail("operator domain \"" + node.domain() + "\" is not supported");
    if (op == "Dropout") check_dropout();
    for (int o = 1; o < node.output_size(); ++o)
      if (!node.output(o).empty() && uses_[node.output(o)] > 0 && op != "Split" && op != "BatchNormalization" && op != "MaxPool" &&
          op != "If")
        fail("output " + std::to_string(o) + " (\"" + node.output(o) + "\") is used; only the first output is supported");
    if (is_not_piecewise_linear(op)) {
      // A head maps the logits to probabilities: the regions are those of the logits. It must give the
      // graph's output and come after every other computation.
      const bool last = node.input_size() >= 1 && is_output_head(op) && only_reindexed_to_output(out);
      if (last && !value(node.input(0), "input").is_constant()) {
        if (is_graph_output(out)) {
          heads_[out] = {op, node.input(0)};
          return;
        }
        // Index ops after the head (PyTorch's Transpose back after a Softmax over the channels at
        // opset 11) reorder the logits as they reorder the probabilities: they stay, the head goes.
        graph_.output_head = op;
        return alias(out, node.input(0));
      }
      fail("op type " + op + " is not piecewise linear, so the network has no linear regions (supported: " + kSupported +
           "; a final Softmax, LogSoftmax, Sigmoid or Tanh whose result is the graph's output is accepted)");
    }
    if (op == "Identity" || op == "Dropout") return alias(out, node.input(0));
    if (op == "If") return convert_if();
    if (op == "Equal") {
      if (!all_constant({node.input(0), node.input(1)}))
        fail("compares values computed from the input; only comparisons of constants (shapes) are supported");
      const TensorShape s = broadcast(shape(node.input(0)), shape(node.input(1)));
      check_fold_work(3 * num_elements(s));
      const Eigen::VectorXd a = broadcast_values(value(node.input(0), "input").tensor, s);
      const Eigen::VectorXd b = broadcast_values(value(node.input(1), "input").tensor, s);
      Tensor t;
      t.dims = s;
      for (Eigen::Index i = 0; i < a.size(); ++i) t.values.push_back(a[i] == b[i]);
      return set_constant(out, std::move(t), true);
    }
    if (op == "Cast") {
      const std::int64_t to = int_attribute(node, "to", onnx::TensorProto::FLOAT);
      const Value& v = value(node.input(0), "input");
      if (v.is_constant()) {
        Tensor t = v.tensor;
        const bool integer = is_integer_type(static_cast<int>(to));
        if (integer)
          for (double& e : t.values) e = to == onnx::TensorProto::BOOL ? (e != 0) : std::trunc(e);
        return set_constant(out, std::move(t), integer);
      }
      if (to != onnx::TensorProto::FLOAT && to != onnx::TensorProto::DOUBLE)
        fail("casts a value computed from the input to " + describe_type(static_cast<int>(to)) +
             " (supported: FLOAT and DOUBLE, which relutope computes in double)");
      return alias(out, node.input(0));
    }
    if (op == "Shape") {
      const TensorShape s = shape(node.input(0));
      std::int64_t begin = int_attribute(node, "start", 0), end = int_attribute(node, "end", static_cast<std::int64_t>(s.size()));
      const auto rank = static_cast<std::int64_t>(s.size());
      begin = std::clamp<std::int64_t>(begin < 0 ? begin + rank : begin, 0, rank);
      end = std::clamp<std::int64_t>(end < 0 ? end + rank : end, 0, rank);
      Tensor t;
      for (std::int64_t i = begin; i < end; ++i) t.values.push_back(static_cast<double>(s[static_cast<std::size_t>(i)]));
      t.dims = {static_cast<std::int64_t>(t.values.size())};
      return set_constant(out, std::move(t), true);
    }
    if (op == "ConstantOfShape") {
      const std::vector<std::int64_t> dims = constant_ints(0, "shape");
      double fill = 0;
      bool integer = false;
      if (const auto* a = find_attribute(node, "value")) {
        const Tensor v = reader_.to_tensor(a->t(), out);
        if (v.values.size() != 1) fail("value must hold one value");
        fill = v.values[0];
        integer = is_integer_type(a->t().data_type());
      }
      check_shape(dims, "the output");
      check_fold_work(num_elements(dims));
      Tensor t;
      t.dims = dims;
      t.values.assign(static_cast<std::size_t>(num_elements(dims)), fill);
      return set_constant(out, std::move(t), integer);
    }
    if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") return convert_binary(op, out);
    if (op == "Gemm") return convert_gemm(out);
    if (op == "MatMul") return convert_matmul(out);
    if (op == "Conv") return convert_conv(out);
    if (op == "BatchNormalization") return convert_batch_norm(out);
    if (op == "AveragePool") return convert_pool(out, false);
    if (op == "MaxPool") return convert_pool(out, true);
    if (op == "GlobalAveragePool") return convert_global_average_pool(out);
    if (op == "Max") return convert_max(out);
    if (op == "Relu") return convert_unit_relu(out, Eigen::VectorXd::Zero(1));
    if (op == "LeakyRelu") return convert_unit_relu(out, Eigen::VectorXd::Constant(1, float_attribute(node, "alpha", 0.01)));
    if (op == "PRelu") return convert_prelu(out);
    if (op == "Clip") return convert_clip(out);
    if (op == "Transpose") return convert_transpose(out);
    if (op == "Slice") return convert_slice(out);
    if (op == "Split") return convert_split();
    if (op == "Concat") return convert_concat(out);
    if (op == "Gather") return convert_gather(out);
    if (op == "Pad") return convert_pad(out);
    if (op == "Reshape") return convert_reshape(out);
    if (op == "Expand") {
      const std::vector<std::int64_t> target = constant_ints(1, "shape");
      const TensorShape out_shape = broadcast(shape(node.input(0)), target);
      const Value& v = value(node.input(0), "input");
      if (v.is_constant()) {
        check_fold_work(num_elements(out_shape));
        Tensor t;
        t.dims = out_shape;
        const Eigen::VectorXd e = broadcast_values(v.tensor, out_shape);
        t.values.assign(e.data(), e.data() + e.size());
        return set_constant(out, std::move(t), v.integer);
      }
      check_per_sample(node.input(0), node.input(1), out_shape);
      charge_index_map(num_elements(out_shape));
      return emit_index_map({node.input(0)}, out_shape, broadcast_map(shape(node.input(0)), out_shape), out);
    }
    if (op == "Flatten") {
      const TensorShape xs = shape(node.input(0));
      const std::int64_t axis = axis_of(int_attribute(node, "axis", 1), xs.size(), true);
      const TensorShape s{num_elements(TensorShape(xs.begin(), xs.begin() + axis)), num_elements(TensorShape(xs.begin() + axis, xs.end()))};
      return emit_reshape(node.input(0), s, out);
    }
    if (op == "Squeeze") {
      const TensorShape xs = shape(node.input(0));
      std::vector<std::int64_t> axes = axes_of(1);
      std::vector<char> drop(xs.size(), 0);
      if (axes.empty())
        for (std::size_t i = 0; i < xs.size(); ++i) drop[i] = xs[i] == 1;
      for (std::int64_t a : axes) {
        const std::size_t i = static_cast<std::size_t>(axis_of(a, xs.size()));
        if (xs[i] != 1) fail("axis " + std::to_string(a) + " of " + shape_text(xs) + " is not of size 1");
        drop[i] = 1;
      }
      TensorShape s;
      for (std::size_t i = 0; i < xs.size(); ++i)
        if (!drop[i]) s.push_back(xs[i]);
      return emit_reshape(node.input(0), s, out);
    }
    if (op == "Unsqueeze") {
      const TensorShape xs = shape(node.input(0));
      const std::vector<std::int64_t> axes = axes_of(1);
      const std::size_t rank = xs.size() + axes.size();
      std::vector<char> added(rank, 0);
      for (std::int64_t a : axes) added[static_cast<std::size_t>(axis_of(a, rank))] = 1;
      TensorShape s;
      std::size_t from = 0;
      for (std::size_t i = 0; i < rank; ++i) s.push_back(added[i] ? 1 : xs[from++]);
      if (from != xs.size()) fail("axes " + shape_text(axes) + " repeat an axis");
      return emit_reshape(node.input(0), s, out);
    }
    fail("op type " + op + " is not supported (supported: " + kSupported +
         "; a final Softmax, LogSoftmax, Sigmoid or Tanh as the output head)");
  }

  bool is_graph_output(const std::string& name) const { return graph_outputs_.count(name) > 0; }

  // Whether `name` is the graph's output, or reaches it only through ops that move values without
  // computing (each the one use of the value before it).
  bool only_reindexed_to_output(std::string name) const {
    // At most one step per value: a node that writes the value it reads (not SSA) must not loop.
    for (std::size_t step = 0; step <= uses_.size(); ++step) {
      const auto uses = uses_.find(name);
      if (uses == uses_.end() || uses->second != 1) return false;
      if (is_graph_output(name)) return true;
      const auto user = user_.find(name);
      if (user == user_.end()) return false;
      const onnx::NodeProto& next = *user->second;
      const std::string& op = next.op_type();
      const bool reindexing = op == "Transpose" || op == "Reshape" || op == "Flatten" || op == "Squeeze" ||
                              op == "Unsqueeze" || op == "Identity";
      if (!reindexing || next.input_size() < 1 || next.input(0) != name || next.output_size() < 1) return false;
      name = next.output(0);
    }
    return false;
  }

 public:
  void set_graph_outputs(const onnx::GraphProto& graph) {
    for (const auto& o : graph.output()) graph_outputs_.insert(o.name());
  }

 private:
  // Dropout is the identity in inference mode. From opset 12 the mode is an input, training_mode (BOOL),
  // which torch.onnx.export sets to true when the model was exported in training mode: the output is
  // then random, and relutope refuses it unless the ratio is 0.
  void check_dropout() const {
    const onnx::NodeProto& node = *node_;
    if (node.input_size() < 3 || node.input(2).empty()) return;
    const std::string& mode = node.input(2);
    const auto found = values_.find(mode);
    if (found == values_.end() || !found->second.is_constant())
      fail("training_mode \"" + mode + "\" is computed in the graph, so the Dropout may be in training mode, "
           "where its output is random; export the model after model.eval() (the exporter then drops the Dropout)");
    const std::vector<double>& training = found->second.tensor.values;
    if (training.size() != 1) fail("training_mode \"" + mode + "\": expected one BOOL value, got " + std::to_string(training.size()));
    if (training[0] == 0) return;
    if (node.input_size() >= 2 && !node.input(1).empty()) {
      const auto ratio = values_.find(node.input(1));
      if (ratio != values_.end() && ratio->second.is_constant() && ratio->second.tensor.values.size() == 1 &&
          ratio->second.tensor.values[0] == 0)
        return;
    }
    fail("Dropout in training mode (training_mode = true): it zeroes random inputs, so the network is random "
         "and has no fixed linear regions; export the model after model.eval() (torch.onnx.export(..., "
         "training=torch.onnx.TrainingMode.EVAL), the default)");
  }

  OnnxReader reader_;
  Graph graph_;
  std::map<std::string, Value> values_;
  std::int64_t graph_values_ = 0;  // values of all tensors the nodes compute, against kMaxGraphValues
  std::int64_t fold_work_ = 0;     // against kMaxFoldWork
  std::int64_t index_map_entries_ = 0;  // against kMaxIndexMapEntries
  std::map<std::string, int> constant_nodes_;
  std::map<std::string, int> uses_;
  std::map<std::string, const onnx::NodeProto*> user_;  // a node that reads the value (the one, when uses_ is 1)
  std::map<std::string, std::pair<std::string, std::string>> heads_;  // head output -> (op, its input)
  std::set<std::string> graph_outputs_;
  const onnx::NodeProto* node_ = nullptr;
  int broadcasts_ = 0;
};

}  // namespace

Graph load_graph_onnx(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open file (does it exist and is it readable?)");
  onnx::ModelProto model;
  if (!model.ParseFromIstream(&in))
    throw InputError(path + ": not a valid ONNX model (the protobuf does not parse: truncated or not an ONNX file?)");
  const onnx::GraphProto& graph = model.graph();
  if (graph.node_size() == 0 || graph.input_size() == 0)
    throw InputError(path + ": not a valid ONNX model (no graph nodes or inputs: truncated or not an ONNX file?)");
  GraphBuilder builder(path);
  builder.set_graph_outputs(graph);
  return builder.build(graph);
}

Network load_network_onnx(const std::string& path) { return lower_to_network(load_graph_onnx(path)); }

}  // namespace relutope
