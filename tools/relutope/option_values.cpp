#include "option_values.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace relutope::cli {

namespace {

std::string trim(const std::string& text) {
  const std::size_t first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// One bound of a box. strtod also reads "nan", "inf" and "1e999" (as inf): each gets its own message.
// An underflow (1e-400) is a number, rounded towards 0 as any parser does.
double parse_bound(const std::string& token, const std::string& part, const char* which) {
  const std::string prefix = "\"" + part + "\": " + which + " ";
  if (token.empty()) throw InputError(prefix + "is missing (expected lo:hi, for example -1:1)");
  const char* begin = token.c_str();
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(begin, &end);
  if (end != begin + token.size()) throw InputError(prefix + "is not a number: \"" + token + "\"");
  if (std::isnan(value)) throw InputError(prefix + "is NaN (expected a finite number)");
  if (std::isinf(value)) {
    const bool literal = token.find_first_of("iI") != std::string::npos;
    throw InputError(prefix + "\"" + token + "\" is " + (literal ? "infinite" : "too large for a double") +
                     " (the box must be bounded: expected a finite number)");
  }
  return value;
}

}  // namespace

Domain parse_box(const std::string& text, int dim) {
  std::vector<double> lo, hi;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::string part = trim(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (part.empty() && !text.empty())
      throw InputError("\"" + text + "\": interval " + std::to_string(lo.size()) +
                       " is empty (expected lo:hi[,lo:hi...], for example -1:1 or -1:1,0:2)");
    const std::size_t colon = part.find(':');
    if (colon == std::string::npos || part.find(':', colon + 1) != std::string::npos)
      throw InputError("\"" + part + "\": expected lo:hi (for example -1:1 or -1:1,0:2), in \"" + text + "\"");
    lo.push_back(parse_bound(trim(part.substr(0, colon)), part, "lo"));
    hi.push_back(parse_bound(trim(part.substr(colon + 1)), part, "hi"));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (lo.size() == 1 && dim > 1) {
    lo.assign(dim, lo[0]);
    hi.assign(dim, hi[0]);
  }
  if (dim > 0 && static_cast<int>(lo.size()) != dim) {
    std::ostringstream msg;
    msg << "\"" << text << "\": expected 1 or " << dim << " intervals (the network has " << dim << " inputs), got "
        << lo.size();
    throw InputError(msg.str());
  }
  Domain domain = Domain::box(Eigen::Map<Eigen::VectorXd>(lo.data(), lo.size()),
                              Eigen::Map<Eigen::VectorXd>(hi.data(), hi.size()));
  const std::vector<std::string> problems = domain.problems();
  if (!problems.empty()) {
    std::string message = "\"" + text + "\": invalid:";
    for (const std::string& p : problems) message += "\n  " + p;
    throw InputError(message);
  }
  return domain;
}

Engine parse_engine(const std::string& name) {
  for (Engine e : {Engine::kAuto, Engine::kVertex, Engine::kLp, Engine::kExact})
    if (name == engine_name(e)) return e;
  throw InputError("expected auto, vertex, lp or exact, got \"" + name + "\"");
}

ColorBy parse_color_by(const std::string& name) {
  if (name == "region") return ColorBy::kRegion;
  if (name == "output") return ColorBy::kOutput;
  if (name == "class") return ColorBy::kClass;
  throw InputError("expected region, output or class, got \"" + name + "\"");
}

Architecture parse_architecture(const std::string& text) {
  std::vector<int> values;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    std::size_t used = 0;
    int value = 0;
    try {
      value = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || value < 1 || value > 100000)
      throw InputError("\"" + text + "\": entry " + std::to_string(values.size()) + " (\"" + item +
                       "\") is not a whole number from 1 to 100000");
    values.push_back(value);
  }
  if (values.size() < 2)
    throw InputError("\"" + text + "\": expected the input dimension and at least one hidden width, e.g. 2,16,16");
  Architecture arch;
  arch.input_dim = values[0];
  arch.widths.assign(values.begin() + 1, values.end());
  return arch;
}

}  // namespace relutope::cli
