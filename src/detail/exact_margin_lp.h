#pragma once
// The LP engine's question, answered in exact rational arithmetic (GMP): does
//   { x : lo <= x <= hi,  a_i·x < b_i for every row i }
// have an interior point? It maximises t subject to a_i·x + t <= b_i and the box, with t capped
// at 1, by the bounded-variable primal simplex under Bland's rule (smallest index enters and
// leaves, which cannot cycle), and stops as soon as t > 0. Rows need no normalisation: only the
// sign of the optimum matters. Private to src/.
#include <gmpxx.h>

#include <cstdint>
#include <vector>

namespace relutope::detail {

struct ExactInterior {
  bool nonempty = false;
  bool solved = true;             // false: the pivot limit was reached (no answer)
  std::vector<mpq_class> point;   // when nonempty: a point of the box strictly inside every row
  std::uint64_t pivots = 0;
};

// a: rows (each of size lo.size()); b: one per row.
ExactInterior exact_interior(const std::vector<std::vector<mpq_class>>& a, const std::vector<mpq_class>& b,
                             const std::vector<mpq_class>& lo, const std::vector<mpq_class>& hi,
                             std::uint64_t max_pivots = 100000);

}  // namespace relutope::detail
