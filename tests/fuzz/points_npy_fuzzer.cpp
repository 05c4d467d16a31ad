// libFuzzer target: load_points on a .npy file (magic, header, dtype, shape, data).
// InputError is the expected answer to a bad file; anything else is a finding.
#include <cstdint>

#include "fuzz_input.h"
#include "relutope/error.h"
#include "relutope/slice.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static relutope::fuzz::InputFile file("points.npy");
  try {
    relutope::load_points(file.write(data, size));
  } catch (const relutope::InputError&) {
  }
  return 0;
}
