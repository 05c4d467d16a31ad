#pragma once
// The MPI job the command runs in when started by mpirun (README "Long runs"). Without MPI in the
// build, or outside mpirun, there is one process of rank 0 and nothing here calls MPI.

namespace relutope::cli {

/// Lives for the whole of main(): initialises MPI (MPI_THREAD_SERIALIZED: the library's channel
/// thread makes the MPI calls of a run, one at a time) when the environment says mpirun started this
/// process, so that a plain `relutope ...` never touches MPI; on destruction waits for every rank
/// (rank 0 prints before the others exit, as mpirun ends the job at the first non-zero exit) and
/// finalises it.
class MpiSession {
 public:
  MpiSession(int& argc, char**& argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  /// Ends every rank of the job with `code` (an error on one rank must not leave the others waiting
  /// for it); returns `code` when this process is alone.
  int fail(int code);
};

/// This process's rank and the job's size: 0 and 1 outside an MPI job.
int mpi_rank();
int mpi_size();

}  // namespace relutope::cli
