#include "relutope/io.h"

#include <fstream>

#include "relutope/error.h"

namespace relutope {

namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Network load_network(const std::string& path) {
  if (!std::ifstream(path)) throw InputError(path + ": cannot open file (does it exist and is it readable?)");
  Network net;
  if (ends_with(path, ".json"))
    net = load_network_json(path);
  else if (ends_with(path, ".onnx"))
    net = load_network_onnx(path);
  else
    throw InputError(path + ": unknown model format: expected a file ending in .onnx or .json");
  net.validate();
  return net;
}

}  // namespace relutope
