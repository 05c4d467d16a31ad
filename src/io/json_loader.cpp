// The JSON model format (see README.md, "Model formats").
#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "relutope/error.h"
#include "relutope/io.h"

namespace relutope {

namespace {

using json = nlohmann::json;

bool is_not_piecewise_linear(const std::string& name) {
  static const char* const kSmooth[] = {"sigmoid", "tanh", "elu", "selu", "gelu", "softplus", "silu", "swish",
                                        "mish", "softmax", "exp", "log_softmax", "celu"};
  return std::find(std::begin(kSmooth), std::end(kSmooth), name) != std::end(kSmooth);
}

class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  double number(const json& value, const std::string& where) {
    if (!value.is_number()) {
      fail(where, "expected a number, got " + value.dump());
      return 0;
    }
    return value.get<double>();
  }

  Eigen::VectorXd vector(const json& value, const std::string& where) {
    if (!value.is_array()) {
      fail(where, "expected an array of numbers, got " + brief(value));
      return {};
    }
    Eigen::VectorXd v(value.size());
    for (std::size_t i = 0; i < value.size(); ++i) v[i] = number(value[i], where + "[" + std::to_string(i) + "]");
    return v;
  }

  Eigen::MatrixXd matrix(const json& value, const std::string& where) {
    if (!value.is_array() || value.empty() || !value[0].is_array()) {
      fail(where, "expected an array of rows (out x in), got " + brief(value));
      return {};
    }
    const std::size_t cols = value[0].size();
    Eigen::MatrixXd m(value.size(), cols);
    for (std::size_t i = 0; i < value.size(); ++i) {
      const std::string row = where + "[" + std::to_string(i) + "]";
      if (!value[i].is_array() || value[i].size() != cols) {
        fail(row, "expected a row of " + std::to_string(cols) + " numbers, got " + brief(value[i]));
        continue;
      }
      for (std::size_t j = 0; j < cols; ++j) m(i, j) = number(value[i][j], row + "[" + std::to_string(j) + "]");
    }
    return m;
  }

  void fail(const std::string& where, const std::string& what) { problems_ << "\n  " << where << ": " << what; }

  void throw_if_failed() const {
    const std::string found = problems_.str();
    if (!found.empty()) throw InputError(source_ + ": invalid model:" + found);
  }

 private:
  static std::string brief(const json& value) {
    std::string text = value.dump();
    return text.size() > 40 ? text.substr(0, 37) + "..." : text;
  }
  std::string source_;
  std::ostringstream problems_;
};

Layer read_layer(const json& entry, const std::string& at, Reader& reader) {
  Layer layer;
  if (!entry.is_object()) {
    reader.fail(at, "expected an object with weight, bias and activation");
    return layer;
  }
  if (!entry.contains("weight")) reader.fail(at + ".weight", "missing");
  else layer.weight = reader.matrix(entry["weight"], at + ".weight");
  if (!entry.contains("bias")) reader.fail(at + ".bias", "missing");
  else layer.bias = reader.vector(entry["bias"], at + ".bias");
  std::string activation = "none";
  if (entry.contains("activation")) {
    const json& value = entry["activation"];
    if (!value.is_string()) {
      reader.fail(at + ".activation", "expected a string (relu, leaky_relu, prelu or none), got " + value.dump());
      return layer;
    }
    activation = value.get<std::string>();
  }
  if (activation == "relu") {
    layer.activation = Activation::kRelu;
  } else if (activation == "none" || activation == "linear" || activation == "identity") {
    layer.activation = Activation::kNone;
  } else if (activation == "leaky_relu" || activation == "prelu") {
    layer.activation = activation == "prelu" ? Activation::kPRelu : Activation::kLeakyRelu;
    if (!entry.contains("negative_slope")) {
      if (activation == "prelu") reader.fail(at + ".negative_slope", "missing (prelu needs its slopes)");
      layer.negative_slope = Eigen::VectorXd::Constant(1, 0.01);  // PyTorch's LeakyReLU default
    } else if (entry["negative_slope"].is_array()) {
      layer.negative_slope = reader.vector(entry["negative_slope"], at + ".negative_slope");
    } else {
      layer.negative_slope = Eigen::VectorXd::Constant(1, reader.number(entry["negative_slope"], at + ".negative_slope"));
    }
  } else if (is_not_piecewise_linear(activation)) {
    reader.fail(at + ".activation", "\"" + activation +
                                        "\" is not piecewise linear, so the network has no linear regions "
                                        "(supported: relu, leaky_relu, prelu, none)");
  } else {
    reader.fail(at + ".activation", "unknown activation \"" + activation + "\" (supported: relu, leaky_relu, prelu, none)");
  }
  return layer;
}

}  // namespace

Network load_network_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open file (does it exist and is it readable?)");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    const std::size_t byte = std::min<std::size_t>(e.byte, text.size());
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(byte ? byte - 1 : 0), '\n');
    const bool truncated = std::string(e.what()).find("unexpected end of input") != std::string::npos;
    throw InputError(path + ":" + std::to_string(line) + ": not valid JSON" + (truncated ? " (truncated file?)" : "") + ": " +
                     e.what());
  } catch (const json::exception& e) {
    // 406: a number literal out of the range of double, e.g. 1e999; locate it by its text.
    const std::string what = e.what();
    const std::size_t open = what.find('\''), close = what.rfind('\'');
    std::string where = path;
    if (e.id == 406 && open != std::string::npos && close > open) {
      const std::size_t at = text.find(what.substr(open + 1, close - open - 1));
      if (at != std::string::npos)
        where += ":" + std::to_string(1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
    }
    throw InputError(where + ": " + (e.id == 406 ? "number out of range: " : "not valid JSON: ") + what +
                     (e.id == 406 ? " (a number too large for a double: weights must be finite)" : ""));
  }
  if (!doc.is_object() || !doc.contains("layers") || !doc["layers"].is_array())
    throw InputError(path + ": expected an object with a \"layers\" array (see README.md, \"Model formats\")");
  Reader reader(path);
  Network net;
  net.source = path;
  const json& layers = doc["layers"];
  if (layers.empty()) reader.fail("layers", "expected at least one layer, got none");
  for (std::size_t l = 0; l < layers.size(); ++l)
    net.layers.push_back(read_layer(layers[l], "layers[" + std::to_string(l) + "]", reader));
  if (doc.contains("domain")) {
    const json& d = doc["domain"];
    if (!d.is_object() || !d.contains("lo") || !d.contains("hi")) {
      reader.fail("domain", "expected {\"lo\": [...], \"hi\": [...]}");
    } else {
      net.default_domain = Domain::box(reader.vector(d["lo"], "domain.lo"), reader.vector(d["hi"], "domain.hi"));
    }
  }
  reader.throw_if_failed();
  net.validate();
  if (net.default_domain) {
    try {
      net.default_domain->validate();
    } catch (const InputError& e) {
      throw InputError(path + ": " + e.what());
    }
    if (net.default_domain->dim() != net.input_dim())
      throw InputError(path + ": domain: expected " + std::to_string(net.input_dim()) + " dimensions (the network's inputs), got " +
                       std::to_string(net.default_domain->dim()));
  }
  return net;
}

}  // namespace relutope
