// Draws the regions of the two-moons classifier and holds their number against the theory.
//
// Each region is a polygon (Region::vertices, with EnumerateOptions::with_vertices) on which the network
// is affine; write_png cuts each along the decision boundary f(x) = 0 inside it, fills the pieces by their
// predicted class and draws the boundary in black.
// region_bounds gives the known upper bounds for the architecture (exact integers as decimal text).
#include <iostream>

#include "relutope/relutope.h"

int main(int argc, char** argv) {
  const std::string model = argc > 1 ? argv[1] : "examples/two_moons.onnx";
  const std::string picture = argc > 2 ? argv[2] : "two_moons.png";
  const relutope::Network net = relutope::load_network(model);
  const relutope::Domain box = relutope::Domain::cube(2, -1.0, 1.0);

  relutope::EnumerateOptions options;
  options.with_vertices = true;
  const std::vector<relutope::Region> regions = relutope::enumerate_regions(net, box, options);

  relutope::DrawOptions draw;
  draw.color_by = relutope::ColorBy::kClass;
  draw.title = model;
  relutope::write_png(picture, net, box, regions, draw);

  const std::vector<relutope::Bound> bounds = relutope::region_bounds(relutope::Architecture::of(net));
  const relutope::Bound* tightest = relutope::tightest_upper_bound(bounds);
  std::cout << regions.size() << " regions drawn to " << picture << "; at most " << tightest->value << " by "
            << tightest->name << "\n";
  return relutope::compare_count(regions.size(), tightest->value) <= 0 ? 0 : 1;
}
