#include "mpi_session.h"

#include <cstdio>
#include <cstdlib>

#ifdef RELUTOPE_WITH_MPI
#include <mpi.h>
#endif

namespace relutope::cli {

namespace {
int g_rank = 0;
int g_size = 1;
bool g_initialized = false;

// Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE; PMI_SIZE and PMIX_RANK cover MPICH's and Slurm's launchers.
bool started_by_a_launcher() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_SIZE") || std::getenv("PMIX_RANK");
}
}  // namespace

MpiSession::MpiSession(int& argc, char**& argv) {
#ifdef RELUTOPE_WITH_MPI
  if (!started_by_a_launcher()) return;
  int provided = MPI_THREAD_SINGLE;
  if (MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
    std::fprintf(stderr, "relutope: MPI_Init_thread failed\n");
    std::exit(3);
  }
  g_initialized = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  if (provided < MPI_THREAD_SERIALIZED && g_size > 1) {
    if (g_rank == 0) std::fprintf(stderr, "relutope: this MPI gives thread level %d, below MPI_THREAD_SERIALIZED\n", provided);
    MPI_Abort(MPI_COMM_WORLD, 3);
  }
  // What the ranks but 0 would print repeats rank 0's: their standard output goes nowhere.
  if (g_rank != 0 && !std::freopen("/dev/null", "w", stdout)) std::fprintf(stderr, "relutope: cannot silence rank %d\n", g_rank);
#else
  (void)argc;
  (void)argv;
#endif
}

MpiSession::~MpiSession() {
#ifdef RELUTOPE_WITH_MPI
  if (!g_initialized) return;
  std::fflush(stdout);
  std::fflush(stderr);
  MPI_Barrier(MPI_COMM_WORLD);
  MPI_Finalize();
#endif
}

int MpiSession::fail(int code) {
#ifdef RELUTOPE_WITH_MPI
  if (g_initialized && g_size > 1) {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
  }
#endif
  return code;
}

int mpi_rank() { return g_rank; }
int mpi_size() { return g_size; }

}  // namespace relutope::cli
