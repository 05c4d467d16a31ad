#include "relutope/domain.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "relutope/error.h"

namespace relutope {

double Domain::box_volume() const { return (hi - lo).prod(); }

Domain Domain::box(Eigen::VectorXd lo, Eigen::VectorXd hi) {
  Domain d;
  d.lo = std::move(lo);
  d.hi = std::move(hi);
  return d;
}

Domain Domain::cube(int dim, double lo, double hi) {
  return box(Eigen::VectorXd::Constant(dim, lo), Eigen::VectorXd::Constant(dim, hi));
}

void Domain::validate() const {
  std::ostringstream problems;
  if (lo.size() == 0) problems << "\n  the box has no dimensions";
  if (lo.size() != hi.size()) problems << "\n  lo has " << lo.size() << " entries but hi has " << hi.size();
  for (Eigen::Index i = 0; i < std::min(lo.size(), hi.size()); ++i) {
    if (!std::isfinite(lo[i]) || !std::isfinite(hi[i]))
      problems << "\n  dimension " << i << ": bounds must be finite (unbounded domains have infinitely many"
               << " regions to search), got [" << lo[i] << ", " << hi[i] << "]";
    else if (!(lo[i] < hi[i]))
      problems << "\n  dimension " << i << ": lo " << lo[i] << (lo[i] == hi[i] ? " = " : " > ") << "hi " << hi[i]
               << " (the box has no volume)";
  }
  for (std::size_t k = 0; k < extra.size(); ++k) {
    if (extra[k].a.size() != lo.size())
      problems << "\n  constraint " << k << ": expected " << lo.size() << " coefficients, got " << extra[k].a.size();
    else if (!extra[k].a.allFinite() || !std::isfinite(extra[k].b))
      problems << "\n  constraint " << k << ": coefficients must be finite";
  }
  const std::string found = problems.str();
  if (!found.empty()) throw InputError("domain: invalid:" + found);
}

std::string Domain::describe() const {
  std::ostringstream out;
  out.precision(10);
  const bool uniform = lo.size() > 0 && (lo.array() == lo[0]).all() && (hi.array() == hi[0]).all();
  if (uniform) {
    out << "[" << lo[0] << "," << hi[0] << "]^" << lo.size();
  } else {
    for (Eigen::Index i = 0; i < lo.size(); ++i) out << (i ? "x" : "") << "[" << lo[i] << "," << hi[i] << "]";
  }
  if (!extra.empty()) out << " with " << extra.size() << " extra constraints";
  return out.str();
}

namespace {

std::string trim(const std::string& text) {
  const std::size_t first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// One bound of --box. strtod also reads "nan", "inf" and "1e999" (as inf): each gets its own message.
// An underflow (1e-400) is a number, rounded towards 0 as any parser does.
double parse_number(const std::string& token, const std::string& part, const char* which) {
  const std::string prefix = "--box: \"" + part + "\": " + which + " ";
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
      throw InputError("--box: \"" + text + "\": interval " + std::to_string(lo.size()) +
                       " is empty (expected lo:hi[,lo:hi...], for example -1:1 or -1:1,0:2)");
    const std::size_t colon = part.find(':');
    if (colon == std::string::npos || part.find(':', colon + 1) != std::string::npos)
      throw InputError("--box: \"" + part + "\": expected lo:hi (for example -1:1 or -1:1,0:2), in \"" + text + "\"");
    lo.push_back(parse_number(trim(part.substr(0, colon)), part, "lo"));
    hi.push_back(parse_number(trim(part.substr(colon + 1)), part, "hi"));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (lo.size() == 1 && dim > 1) {
    lo.assign(dim, lo[0]);
    hi.assign(dim, hi[0]);
  }
  if (dim > 0 && static_cast<int>(lo.size()) != dim) {
    std::ostringstream msg;
    msg << "--box: \"" << text << "\": expected 1 or " << dim << " intervals (the network has " << dim
        << " inputs), got " << lo.size();
    throw InputError(msg.str());
  }
  Domain domain = Domain::box(Eigen::Map<Eigen::VectorXd>(lo.data(), lo.size()),
                              Eigen::Map<Eigen::VectorXd>(hi.data(), hi.size()));
  try {
    domain.validate();
  } catch (const InputError& e) {
    throw InputError("--box: \"" + text + "\": " + std::string(e.what()).substr(8));
  }
  return domain;
}

}  // namespace relutope
