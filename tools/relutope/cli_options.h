#pragma once
// Command-line parsing: Boost.Program_options fills plain option structs; the commands turn them
// into library calls.
#include <boost/program_options.hpp>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "relutope/enumerate.h"

namespace relutope::cli {

/// Where a command runs: a box, an H-polytope from a file, or a slice through data points.
struct DomainOptions {
  std::string box;     // "lo:hi" or "lo0:hi0,lo1:hi1,..."
  std::string domain;  // H-polytope JSON file
  std::string points;  // CSV or .npy, one point per row
  std::string plane;   // "i,j,k": rows of `points`
  std::string line;    // "i,j": rows of `points`
  std::string segment;  // "t0,t1": the part of the --line segment (default 0,1)
  std::string plane_region = "triangle";  // or "box"
  // --plane-scale: NaN when not given (box: 1.5; triangle: 1, the whole triangle)
  double plane_scale = std::numeric_limits<double>::quiet_NaN();
};
void add_domain_options(boost::program_options::options_description& desc, DomainOptions& out);

/// The options of every command that enumerates regions (count, export, neurons, stats, study, bench),
/// declared once by add_enumeration_options so that they are spelled, defaulted and described alike.
struct EnumerationFlags {
  int threads = 0;            // --threads: 0 = all cores
  std::string engine = "auto";  // --engine
  double tolerance = 1e-9;    // --tolerance: relative, as EnumerateOptions::tolerance
  bool quiet = false;         // --quiet: no progress or summary on stderr
};
void add_enumeration_options(boost::program_options::options_description& desc, EnumerationFlags& out);

/// The options of the commands whose runs can be long and stopped (count, export): limits and
/// checkpoints, declared once by add_long_run_options.
struct LongRunFlags {
  double time_limit = 0;          // --time-limit SECONDS (0 = none)
  std::int64_t max_regions = 0;   // --max-regions N (0 = none); signed, so that -5 is refused, not wrapped
  std::string checkpoint;         // --checkpoint FILE
  double checkpoint_every = 30;   // --checkpoint-every SECONDS
  std::string resume;             // --resume FILE
  std::int64_t tasks = 0;         // --tasks N (EnumerateOptions::min_tasks; 0 = the default)
};
void add_long_run_options(boost::program_options::options_description& desc, LongRunFlags& out);

struct CountOptions {
  std::string model;
  DomainOptions where;
  EnumerationFlags run;
  LongRunFlags limits;
  bool exact = false;
  bool json = false;
  bool verbose = false;
};

struct EstimateCliOptions {
  std::string model;
  DomainOptions where;
  EnumerationFlags run;
  int probes = 10000;
  int strata = 0;
  double time_budget = 10;
  std::uint64_t seed = 0;
  bool json = false;
};

struct BoundsOptions {
  std::string model;  // either a model ...
  std::string arch;   // ... or an architecture "n0,n1,...,nL"
  DomainOptions where;
  bool json = false;
  bool full = false;  // print every digit
};

struct NeuronsOptions {
  std::string model;
  DomainOptions where;
  EnumerationFlags run;
  int samples = 100000;
  LongRunFlags limits;  // --time-limit only
  bool json = false;
};

struct ExportOptions {
  std::string model;
  DomainOptions where;
  EnumerationFlags run;
  LongRunFlags limits;
  std::string jsonl, svg, png, off, ply, obj;
  std::string fields;  // comma-separated subset of the JSONL fields
  std::string color = "region";
  std::string class_names;  // comma-separated legend names, one per class
  int size = 800;
  bool json = false;  // --json: a summary on stdout
};

struct StatsOptions {
  std::string model;
  DomainOptions where;
  EnumerationFlags run;
  bool json = false;
};

struct StudyOptions {
  int input_dim = 2;
  int neurons = 0;         // with depths: a fixed neuron budget split evenly over the layers
  std::string depths;      // "1,2,3"
  std::string widths;      // "8,16,32" with depth
  int depth = 0;
  std::string archs;       // "1x16x16,2x16x16": explicit hidden widths
  std::vector<std::string> models;  // trained checkpoints instead of random networks
  int seeds = 5;
  int first_seed = 0;
  std::string init = "he";
  double bias_std = 1e-3;
  std::string out = "study";
  EnumerationFlags run;
  DomainOptions where;
};

struct BenchOptions {
  EnumerationFlags run;
  int repeat = 5;
  std::string only;  // run only the case with this name
  bool exact = false;  // also time the certification in exact arithmetic
  bool json = false;
};

/// Rewrites "--box -1:1" as "--box=-1:1" for every option that takes a value, so that values
/// starting with a minus sign are not mistaken for options (a known Program_options trap).
std::vector<std::string> join_negative_values(const std::vector<std::string>& args,
                                              const boost::program_options::options_description& desc);

/// Parses the arguments after "count". Returns false (after printing help) when --help was given.
/// @throws boost::program_options::error on bad usage
bool parse_count(const std::vector<std::string>& args, CountOptions& out);
bool parse_bench(const std::vector<std::string>& args, BenchOptions& out);
bool parse_estimate(const std::vector<std::string>& args, EstimateCliOptions& out);
bool parse_bounds(const std::vector<std::string>& args, BoundsOptions& out);
bool parse_neurons(const std::vector<std::string>& args, NeuronsOptions& out);
bool parse_export(const std::vector<std::string>& args, ExportOptions& out);
bool parse_stats(const std::vector<std::string>& args, StatsOptions& out);
bool parse_study(const std::vector<std::string>& args, StudyOptions& out);

/// The library options for --threads, --engine and --tolerance (counting only: no geometry).
/// @throws InputError naming the flag for a bad value
EnumerateOptions to_enumerate_options(const EnumerationFlags& flags);

int run_count(const CountOptions& options);
int run_bench(const BenchOptions& options);
int run_estimate(const EstimateCliOptions& options);
int run_bounds(const BoundsOptions& options);
int run_neurons(const NeuronsOptions& options);
int run_export(const ExportOptions& options);
int run_stats(const StatsOptions& options);
int run_study(const StudyOptions& options);

}  // namespace relutope::cli
