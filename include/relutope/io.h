#pragma once
#include <string>

#include "relutope/network.h"

namespace relutope {

/// Loads a network from a .onnx file (as torch.onnx.export writes MLPs) or a .json file
/// (the format in README.md), chosen by the file's extension. The result is validated.
/// @param[in] path  a .onnx or .json file
/// @return the network, with Network::source = path
/// @throws InputError naming the file and the node or field at fault
Network load_network(const std::string& path);

/// Loads the JSON format. A "domain" in the file becomes Network::default_domain.
/// @return a validated network whose source is `path`
/// @throws InputError naming the file, line and field at fault
Network load_network_json(const std::string& path);

/// Loads an ONNX model as torch.onnx.export writes it (MLPs, CNNs, residual networks: see README
/// "Model formats"): load_graph_onnx, then lower_to_network. Unsupported operators are refused by name.
Network load_network_onnx(const std::string& path);

}  // namespace relutope
