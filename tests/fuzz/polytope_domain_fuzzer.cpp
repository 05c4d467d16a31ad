// libFuzzer target: load_polytope_domain on a JSON file ({"A", "b"} and an optional "lo"/"hi" box;
// without the box, 2 d LPs find the bounding box). InputError is the expected answer to a bad file;
// anything else is a finding.
#include <cstdint>

#include "fuzz_input.h"
#include "relutope/error.h"
#include "relutope/slice.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static relutope::fuzz::InputFile file("domain.json");
  try {
    relutope::load_polytope_domain(file.write(data, size));
  } catch (const relutope::InputError&) {
  }
  return 0;
}
