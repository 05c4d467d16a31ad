#pragma once
// Builds the engine a run uses: one place for enumerate.cpp (counting) and estimate.cpp (probing the
// same search tree). Private to src/.
#include <Eigen/Core>
#include <string>

#include "detail/flat_network.h"
#include "detail/normalized_problem.h"
#include "engines/exact_engine.h"
#include "engines/lp_engine.h"
#include "engines/vertex_engine.h"
#include "relutope/domain.h"
#include "relutope/enumerate.h"
#include "relutope/error.h"
#include "relutope/network.h"

namespace relutope::detail {

/// The threads a run uses: `requested`, or OpenMP's default when it is 0 (1 without OpenMP).
int resolve_threads(int requested);

/// Validates what enumerate_regions is given: network, domain, their dimensions and the options'
/// numbers (tolerance, time limit, tasks, threads).
/// @throws InputError naming the field
void check_enumerate_inputs(const Network& net, const Domain& domain, const EnumerateOptions& options);

/// Where an engine's coordinates u sit in the input (x = centre + scale ⊙ u; the identity for the
/// exact engine, which needs no normalisation), and the depth below which a region is near-degenerate.
struct EngineFrame {
  const Eigen::VectorXd& centre;
  const Eigen::VectorXd& scale;
  double near_degenerate_depth;
};

/// Builds `engine` (resolved, not kAuto) for `net` on `domain` and calls f(engine_object, frame),
/// once, with the engine of its own type (VertexEngine, LpEngine or ExactEngine).
/// @param[in] flat       FlatNetwork(net)
/// @param[in] tolerance  relative, as EnumerateOptions::tolerance
/// @param[in] max_margin_points  as EnumerateOptions::max_margin_points (false: only counting)
/// @throws InputError for the exact engine above 20 inputs; UncertifiedError if the normalised
///         problem does not fit in doubles
template <class F>
void with_engine(const Network& net, const Domain& domain, const FlatNetwork& flat, Engine engine, double tolerance,
                 bool max_margin_points, F&& f) {
  if (engine == Engine::kExact) {
    if (domain.dim() > 20)
      throw InputError("engine exact: the box in dimension " + std::to_string(domain.dim()) + " has too many corners");
    const Eigen::VectorXd origin = Eigen::VectorXd::Zero(domain.dim()), unit = Eigen::VectorXd::Ones(domain.dim());
    const ExactEngine exact_engine(net, domain);
    f(exact_engine, EngineFrame{origin, unit, 0.0});
    return;
  }
  const NormalizedProblem problem = normalize(flat, domain);
  if (!problem.representable)
    throw UncertifiedError("the network's first layer times the domain's size exceeds the range of doubles; "
                           "use engine exact, or a smaller domain");
  const double tolerance_abs = tolerance * problem.domain.diameter();
  const EngineFrame frame{problem.centre, problem.scale, 1000 * tolerance_abs};
  // What floating point cannot decide goes to exact arithmetic, on the network and domain as given.
  const ExactFallback exact(net, domain);
  if (engine == Engine::kVertex) {
    const VertexEngine vertex(problem.flat, problem.domain, tolerance_abs, exact, problem.centre, problem.scale);
    f(vertex, frame);
  } else {
    const LpEngine lp(problem.flat, problem.domain, tolerance_abs, exact, problem.centre, problem.scale,
                      frame.near_degenerate_depth, max_margin_points);
    f(lp, frame);
  }
}

}  // namespace relutope::detail
