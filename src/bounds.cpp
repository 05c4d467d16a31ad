#include "relutope/bounds.h"

#include <gmpxx.h>

#include <Eigen/QR>
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>

#include "detail/fold_layers.h"
#include "relutope/error.h"
#include "relutope/neurons.h"

namespace relutope {

int Architecture::num_neurons() const {
  int n = 0;
  for (int w : widths) n += w;
  return n;
}

Architecture Architecture::of(const Network& net) {
  Architecture arch;
  arch.input_dim = net.input_dim();
  bool plain = true;
  std::vector<int> outputs, hyperplanes;
  // The ranks that matter are those of the maps between split layers, with affine layers folded in
  // (fold_layers.h, as the engines fold them).
  detail::fold_layers(net, detail::DoubleLayers{net}, [&](detail::UnitLayout unit, Eigen::MatrixXd w, Eigen::VectorXd,
                                                          bool) {
    const Layer& layer = net.layers[unit.network_layer];
    arch.widths.push_back(layer.num_pattern_entries());
    Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(w);
    qr.setThreshold(1e-10);
    arch.ranks.push_back(static_cast<int>(qr.rank()));
    outputs.push_back(layer.num_out());
    int planes = 0;
    for (int u = 0; u < layer.num_units(); ++u) {
      const int states = layer.num_unit_states(u);
      if (states >= 2) arch.unit_states.push_back(states);
      planes += layer.activation == Activation::kMax ? states * (states - 1) / 2 : states - 1;
    }
    hyperplanes.push_back(planes);
    plain = plain && layer.activation != Activation::kMax && layer.num_pattern_entries() == layer.num_rows();
  });
  if (!plain) {
    arch.outputs = std::move(outputs);
    arch.hyperplanes = std::move(hyperplanes);
  }
  if (std::all_of(arch.unit_states.begin(), arch.unit_states.end(), [](int k) { return k == 2; })) arch.unit_states.clear();
  return arch;
}

const char* bound_kind_name(Bound::Kind kind) {
  switch (kind) {
    case Bound::Kind::kUpper: return "upper";
    case Bound::Kind::kLower: return "lower";
    case Bound::Kind::kExact: return "exact max";
    case Bound::Kind::kExpectation: return "expectation";
    case Bound::Kind::kAsymptotic: return "asymptotic";
  }
  return "?";
}

namespace {

mpz_class binomial(long n, long k) {
  if (k < 0 || k > n) return 0;
  mpz_class out;
  mpz_bin_uiui(out.get_mpz_t(), static_cast<unsigned long>(n), static_cast<unsigned long>(k));
  return out;
}

// sum_{j=0}^{d} C(n, j): regions of n hyperplanes in general position in R^d (Zaslavsky 1975).
mpz_class zaslavsky(long n, long d) {
  mpz_class sum = 0;
  for (long j = 0; j <= std::min(n, d); ++j) sum += binomial(n, j);
  return sum;
}

double log10_of(const mpz_class& v) {
  if (v <= 0) return -INFINITY;
  long exponent = 0;
  const double mantissa = mpz_get_d_2exp(&exponent, v.get_mpz_t());
  return std::log10(mantissa) + exponent * std::log10(2.0);
}

Bound make(std::string id, std::string name, Bound::Kind kind, const mpz_class& value, bool verified = true) {
  Bound b;
  b.id = std::move(id);
  b.name = std::move(name);
  b.kind = kind;
  b.value = value.get_str();
  b.log10 = log10_of(value);
  b.verified = verified;
  return b;
}

Bound not_applicable(std::string id, std::string name, Bound::Kind kind, std::string reason, bool verified = true) {
  Bound b;
  b.id = std::move(id);
  b.name = std::move(name);
  b.kind = kind;
  b.applies = false;
  b.reason = std::move(reason);
  b.verified = verified;
  return b;
}

// Serra, Tjandraatmadja, Ramalingam 2018, Theorem 1, as the recursion
//   R(l, d) = sum_{j=0}^{min(s_l, d)} C(s_l, j) R(l+1, min(d, next_dim(l, j))),  R(L+1, .) = 1,
// where s_l neurons split and a piece with j of them inactive leaves at most next_dim(l, j) dimensions.
// Plain Thm 1: s_l = n_l, next_dim = n_l - j. With ranks: the sum also stops at rank(W^l) and the
// dimension is capped by it (the side note after Lemma 4; the cap as in Cai et al. 2023's ub.py).
mpz_class serra_recursion(int n0, const std::vector<int>& splitting, const std::function<int(int, int)>& next_dim,
                          const std::vector<int>& caps) {
  const int num_layers = static_cast<int>(splitting.size());
  std::map<std::pair<int, int>, mpz_class> memo;
  std::function<mpz_class(int, int)> r = [&](int l, int d) -> mpz_class {
    if (l == num_layers) return 1;
    const auto key = std::make_pair(l, d);
    if (auto it = memo.find(key); it != memo.end()) return it->second;
    mpz_class sum = 0;
    const int top = std::min({splitting[l], d, caps[l]});
    for (int j = 0; j <= top; ++j)
      sum += binomial(splitting[l], j) * r(l + 1, std::min({d, next_dim(l, j), caps[l]}));
    memo[key] = sum;
    return sum;
  };
  return r(0, n0);
}

// One region per activation pattern: 2^N, or the product of the units' state counts.
Bound trivial_bound(const Architecture& arch) {
  mpz_class product;
  if (arch.unit_states.empty()) {
    mpz_ui_pow_ui(product.get_mpz_t(), 2, static_cast<unsigned long>(arch.num_neurons()));
    return make("trivial", "2^N (one region per activation pattern)", Bound::Kind::kUpper, product);
  }
  product = 1;
  for (int k : arch.unit_states) product *= k;
  return make("trivial", "product of the units' state counts (one region per activation pattern)", Bound::Kind::kUpper,
              product);
}

// Networks with linear rows (skip connections) or Max units: a layer's output dimension is no longer
// bounded by its number of active neurons, which the ReLU theory (Montufar, Serra et al.) rests on.
// What still holds: one region per pattern, and the arrangement argument layer by layer. On each
// region of the layers before l, layer l's breakpoints are H_l hyperplanes pulled back through an
// affine map whose image has dimension at most d_l = min(n0, outputs of the layers before), so they
// cut it into at most sum_{j <= d_l} C(H_l, j) pieces (Zaslavsky 1975). A Max unit of k rows has
// k(k-1)/2 breakpoint hyperplanes z_i = z_j (Montufar et al. 2014 count maxout units this way).
std::vector<Bound> graph_bounds(const Architecture& arch) {
  const int n0 = arch.input_dim;
  const int num_layers = static_cast<int>(arch.widths.size());
  const std::string why = "needs a plain ReLU network (this one has linear rows or Max units, which carry "
                          "dimensions past a layer's active neurons)";
  std::vector<Bound> out;
  if (num_layers == 1)
    out.push_back(make("zaslavsky", "Zaslavsky 1975 over the breakpoint hyperplanes (one hidden layer; k(k-1)/2 per Max unit)",
                       Bound::Kind::kUpper, zaslavsky(arch.hyperplanes[0], n0)));
  else
    out.push_back(not_applicable("zaslavsky", "Zaslavsky 1975 (one hidden layer)", Bound::Kind::kUpper,
                                 "needs exactly one hidden layer (this has " + std::to_string(num_layers) + ")"));
  out.push_back(trivial_bound(arch));
  {
    mpz_class prod = 1;
    int d = n0;
    for (int l = 0; l < num_layers; ++l) {
      prod *= zaslavsky(arch.hyperplanes[l], d);
      d = std::min(d, arch.outputs[l]);
    }
    out.push_back(make("arrangement_product",
                       "Layer-wise arrangements: prod_l sum_{j<=d_l} C(H_l, j), H_l breakpoint hyperplanes "
                       "(k(k-1)/2 per Max unit), d_l = min(n0, outputs before) (upper)",
                       Bound::Kind::kUpper, prod));
  }
  out.push_back(not_applicable("montufar2017_upper", "Montufar 2017 (upper)", Bound::Kind::kUpper, why));
  out.push_back(not_applicable("serra2018_upper", "Serra et al. 2018, Thm 1 (upper)", Bound::Kind::kUpper, why));
  out.push_back(not_applicable("serra2018_upper_rank", "Serra et al. 2018, Thm 1 with rank(W^l) (upper)",
                               Bound::Kind::kUpper, why));
  out.push_back(not_applicable("weight_aware_upper", "Weight-aware: Thm 1 over unstable neurons only (upper)",
                               Bound::Kind::kUpper, why, false));
  out.push_back(not_applicable("montufar2014_lower", "Montufar et al. 2014 (lower bound on the maximum)",
                               Bound::Kind::kLower, why));
  out.push_back(not_applicable("serra2018_lower", "Serra et al. 2018, Thm 6 (lower bound on the maximum)",
                               Bound::Kind::kLower, why));
  out.push_back(not_applicable("serra2018_n0_1", "Serra et al. 2018, Thm 5 (n0 = 1: the maximum exactly)",
                               Bound::Kind::kExact, why));
  out.push_back(not_applicable("raghu2017", "Raghu et al. 2017, O(prod n_l^n0) (asymptotic order)",
                               Bound::Kind::kAsymptotic, why, false));
  out.push_back(not_applicable("hanin_rolnick2019", "Hanin & Rolnick 2019, N^n0/n0! (expected count at initialisation)",
                               Bound::Kind::kExpectation, why, false));
  return out;
}

}  // namespace

std::vector<Bound> region_bounds(const Architecture& arch) {
  const int n0 = arch.input_dim;
  const std::vector<int>& n = arch.widths;
  const int num_layers = static_cast<int>(n.size());
  const int total = arch.num_neurons();
  std::vector<Bound> out;
  const std::vector<int> no_caps(num_layers, 1 << 30);
  if (num_layers == 0) {  // an affine network: one region, whatever the weights
    out.push_back(make("trivial", "2^N (one region per activation pattern)", Bound::Kind::kUpper, 1));
    out.back().reason = "no hidden layer: the network is affine";
    return out;
  }

  if (!arch.is_plain()) return graph_bounds(arch);

  // Zaslavsky: one hidden layer.
  if (num_layers == 1)
    out.push_back(make("zaslavsky", "Zaslavsky 1975 (one hidden layer; exact max, reached in general position)",
                       Bound::Kind::kUpper, zaslavsky(n[0], n0)));
  else
    out.push_back(not_applicable("zaslavsky", "Zaslavsky 1975 (one hidden layer)", Bound::Kind::kUpper,
                                 "needs exactly one hidden layer (this has " + std::to_string(num_layers) + ")"));

  out.push_back(trivial_bound(arch));

  // Montufar 2017: prod_l sum_{j<=d_l} C(n_l, j), d_l = min(n0, n1..nl).
  {
    mpz_class prod = 1;
    int d = n0;
    for (int l = 0; l < num_layers; ++l) {
      d = std::min(d, n[l]);
      prod *= zaslavsky(n[l], d);
    }
    out.push_back(make("montufar2017_upper", "Montufar 2017 (upper)", Bound::Kind::kUpper, prod));
  }

  // Serra et al. 2018, Theorem 1.
  out.push_back(make("serra2018_upper", "Serra et al. 2018, Thm 1 (upper)", Bound::Kind::kUpper,
                     serra_recursion(n0, n, [&](int l, int j) { return n[l] - j; }, no_caps)));

  // Rank-tightened Thm 1, when the weights are known.
  if (static_cast<int>(arch.ranks.size()) == num_layers)
    out.push_back(make("serra2018_upper_rank", "Serra et al. 2018, Thm 1 with rank(W^l) (upper, from the weights)",
                       Bound::Kind::kUpper, serra_recursion(n0, n, [&](int l, int j) { return n[l] - j; }, arch.ranks)));
  else
    out.push_back(not_applicable("serra2018_upper_rank", "Serra et al. 2018, Thm 1 with rank(W^l) (upper)",
                                 Bound::Kind::kUpper, "needs the weights (give a model file)"));

  // Weight-aware: stable neurons do not split. A stably inactive neuron outputs 0, so it adds no
  // dimension either; a stably active one passes its dimension on. Following the proof of Thm 1 with
  // only the s_l = n_l - I_l - A_l unstable hyperplanes: a piece with j of them inactive has at most
  // A_l + s_l - j active units, hence at most that many dimensions after layer l.
  if (static_cast<int>(arch.stably_inactive.size()) == num_layers && static_cast<int>(arch.stably_active.size()) == num_layers) {
    std::vector<int> unstable(num_layers);
    for (int l = 0; l < num_layers; ++l) unstable[l] = n[l] - arch.stably_inactive[l] - arch.stably_active[l];
    const std::vector<int>& caps = static_cast<int>(arch.ranks.size()) == num_layers ? arch.ranks : no_caps;
    out.push_back(make("weight_aware_upper",
                       "Weight-aware: Thm 1 over unstable neurons only, with rank(W^l) (upper, this network and domain)",
                       Bound::Kind::kUpper,
                       serra_recursion(n0, unstable, [&](int l, int j) { return arch.stably_active[l] + unstable[l] - j; }, caps),
                       false));
    out.back().reason = "our reading of Serra & Ramalingam 2020 (their exact index set is unconfirmed); proof as Thm 1";
  } else {
    out.push_back(not_applicable("weight_aware_upper", "Weight-aware: Thm 1 over unstable neurons only (upper)",
                                 Bound::Kind::kUpper, "needs a model and a domain (stable neurons)", false));
  }

  // Lower bounds on the maximal number of regions over all weights.
  const bool all_at_least_n0 = std::all_of(n.begin(), n.end(), [&](int w) { return w >= n0; });
  if (all_at_least_n0) {
    mpz_class prod = 1;
    for (int l = 0; l + 1 < num_layers; ++l) {
      mpz_class f;
      mpz_ui_pow_ui(f.get_mpz_t(), static_cast<unsigned long>(n[l] / n0), static_cast<unsigned long>(n0));
      prod *= f;
    }
    out.push_back(make("montufar2014_lower", "Montufar et al. 2014 (lower bound on the maximum)", Bound::Kind::kLower,
                       prod * zaslavsky(n.back(), n0)));
  } else {
    out.push_back(not_applicable("montufar2014_lower", "Montufar et al. 2014 (lower bound on the maximum)",
                                 Bound::Kind::kLower, "needs every width n_l >= n0 = " + std::to_string(n0)));
  }
  const bool all_at_least_3n0 = std::all_of(n.begin(), n.end(), [&](int w) { return w >= 3 * n0; });
  if (all_at_least_3n0) {
    mpz_class prod = 1;
    for (int l = 0; l + 1 < num_layers; ++l) {
      mpz_class f;
      mpz_ui_pow_ui(f.get_mpz_t(), static_cast<unsigned long>(n[l] / n0 + 1), static_cast<unsigned long>(n0));
      prod *= f;
    }
    out.push_back(make("serra2018_lower", "Serra et al. 2018, Thm 6 (lower bound on the maximum)", Bound::Kind::kLower,
                       prod * zaslavsky(n.back(), n0)));
  } else {
    out.push_back(not_applicable("serra2018_lower", "Serra et al. 2018, Thm 6 (lower bound on the maximum)",
                                 Bound::Kind::kLower, "needs every width n_l >= 3 n0 = " + std::to_string(3 * n0)));
  }
  const bool all_at_least_3 = std::all_of(n.begin(), n.end(), [](int w) { return w >= 3; });
  if (n0 == 1 && all_at_least_3) {
    mpz_class prod = 1;
    for (int w : n) prod *= w + 1;
    out.push_back(make("serra2018_n0_1", "Serra et al. 2018, Thm 5 (n0 = 1: the maximum exactly)", Bound::Kind::kExact, prod));
  } else {
    out.push_back(not_applicable("serra2018_n0_1", "Serra et al. 2018, Thm 5 (n0 = 1: the maximum exactly)", Bound::Kind::kExact,
                                 n0 != 1 ? "needs input dimension 1" : "needs every width n_l >= 3"));
  }

  // Raghu et al. 2017: O(prod_l n_l^{n0}) -- the order only, not a number of regions.
  {
    mpz_class prod = 1;
    for (int w : n) {
      mpz_class f;
      mpz_ui_pow_ui(f.get_mpz_t(), static_cast<unsigned long>(w), static_cast<unsigned long>(n0));
      prod *= f;
    }
    out.push_back(make("raghu2017", "Raghu et al. 2017, O(prod n_l^n0) (asymptotic order, constants unknown)",
                       Bound::Kind::kAsymptotic, prod, false));
    out.back().reason = "asymptotic: the value is the order term without its constant, not a bound";
  }

  // Hanin & Rolnick 2019: N^{n0} / n0! regions per unit volume expected at initialisation.
  {
    mpz_class power;
    mpz_ui_pow_ui(power.get_mpz_t(), static_cast<unsigned long>(total), static_cast<unsigned long>(n0));
    mpz_class factorial;
    mpz_fac_ui(factorial.get_mpz_t(), static_cast<unsigned long>(n0));
    const mpq_class ratio(power, factorial);
    Bound b;
    b.id = "hanin_rolnick2019";
    b.name = "Hanin & Rolnick 2019, N^n0/n0! (expected count at initialisation, per unit volume; not a bound)";
    b.kind = Bound::Kind::kExpectation;
    b.log10 = log10_of(power) - log10_of(factorial);
    if (b.log10 < 15) {
      std::ostringstream text;
      text.precision(static_cast<int>(b.log10) + 4);
      text << ratio.get_d();
      b.value = text.str();
    } else {
      b.value = mpz_class(power / factorial).get_str();
    }
    b.reason = "an expectation for random networks at initialisation, not a bound";
    out.push_back(b);
  }
  return out;
}

const Bound* tightest_upper_bound(const std::vector<Bound>& bounds) {
  const Bound* best = nullptr;
  for (const Bound& b : bounds) {
    if (!b.applies || b.kind != Bound::Kind::kUpper) continue;
    if (!best || mpz_class(b.value) < mpz_class(best->value)) best = &b;
  }
  return best;
}

int compare_count(unsigned long long count, const std::string& value) {
  const mpz_class c(std::to_string(count));
  const mpz_class v(value);
  return c < v ? -1 : (c > v ? 1 : 0);
}

std::vector<Bound> model_bounds(const Network& net, const Domain& domain) {
  return model_bounds(net, neuron_states_by_intervals(net, domain));
}

std::vector<Bound> model_bounds(const Network& net, const NeuronStates& states) {
  Architecture arch = Architecture::of(net);
  count_stable(states, arch.stably_inactive, arch.stably_active);
  return region_bounds(arch);
}

void check_against_bounds(std::uint64_t count, const std::vector<Bound>& bounds) {
  for (const Bound& b : bounds)
    if (b.applies && b.kind == Bound::Kind::kUpper && compare_count(count, b.value) > 0)
      throw std::logic_error("the count " + std::to_string(count) + " exceeds the proven upper bound " + b.value + " (" +
                             b.name + "): this is a bug in relutope, please report it with the model and the command");
}

}  // namespace relutope
