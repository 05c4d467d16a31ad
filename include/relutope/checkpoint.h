#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "relutope/domain.h"
#include "relutope/enumerate.h"
#include "relutope/network.h"

namespace relutope {

/// What a run was, as (name, value) pairs in a fixed order: a resumed run must have the same ones.
using RunIdentity = std::vector<std::pair<std::string, std::string>>;

/// A saved run (relutope count/export --checkpoint): what ran and how far it got.
struct Checkpoint {
  RunIdentity identity;  ///< run_identity() and whatever the caller adds (the CLI: command, fields)
  RunState state;        ///< the tasks done and what each contributed (EnumerateOptions::on_checkpoint)
  /// Bytes of output the caller wrote for the done tasks (export --jsonl: the file is cut back to this
  /// length on resume, as the lines after it belong to tasks that are not done); 0 when only counting.
  std::uint64_t output_bytes = 0;
};

/// 16 hex digits that change with any weight, bias, slope, unit size or activation of `net` (FNV-1a
/// over their bytes): two files with the same weights give the same fingerprint, whatever their names.
std::string network_fingerprint(const Network& net);

/// The identity of a run of `net` on `domain` with `options`, in this order: "model"
/// (network_fingerprint), "domain" (Domain::describe and a fingerprint of its exact numbers),
/// "engine" (the one resolve_engine picks), "tolerance" (the shortest text that reads back exactly) and "regions" (what is built:
/// "count" or the geometry asked for). The thread count is not part of it.
/// @param[in] visits  true for the visitor forms (the regions themselves), false when only counting
RunIdentity run_identity(const Network& net, const Domain& domain, const EnumerateOptions& options, bool visits);

/// Writes `checkpoint` to `path` atomically: to path + ".tmp", flushed to disk (fsync), then renamed
/// over `path` and the folder synced, so that `path` holds the old or the new checkpoint, whole,
/// whatever happens (kill -9, power loss). The file is one JSON line and a checksum line.
/// @throws InputError naming the file if it cannot be written
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);

/// Reads a checkpoint that save_checkpoint wrote.
/// @throws InputError naming the file: missing, truncated or corrupted (the checksum does not match),
///         another format or version, an unknown or missing key, a malformed task entry
Checkpoint load_checkpoint(const std::string& path);

/// Checks that a checkpoint read from `path` is of the run about to start.
/// @throws InputError naming the file and every entry that differs, with both values
void check_same_run(const std::string& path, const Checkpoint& saved, const RunIdentity& now);

/// The tasks a run that saves checkpoints is cut into (EnumerateOptions::min_tasks) whatever the
/// thread count, so that it can be resumed with any; the checkpoint records it and a resumed run
/// reuses it. As many as 16 threads get without a checkpoint: the tasks are kept in memory (with the
/// vertex engine, ~11 KB each on 4x96x96x96, growing with the width squared), so more would cost
/// memory for little.
constexpr int kCheckpointTasks = 1024;

/// Where a run saves its checkpoints and what it resumes (the CLI's --checkpoint, --checkpoint-every,
/// --resume and --tasks; Python's count(checkpoint=..., resume=...)).
struct CheckpointFiles {
  std::string checkpoint;         ///< save the run here ("" = no checkpoints)
  double every_seconds = 30;      ///< at most this often (and when the run ends or stops)
  std::string resume;             ///< continue the run saved here ("" = start afresh)
  std::int64_t tasks = 0;         ///< EnumerateOptions::min_tasks asked for (0 = the default)
};

/// Wires a run about to start with `options` to its checkpoint files: reads and checks the checkpoint
/// to resume (it must have `identity`) and sets options.resume and min_tasks; with a checkpoint path,
/// saves the run through options.on_checkpoint. Must outlive the run. A checkpoint written through it
/// resumes through it from the CLI or from Python alike, with any thread count.
class CheckpointedRun {
 public:
  /// @throws InputError naming the file for a missing, damaged or foreign checkpoint, or a checkpoint
  ///         path that cannot be written, or tasks other than those the resumed run was cut into
  CheckpointedRun(EnumerateOptions& options, const CheckpointFiles& files, RunIdentity identity);
  CheckpointedRun(const CheckpointedRun&) = delete;
  CheckpointedRun& operator=(const CheckpointedRun&) = delete;
  bool resumes() const { return resumes_; }
  /// The checkpoint read (valid when resumes()).
  const Checkpoint& resumed() const { return saved_; }
  /// Regions of the tasks done before (for an export, the JSONL lines already written).
  std::uint64_t resumed_regions() const;
  /// For an output file: `sync` flushes it to disk and returns its length, which each checkpoint
  /// records (Checkpoint::output_bytes), after the lines of its done tasks and no other.
  void set_output(std::function<std::uint64_t()> sync) { sync_output_ = std::move(sync); }

 private:
  Checkpoint saved_;
  RunIdentity identity_;
  bool resumes_ = false;
  std::function<std::uint64_t()> sync_output_;
};

}  // namespace relutope
