#pragma once
// The text of option values, as the command line (--box -1:1, --engine lp, ...) and the Python module
// (box="-1:1", engine="lp") both accept it. The library takes typed values only; these parsers turn
// text into them. Messages say what is wrong with the value; the front end prefixes the name it gives
// the option (with_option_name: "--box: " on the command line, "box: " in Python).
#include <string>

#include "relutope/bounds.h"
#include "relutope/domain.h"
#include "relutope/draw.h"
#include "relutope/enumerate.h"
#include "relutope/error.h"

namespace relutope::cli {

/// Calls `parse()` and returns its result; an InputError it throws comes back with its message
/// prefixed by "<name>: ", so that it names the option as the user spelled it.
/// Example: with_option_name("--box", [&] { return parse_box(text, 2); })
template <class Parse>
auto with_option_name(const std::string& name, const Parse& parse) -> decltype(parse()) {
  try {
    return parse();
  } catch (const InputError& e) {
    throw InputError(name + ": " + e.what());
  }
}

/// Parses the box syntax: "lo:hi" (the same interval in every dimension) or "lo0:hi0,lo1:hi1,..."
/// (one interval per dimension). Numbers may be negative ("-1:1") and surrounded by spaces.
/// @param[in] text  the option's value
/// @param[in] dim   the network's input dimension: a single interval is repeated dim times, and
///                  otherwise dim intervals are expected (0: any number, no broadcast)
/// @return a valid box (Domain::validate() passes) of dimension dim (or of the intervals given)
/// @throws InputError naming the text and the part at fault, e.g. "\"1:x\": hi is not a number: \"x\""
Domain parse_box(const std::string& text, int dim);

/// "auto", "vertex", "lp" or "exact" (engine_name() of each Engine).
/// @throws InputError otherwise: "expected auto, vertex, lp or exact, got \"foo\""
Engine parse_engine(const std::string& name);

/// "region", "output" or "class".
/// @throws InputError otherwise
ColorBy parse_color_by(const std::string& name);

/// An architecture as "n0,n1,...,nL": the input dimension, then the hidden widths (each 1 to 100000).
/// @return Architecture with input_dim = n0 and widths = {n1, ..., nL} (no ranks, no stable neurons)
/// @throws InputError naming the entry at fault, or if fewer than two entries are given
Architecture parse_architecture(const std::string& text);

}  // namespace relutope::cli
