#pragma once
// Pieces the commands share: choosing the domain, the progress line, formatting numbers.
#include <array>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_options.h"
#include "relutope/bounds.h"
#include "relutope/checkpoint.h"
#include "relutope/counting_domain.h"
#include "relutope/domain.h"
#include "relutope/network.h"
#include "relutope/slice.h"

namespace relutope::cli {

/// The network and domain a command runs on (relutope/counting_domain.h): --box, --domain,
/// --plane/--line with --points, else the model's own domain, else [-1,1]^d. With --plane or --line
/// the network is composed with the slice (its inputs are slice coordinates).
/// @throws InputError for conflicting or malformed options, naming the option
CountingDomain choose_domain(Network net, const DomainOptions& where);
/// Text to print after the domain: where it came from, or the slice it lives on.
std::string domain_note(const CountingDomain& chosen);

/// The progress of every enumerating command: "N regions so far, R regions/s, T s" on stderr while
/// an enumeration with `options` runs. On a terminal, one line rewritten in place from the first
/// second on; otherwise (a log file, a batch job) a line every kProgressLogSeconds. Off with --quiet.
/// @throws InputError if RELUTOPE_PROGRESS_SECONDS is set but not a positive number
/// Must outlive the enumeration; when destroyed it clears its line and removes itself from `options`.
class Progress {
 public:
  /// Seconds between the lines of a log; the environment variable RELUTOPE_PROGRESS_SECONDS sets another.
  static constexpr double kProgressLogSeconds = 10;
  /// @param[in] resumed  regions found before (a resumed run): counted, but not in the rate
  Progress(EnumerateOptions& options, bool quiet, std::uint64_t resumed = 0);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

 private:
  EnumerateOptions& options_;
  std::chrono::steady_clock::time_point start_;
  std::uint64_t resumed_ = 0;
  double last_logged_ = 0;
  double log_seconds_ = kProgressLogSeconds;
  bool shown_ = false;
};

/// Exit code of a run that stopped early (time limit, region limit, SIGINT, SIGTERM): what it printed
/// is a lower bound.
constexpr int kExitStopped = 5;

/// While it lives: --time-limit, --max-regions and --tasks in `options`, and SIGINT and SIGTERM stop the run
/// through options.stop (a second signal ends the program at once, as without it). Restores the
/// signal handlers and clears options.stop when destroyed.
/// @throws InputError naming --time-limit or --checkpoint-every for a negative or non-finite value
class LongRun {
 public:
  LongRun(EnumerateOptions& options, const LongRunFlags& flags);
  ~LongRun();
  LongRun(const LongRun&) = delete;
  LongRun& operator=(const LongRun&) = delete;

 private:
  EnumerateOptions& options_;
};

/// The checkpoint files of --checkpoint, --checkpoint-every, --resume and --tasks.
CheckpointFiles checkpoint_files(const LongRunFlags& flags);

/// "at least 1,234 regions (stopped: time limit)" or "1,234 regions".
std::string regions_line(const EnumerateStats& stats);
/// Why the run stopped: "time limit", "region limit", "SIGINT", "SIGTERM" (stop_reason_name otherwise).
std::string stop_text(const EnumerateStats& stats);

/// Row numbers "i,j" or "i,j,k" of --points (N of them; whether they exist, on_line and on_plane check).
/// @throws InputError if the text is not N whole numbers
template <std::size_t N>
std::array<Eigen::Index, N> parse_rows(const std::string& text);
/// --segment "t0,t1" (t0 < t1, finite); empty means 0,1.
/// @throws InputError naming --segment
std::pair<double, double> parse_segment(const std::string& text);

/// relutope count --engine segment (segment_command.cpp).
int run_segment_count(const CountOptions& options);
/// Whether count with --engine auto walks the segment: an ONNX model too large for dense layers,
/// counted along --line. Too large without --line, it is an InputError that says to give one.
bool wants_segment_walk(const CountOptions& options);

std::string with_commas(std::uint64_t n);
/// A rough count: "12,345" (rounded) below a million, else "1.23e+07".
std::string approximately(double value);
/// A duration for people: "0.42 s", "12 min", "3.5 h", "4.2 days", "1.2e+10 years".
std::string duration_text(double seconds);
std::string join(const std::vector<int>& values, const char* separator = ",");
nlohmann::ordered_json domain_object(const CountingDomain& chosen);
/// "n inputs -> hidden ... -> m outputs", with the slice if there is one.
std::string network_summary(const CountingDomain& chosen);

}  // namespace relutope::cli
