// The JSON model format (see README.md, "Model formats").
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/json_file.h"
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
      fail(where, "expected a number, got " + brief(value));
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

const std::vector<std::string> kLayerKeys = {"weight", "bias", "activation", "negative_slope", "unit_rows"};
const std::vector<std::string> kActivations = {"relu", "leaky_relu", "prelu", "max", "none"};
const std::vector<std::string> kTopKeys = {"layers", "domain"};
const std::vector<std::string> kDomainKeys = {"lo", "hi"};

// Smooth activations PyTorch models end with: after the last layer they are an output head, named as
// the ONNX operator (Network::output_head); "" for other names.
std::string output_head_of(const std::string& name) {
  if (name == "softmax") return "Softmax";
  if (name == "log_softmax") return "LogSoftmax";
  if (name == "sigmoid") return "Sigmoid";
  if (name == "tanh") return "Tanh";
  return "";
}

// Reports the unknown keys of `object`; returns the keys they were taken for, so that a misspelt key is
// not reported a second time as missing.
std::vector<std::string> check_keys(const json& object, const std::string& at, const std::vector<std::string>& allowed,
                                    Reader& reader) {
  std::vector<std::string> meant;
  for (const std::string& key : detail::unknown_keys(object, allowed)) {
    reader.fail(at, detail::unknown_key_message(key, allowed));
    meant.push_back(detail::closest_key(key, allowed));
  }
  return meant;
}

// `output_head`: set to the head when the last layer's activation is one (the layer is then affine).
Layer read_layer(const json& entry, const std::string& at, bool last, Reader& reader, std::string& output_head) {
  Layer layer;
  if (!entry.is_object()) {
    reader.fail(at, "expected an object with weight, bias and activation");
    return layer;
  }
  const std::vector<std::string> meant = check_keys(entry, at, kLayerKeys, reader);
  auto missing = [&](const std::string& key, const std::string& what) {
    if (std::find(meant.begin(), meant.end(), key) == meant.end()) reader.fail(at, "missing key \"" + key + "\" (" + what + ")");
  };
  if (!entry.contains("weight")) missing("weight", "the out x in matrix");
  else layer.weight = reader.matrix(entry["weight"], at + ".weight");
  if (!entry.contains("bias")) missing("bias", "one number per output");
  else layer.bias = reader.vector(entry["bias"], at + ".bias");
  // Every layer says its activation, the output layer too ("none"): a forgotten key must not turn a
  // ReLU layer into an affine one.
  if (!entry.contains("activation")) {
    missing("activation", detail::one_of(kActivations) + (last ? "; an affine output layer says \"none\"" : ""));
    return layer;
  }
  const json& value = entry["activation"];
  if (!value.is_string()) {
    reader.fail(at + ".activation", "expected a string (" + detail::one_of(kActivations) + "), got " + value.dump());
    return layer;
  }
  const std::string activation = value.get<std::string>();
  const bool has_slope = entry.contains("negative_slope");
  if (activation == "relu") {
    layer.activation = Activation::kRelu;
  } else if (activation == "max") {
    layer.activation = Activation::kMax;
  } else if (activation == "none" || activation == "linear" || activation == "identity") {
    layer.activation = Activation::kNone;
  } else if (activation == "leaky_relu" || activation == "prelu") {
    layer.activation = activation == "prelu" ? Activation::kPRelu : Activation::kLeakyRelu;
    if (!has_slope) {
      if (activation == "prelu") missing("negative_slope", "prelu needs its slopes");
      layer.negative_slope = Eigen::VectorXd::Constant(1, 0.01);  // PyTorch's LeakyReLU default
    } else if (entry["negative_slope"].is_array()) {
      layer.negative_slope = reader.vector(entry["negative_slope"], at + ".negative_slope");
    } else {
      layer.negative_slope = Eigen::VectorXd::Constant(1, reader.number(entry["negative_slope"], at + ".negative_slope"));
    }
  } else if (last && !output_head_of(activation).empty()) {
    layer.activation = Activation::kNone;  // the regions are those of the logits before the head
    output_head = output_head_of(activation);
  } else if (is_not_piecewise_linear(activation)) {
    reader.fail(at + ".activation", "\"" + activation +
                                        "\" is not piecewise linear, so the network has no linear regions "
                                        "(supported: " + detail::one_of(kActivations) + ")");
  } else {
    const std::string guess = detail::closest_key(activation, kActivations);
    reader.fail(at + ".activation", "unknown activation \"" + activation + "\"" +
                                        (guess.empty() ? "" : " (did you mean \"" + guess + "\"?)") +
                                        "; supported: " + detail::one_of(kActivations));
  }
  if (entry.contains("unit_rows")) {
    const json& units = entry["unit_rows"];
    if (!units.is_array() || units.empty()) {
      reader.fail(at + ".unit_rows", "expected a non-empty array of row counts, got " + units.dump().substr(0, 40));
    } else {
      for (std::size_t u = 0; u < units.size(); ++u) {
        if (!units[u].is_number_integer() || units[u].get<long long>() < 1 || units[u].get<long long>() > kMaxUnitStates) {
          reader.fail(at + ".unit_rows[" + std::to_string(u) + "]",
                      "expected a whole number of rows from 1 to " + std::to_string(kMaxUnitStates) + ", got " +
                          units[u].dump().substr(0, 40));
          layer.unit_rows.clear();
          break;
        }
        layer.unit_rows.push_back(static_cast<int>(units[u].get<long long>()));
      }
    }
  }
  if (has_slope && (activation == "relu" || activation == "none" || activation == "max"))
    reader.fail(at + ".negative_slope", "only leaky_relu and prelu have a negative slope, this layer is " + activation +
                                            " (did you mean \"leaky_relu\"?)");
  return layer;
}

}  // namespace

Network load_network_json(const std::string& path) {
  const json doc = detail::read_json_file(path);
  if (!doc.is_object())
    throw InputError(path + ": expected an object with a \"layers\" array (see README.md, \"Model formats\"), got " +
                     std::string(doc.type_name()));
  if (!doc.contains("layers")) {
    std::string hint;
    for (const auto& item : doc.items())
      if (detail::closest_key(item.key(), kTopKeys) == "layers") hint = " (found \"" + item.key() + "\": did you mean \"layers\"?)";
    throw InputError(path + ": top level: missing key \"layers\"" + hint + ": expected an object with a \"layers\" array " +
                     "(see README.md, \"Model formats\")");
  }
  if (!doc["layers"].is_array())
    throw InputError(path + ": layers: expected an array of layer objects, got " + std::string(doc["layers"].type_name()));
  Reader reader(path);
  check_keys(doc, "top level", kTopKeys, reader);
  Network net;
  net.source = path;
  const json& layers = doc["layers"];
  if (layers.empty()) reader.fail("layers", "expected at least one layer, got none");
  for (std::size_t l = 0; l < layers.size(); ++l)
    net.layers.push_back(
        read_layer(layers[l], "layers[" + std::to_string(l) + "]", l + 1 == layers.size(), reader, net.output_head));
  if (doc.contains("domain")) {
    const json& d = doc["domain"];
    check_keys(d, "domain", kDomainKeys, reader);
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
