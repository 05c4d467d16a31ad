#include "detail/glpk_problem.h"

namespace relutope::detail {

GlpkProblem make_glpk_problem() {
  struct ThreadEnvironment {
    ~ThreadEnvironment() { glp_free_env(); }
  };
  // Made before the thread's first problem, so it ends after every thread_local made later; it does
  // nothing where GLPK's environment is not active.
  thread_local ThreadEnvironment environment;
  (void)environment;
  return GlpkProblem(glp_create_prob());
}

}  // namespace relutope::detail
