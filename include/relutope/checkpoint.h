#pragma once
#include <cstdint>
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

}  // namespace relutope
