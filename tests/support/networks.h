#pragma once
// Small hand-made networks for tests.
#include <array>
#include <vector>

#include "relutope/enumerate.h"
#include "relutope/network.h"

namespace networks {

// One hidden ReLU layer of lines w0 x + w1 y + c = 0 in the plane (each row: w0, w1, c), summed.
inline relutope::Network lines(const std::vector<std::array<double, 3>>& rows) {
  relutope::Network net;
  relutope::Layer hidden;
  hidden.weight.resize(rows.size(), 2);
  hidden.bias.resize(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    hidden.weight(i, 0) = rows[i][0];
    hidden.weight(i, 1) = rows[i][1];
    hidden.bias[i] = rows[i][2];
  }
  relutope::Layer out;
  out.weight = Eigen::MatrixXd::Ones(1, rows.size());
  out.bias = Eigen::VectorXd::Zero(1);
  out.activation = relutope::Activation::kNone;
  net.layers = {hidden, out};
  return net;
}

// No hidden layer: x -> sum of the inputs, one affine map (one region).
inline relutope::Network affine(int input_dim) {
  relutope::Layer out;
  out.weight = Eigen::MatrixXd::Ones(1, input_dim);
  out.bias = Eigen::VectorXd::Zero(1);
  out.activation = relutope::Activation::kNone;
  relutope::Network net;
  net.layers = {out};
  return net;
}

// Every region of `net` in `box` with vertices and volumes (vertex engine), for geometry tests.
inline std::vector<relutope::Region> regions_with_geometry(const relutope::Network& net, const relutope::Domain& box) {
  relutope::EnumerateOptions options;
  options.engine = relutope::Engine::kVertex;
  options.with_vertices = true;
  options.with_volume = true;
  return relutope::enumerate_regions(net, box, options);
}

}  // namespace networks
