// libFuzzer target: parse_box, the --box syntax ("lo:hi" or "lo0:hi0,lo1:hi1,..."). The first byte
// picks the network's input dimension (0 to 15), the rest is the text. InputError is the expected
// answer to bad text; anything else is a finding, and so is a box that parse_box accepts but that is
// not what Domain::validate() accepts or not of the requested dimension.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "option_values.h"
#include "relutope/domain.h"
#include "relutope/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int dim = data[0] % 16;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  relutope::Domain box;
  try {
    box = relutope::cli::parse_box(text, dim);
  } catch (const relutope::InputError&) {
    return 0;
  }
  box.validate();  // an InputError here escapes: parse_box let an invalid box through
  if (dim > 0 && box.dim() != dim) std::abort();
  return 0;
}
