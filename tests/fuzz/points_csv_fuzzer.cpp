// libFuzzer target: load_points on a CSV file (separators, a header line, ragged rows, numbers).
// InputError is the expected answer to a bad file; anything else is a finding.
#include <cstdint>

#include "fuzz_input.h"
#include "relutope/error.h"
#include "relutope/slice.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static relutope::fuzz::InputFile file("points.csv");
  try {
    relutope::load_points(file.write(data, size));
  } catch (const relutope::InputError&) {
  }
  return 0;
}
