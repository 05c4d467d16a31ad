// Loads the bundled two-moons classifier and enumerates its activation regions in [-1,1]^2.
//
// The network is f(x) = W4 relu(W3 relu(W2 relu(W1 x + b1) + b2) + b3) + b4 (Network::layers).
// Each region is a convex polygon { x : a·x <= b } (Region::halfspaces) on which f is the affine
// map x -> map_weight * x + map_bias, and all its points share one activation pattern.
#include <iostream>

#include "relutope/relutope.h"

int main(int argc, char** argv) {
  const std::string model = argc > 1 ? argv[1] : "examples/two_moons.onnx";
  const relutope::Network net = relutope::load_network(model);
  const relutope::Domain box = relutope::Domain::cube(net.input_dim(), -1.0, 1.0);

  std::size_t shown = 0;
  relutope::EnumerateOptions options;
  const relutope::EnumerateStats stats =
      relutope::enumerate_regions(net, box, options, [&](const relutope::Region& region) {
        if (shown++ < 3)
          std::cout << "pattern " << relutope::pattern_string(region.pattern, net) << ": "
                    << region.halfspaces.size() << " facets, f(x) = " << region.map_weight << " x + "
                    << region.map_bias.transpose() << " near (" << region.interior_point.transpose() << ")\n";
      });
  std::cout << stats.num_regions << " regions in " << box.describe() << "\n";
  return stats.num_regions > 0 ? 0 : 1;
}
