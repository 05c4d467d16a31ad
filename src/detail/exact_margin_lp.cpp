#include "detail/exact_margin_lp.h"

#include <algorithm>

namespace relutope::detail {

namespace {

enum Status { kBasic, kAtLower, kAtUpper };

}  // namespace

ExactInterior exact_interior(const std::vector<std::vector<mpq_class>>& a, const std::vector<mpq_class>& b,
                             const std::vector<mpq_class>& lo, const std::vector<mpq_class>& hi,
                             std::uint64_t max_pivots) {
  const int m = static_cast<int>(a.size()), n = static_cast<int>(lo.size());
  // Columns: x_0..x_{n-1}, t, slacks s_0..s_{m-1}:  A x + t + s = b,  s >= 0,  t <= 1.
  const int cols = n + 1 + m, t_col = n;
  std::vector<mpq_class> lower(cols), upper(cols), z(cols);
  std::vector<char> has_upper(cols, 1);
  for (int j = 0; j < n; ++j) lower[j] = lo[j], upper[j] = hi[j], z[j] = lo[j];
  // t starts low enough that every slack is positive.
  mpq_class t0 = 0;
  std::vector<mpq_class> rest(m);
  for (int i = 0; i < m; ++i) {
    rest[i] = b[i];
    for (int j = 0; j < n; ++j) rest[i] -= a[i][j] * lo[j];
    if (i == 0 || rest[i] < t0) t0 = rest[i];
  }
  t0 = std::min(mpq_class(t0 - 1), mpq_class(0));
  lower[t_col] = t0;
  upper[t_col] = 1;
  z[t_col] = t0;
  for (int i = 0; i < m; ++i) {
    lower[n + 1 + i] = 0;
    has_upper[n + 1 + i] = 0;
    z[n + 1 + i] = rest[i] - t0;
  }
  std::vector<std::vector<mpq_class>> tableau(m, std::vector<mpq_class>(cols));
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) tableau[i][j] = a[i][j];
    tableau[i][t_col] = 1;
    tableau[i][n + 1 + i] = 1;
  }
  std::vector<int> basis(m), status(cols, kAtLower);
  for (int i = 0; i < m; ++i) basis[i] = n + 1 + i, status[n + 1 + i] = kBasic;
  // Reduced costs of max t (slacks basic, so c_B = 0).
  std::vector<mpq_class> d(cols);
  d[t_col] = 1;

  ExactInterior out;
  auto improving = [&](int j) {
    if (status[j] == kBasic) return false;
    return status[j] == kAtLower ? sgn(d[j]) > 0 : sgn(d[j]) < 0;
  };
  while (z[t_col] <= 0) {
    int enter = -1;
    for (int j = 0; j < cols && enter < 0; ++j)
      if (improving(j)) enter = j;
    if (enter < 0) break;  // optimal with t <= 0: no interior point
    if (out.pivots++ >= max_pivots) {
      out.solved = false;
      return out;
    }
    const int dir = status[enter] == kAtLower ? 1 : -1;
    // Ratio test: basic variable i moves by -dir * T(i, enter) per unit step; ties go to the
    // smallest variable index (Bland).
    bool bounded_by_self = has_upper[enter];
    mpq_class step = bounded_by_self ? mpq_class(upper[enter] - lower[enter]) : mpq_class(0);
    int leave = -1;
    for (int i = 0; i < m; ++i) {
      const int rate_sign = -dir * sgn(tableau[i][enter]);
      if (rate_sign == 0) continue;
      const int v = basis[i];
      if (rate_sign > 0 && !has_upper[v]) continue;
      const mpq_class rate = -dir * tableau[i][enter];
      const mpq_class room = rate_sign > 0 ? mpq_class((upper[v] - z[v]) / rate) : mpq_class((lower[v] - z[v]) / rate);
      const bool better = (!bounded_by_self && leave < 0) || room < step ||
                          (room == step && (leave < 0 || v < basis[leave]));
      if (better) step = room, leave = i, bounded_by_self = false;
    }
    if (leave < 0 && !bounded_by_self) break;  // cannot happen: t and x are bounded
    z[enter] += dir * step;
    for (int i = 0; i < m; ++i)
      if (sgn(tableau[i][enter]) != 0) z[basis[i]] -= dir * step * tableau[i][enter];
    if (leave < 0) {  // the entering variable moved to its other bound
      status[enter] = status[enter] == kAtLower ? kAtUpper : kAtLower;
      continue;
    }
    const int out_var = basis[leave];
    const mpq_class pivot = tableau[leave][enter];
    for (mpq_class& v : tableau[leave]) v /= pivot;
    for (int i = 0; i < m; ++i) {
      if (i == leave || sgn(tableau[i][enter]) == 0) continue;
      const mpq_class factor = tableau[i][enter];
      for (int j = 0; j < cols; ++j)
        if (sgn(tableau[leave][j]) != 0) tableau[i][j] -= factor * tableau[leave][j];
    }
    const mpq_class factor = d[enter];
    for (int j = 0; j < cols; ++j)
      if (sgn(tableau[leave][j]) != 0) d[j] -= factor * tableau[leave][j];
    basis[leave] = enter;
    status[enter] = kBasic;
    const int rate_sign = -dir * sgn(pivot);
    status[out_var] = rate_sign > 0 ? kAtUpper : kAtLower;
    z[out_var] = status[out_var] == kAtUpper ? upper[out_var] : lower[out_var];
  }
  out.nonempty = z[t_col] > 0;
  if (out.nonempty) out.point.assign(z.begin(), z.begin() + n);
  return out;
}

}  // namespace relutope::detail
