#include "relutope/domain.h"

#include <cmath>
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

std::vector<std::string> Domain::problems() const {
  std::vector<std::string> out;
  std::ostringstream line;
  auto add = [&out, &line](const std::ostream&) {
    out.push_back(line.str());
    line.str("");
  };
  if (lo.size() == 0) out.push_back("the box has no dimensions");
  if (lo.size() != hi.size())
    add(line << "lo has " << lo.size() << " entries but hi has " << hi.size());
  for (Eigen::Index i = 0; i < std::min(lo.size(), hi.size()); ++i) {
    if (!std::isfinite(lo[i]) || !std::isfinite(hi[i]))
      add(line << "dimension " << i << ": bounds must be finite (unbounded domains have infinitely many"
               << " regions to search), got [" << lo[i] << ", " << hi[i] << "]");
    else if (!(lo[i] < hi[i]))
      add(line << "dimension " << i << ": lo " << lo[i] << (lo[i] == hi[i] ? " = " : " > ") << "hi "
               << hi[i] << " (the box has no volume)");
  }
  for (std::size_t k = 0; k < extra.size(); ++k) {
    if (extra[k].a.size() != lo.size())
      add(line << "constraint " << k << ": expected " << lo.size() << " coefficients, got "
               << extra[k].a.size());
    else if (!extra[k].a.allFinite() || !std::isfinite(extra[k].b))
      add(line << "constraint " << k << ": coefficients must be finite");
  }
  return out;
}

void Domain::validate() const {
  const std::vector<std::string> found = problems();
  if (found.empty()) return;
  std::string message = "domain: invalid:";
  for (const std::string& p : found) message += "\n  " + p;
  throw InputError(message);
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

}  // namespace relutope
