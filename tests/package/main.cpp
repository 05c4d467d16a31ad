// Counts the regions of a model with the installed relutope: x -> relu(x) on [-1,1]^2 has four.
#include <iostream>

#include "relutope/relutope.h"

int main(int argc, char** argv) {
  if (argc != 2) return 1;
  const relutope::Network net = relutope::load_network(argv[1]);
  const relutope::Domain box = relutope::Domain::cube(net.input_dim(), -1.0, 1.0);
  std::cout << "relutope " << RELUTOPE_VERSION << ": " << relutope::count_regions(net, box).num_regions
            << " regions\n";
  return 0;
}
