// libFuzzer target: load_network on a .json file (JSON parsing, layers, activations, slopes, the
// default domain, the network's validation). InputError is the expected answer to a bad file; any other
// exception, a crash or a sanitizer report is a finding.
#include <cstdint>

#include "fuzz_input.h"
#include "relutope/error.h"
#include "relutope/io.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static relutope::fuzz::InputFile file("model.json");
  try {
    relutope::load_network(file.write(data, size));
  } catch (const relutope::InputError&) {
  }
  return 0;
}
