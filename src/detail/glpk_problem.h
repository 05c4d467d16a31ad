#pragma once
// A GLPK problem object. Private to src/.
//
// GLPK keeps one environment per thread and frees it only in glp_free_env(). relutope's helper threads
// (detail/helper_threads.h) end when the thread that made them does, so the environment of every thread
// that makes a problem is freed when that thread ends; without it each helper's environment leaked
// (LeakSanitizer: 5,296 bytes from glp_init_env per helper thread that had run an LP).
#include <glpk.h>

#include <memory>

namespace relutope::detail {

struct GlpkProblemDeleter {
  void operator()(glp_prob* problem) const { glp_delete_prob(problem); }
};
using GlpkProblem = std::unique_ptr<glp_prob, GlpkProblemDeleter>;

/// A new, empty problem. Every problem a thread makes must be deleted before that thread ends.
GlpkProblem make_glpk_problem();

}  // namespace relutope::detail
