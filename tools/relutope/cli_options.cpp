#include "cli_options.h"

#include <iostream>

#include "option_values.h"

namespace po = boost::program_options;

namespace relutope::cli {

std::vector<std::string> join_negative_values(const std::vector<std::string>& args, const po::options_description& desc) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const bool long_option = arg.size() > 2 && arg.compare(0, 2, "--") == 0 && arg.find('=') == std::string::npos;
    if (long_option && i + 1 < args.size() && args[i + 1].size() > 1 && args[i + 1][0] == '-' &&
        (std::isdigit(static_cast<unsigned char>(args[i + 1][1])) || args[i + 1][1] == '.')) {
      const po::option_description* option = desc.find_nothrow(arg.substr(2), false);
      if (option && option->semantic()->max_tokens() > 0) {
        out.push_back(arg + "=" + args[++i]);
        continue;
      }
    }
    out.push_back(arg);
  }
  return out;
}

void add_domain_options(po::options_description& desc, DomainOptions& out) {
  desc.add_options()
      ("box", po::value(&out.box),
       "input box: lo:hi for every dimension, or lo0:hi0,lo1:hi1,... one per input "
       "(default: the model's \"domain\" if it has one, else -1:1)")
      ("domain", po::value(&out.domain), "an H-polytope A x <= b from a JSON file {\"A\": [[...]], \"b\": [...]}")
      ("points", po::value(&out.points), "data points, one per row (CSV or .npy), for --plane and --line")
      ("plane", po::value(&out.plane), "i,j,k: count on the 2-D plane through rows i, j, k of --points")
      ("line", po::value(&out.line), "i,j: count along the segment from row i to row j of --points")
      ("segment", po::value(&out.segment),
       "t0,t1: only the part of the --line segment from t0 to t1 (t = 0 at row i, 1 at row j; default 0,1)")
      ("plane-region", po::value(&out.plane_region)->default_value("triangle"),
       "triangle (the three points' triangle) or box (a square around it, see --plane-scale)")
      ("plane-scale", po::value(&out.plane_scale),
       "box: size of the square (default 1.5); triangle: the part s, t >= 0, s + t <= scale of the triangle near the "
       "first point (default 1; below 1 only with the plane walk, --engine segment)");
}

void add_enumeration_options(po::options_description& desc, EnumerationFlags& out) {
  desc.add_options()
      ("threads", po::value(&out.threads)->default_value(0), "threads to use; 0 = all cores")
      ("engine", po::value(&out.engine)->default_value("auto"),
       "auto, vertex (cells with vertices; under auto up to 6 inputs, 8 where vertices or volumes are needed), "
       "lp (LP search; any dimension; no vertices) or exact (rational arithmetic, no tolerance; slow); "
       "count also takes segment (along --line or on --plane through an ONNX graph, without dense layers: for large CNNs)")
      ("tolerance", po::value(&out.tolerance)->default_value(1e-9),
       "relative tolerance: cuts within tolerance x box diagonal of a vertex are decided in exact arithmetic "
       "(counts are exact for any value)")
      ("quiet,q", po::bool_switch(&out.quiet), "no progress line and no summary (the requested output only)");
}

void add_long_run_options(po::options_description& desc, LongRunFlags& out) {
  desc.add_options()
      ("time-limit", po::value(&out.time_limit)->default_value(0),
       "stop after SECONDS and report what was found as a lower bound (exit 5); 0 = no limit")
      ("max-regions", po::value(&out.max_regions)->default_value(0),
       "stop once N regions are found and report a lower bound (exit 5) if there are more; 0 = no limit")
      ("checkpoint", po::value(&out.checkpoint),
       "save the run to FILE every --checkpoint-every seconds and at its end (also when stopped), for --resume")
      ("checkpoint-every", po::value(&out.checkpoint_every)->default_value(30), "seconds between checkpoints")
      ("resume", po::value(&out.resume),
       "continue the run saved in FILE (same model, domain and options; the thread count may differ); give "
       "--checkpoint FILE too to go on saving it")
      ("tasks", po::value(&out.tasks)->default_value(0),
       "cut the search into at least N tasks where it has that many (0: 8 per thread and a tail of smaller ones; "
       "64 per thread, of every rank, under mpirun; 1024 with --checkpoint; a resumed run keeps its checkpoint's)");
}

namespace {

bool parse(const std::vector<std::string>& args, const po::options_description& desc,
           const po::positional_options_description& positional, const char* usage, const char* examples) {
  po::variables_map vm;
  po::store(po::command_line_parser(join_negative_values(args, desc)).options(desc).positional(positional).run(), vm);
  if (vm.count("help")) {
    std::cout << usage << "\n\n" << desc << "\n" << examples;
    return false;
  }
  try {
    po::notify(vm);
  } catch (const po::required_option& e) {
    if (e.get_option_name() == "--model") throw po::error("missing MODEL, the network file (.onnx or .json)");
    throw;
  }
  return true;
}

}  // namespace

bool parse_count(const std::vector<std::string>& args, CountOptions& out) {
  po::options_description desc("Options");
  desc.add_options()
      ("help,h", "show this help")
      ("model", po::value(&out.model)->required(), "network file: .onnx (torch.onnx.export of an MLP) or .json")
      ("exact", po::bool_switch(&out.exact),
       "certify the count in exact rational arithmetic and report what the floating-point pass got wrong (slower)")
      ("json", po::bool_switch(&out.json), "print one JSON object on stdout instead of text")
      ("verbose,v", po::bool_switch(&out.verbose), "echo the options in effect on stderr");
  add_enumeration_options(desc, out.run);
  add_long_run_options(desc, out.limits);
  add_domain_options(desc, out.where);
  po::positional_options_description positional;
  positional.add("model", 1);
  return parse(args, desc, positional,
               "Usage: relutope count MODEL [--box LO:HI[,LO:HI...]] [options]\n\n"
               "Counts the activation regions of a piecewise-linear network inside an input box: the number of\n"
               "activation patterns whose region has positive volume there.\n\n"
               "Long runs: --time-limit, --max-regions, Ctrl-C (SIGINT) and SIGTERM stop the run and print the regions\n"
               "found so far as a lower bound (\"at least N regions\", --json \"complete\": false) with exit code 5;\n"
               "--checkpoint saves the run and --resume continues it to the same count, also after a crash.\n\n"
               "Exit codes: 0 ok, 1 usage, 2 bad input, 3 internal error, 4 cannot certify, 5 stopped early (lower bound).",
               "Examples:\n"
               "  relutope count examples/two_moons.onnx                 # in [-1,1]^2\n"
               "  relutope count model.onnx --box -2:2                   # in [-2,2]^d\n"
               "  relutope count model.onnx --box=-1:1,0:3 --threads 1   # one interval per input\n"
               "  relutope count model.json --json                       # machine-readable\n"
               "  relutope count model.onnx --exact                      # certified in rational arithmetic\n"
               "  relutope count cnn.onnx --points x.csv --plane 0,1,2   # on the triangle through three inputs\n"
               "  relutope count resnet18.onnx --points two.npy --line 0,1 --segment 0,0.001 --engine segment\n"
               "  relutope count resnet18.onnx --points three.npy --plane 0,1,2 --plane-scale 1e-4 --engine segment\n"
               "                                                         # along 0.1% of a segment, any network size\n"
               "  relutope count big.onnx --time-limit 60                # at most a minute; a lower bound if cut short\n"
               "  relutope count big.onnx --max-regions 1000000          # stop at a million\n"
               "  relutope count big.onnx --checkpoint big.ckpt          # saved every 30 s; after a stop or a crash:\n"
               "  relutope count big.onnx --checkpoint big.ckpt --resume big.ckpt\n");
}

bool parse_estimate(const std::vector<std::string>& args, EstimateCliOptions& out) {
  po::options_description desc("Options");
  desc.add_options()
      ("help,h", "show this help")
      ("model", po::value(&out.model)->required(), "network file: .onnx (torch.onnx.export of an MLP) or .json")
      ("probes", po::value(&out.probes)->default_value(10000),
       "random probes (paths down the search tree), at least 2; the interval narrows as 1/sqrt(N)")
      ("strata", po::value(&out.strata)->default_value(0),
       "subtrees at the top of the tree, walked exactly, to spread the probes over: 0 = probes/2 (at most 16384), "
       "1 = Knuth's plain estimator; at most probes/2")
      ("time-budget", po::value(&out.time_budget)->default_value(10),
       "start no probe after SECONDS (two per stratum run); 0 = run all --probes however long they take")
      ("seed", po::value(&out.seed)->default_value(0), "seed of the probes' random choices (same seed, same estimate)")
      ("json", po::bool_switch(&out.json), "print one JSON object on stdout instead of text");
  add_enumeration_options(desc, out.run);
  add_domain_options(desc, out.where);
  po::positional_options_description positional;
  positional.add("model", 1);
  return parse(args, desc, positional,
               "Usage: relutope estimate MODEL [--box LO:HI[,LO:HI...]] [options]\n\n"
               "Estimates the number of regions count would find, and how long it would take, without counting them:\n"
               "Knuth's estimator over the counting engine's search tree, stratified. The top of the tree is walked\n"
               "exactly; each probe then follows one random path from a subtree's root to a region, choosing uniformly\n"
               "among the children at every split, and multiplies the numbers of children. The leaves above plus the\n"
               "subtrees' means are an unbiased estimate of the count, the probes' spread gives a 95% confidence\n"
               "interval, and the measured cost of the nodes on the paths the run time. A small tree is walked whole:\n"
               "the count is then exact.\n"
               "Takes the domain, --engine, --tolerance and --threads of count (the tree depends on the engine).\n\n"
               "Exit codes: 0 ok, 1 usage, 2 bad input, 3 internal error, 4 cannot certify.",
               "Examples:\n"
               "  relutope estimate model.onnx                      # 10000 probes in [-1,1]^d\n"
               "  relutope estimate model.onnx --box -2:2 --probes 100000 --time-budget 0 --json\n"
               "  relutope estimate big.onnx --time-budget 60       # up to 10000 probes, started within a minute\n");
}

bool parse_bench(const std::vector<std::string>& args, BenchOptions& out) {
  po::options_description desc("Options");
  desc.add_options()
      ("help,h", "show this help")
      ("repeat", po::value(&out.repeat)->default_value(5), "runs per case; the median time is reported (and the best)")
      ("only", po::value(&out.only), "run only the cases with these names, comma-separated (e.g. 3x32x32x32,he5x10x10)")
      ("exact", po::bool_switch(&out.exact), "also time count --exact (rational arithmetic; slow on big cases)")
      ("json", po::bool_switch(&out.json), "print one JSON object per case");
  add_enumeration_options(desc, out.run);
  po::positional_options_description positional;
  return parse(args, desc, positional,
               "Usage: relutope bench [options]\n\n"
               "Counts the regions of fixed seeded random networks (PyTorch's default initialisation; the he* cases\n"
               "He-normal weights and N(0, 0.1^2) biases) and reports regions, the median and best seconds of the\n"
               "runs and regions per second at the median; BENCHMARKS.md records the results.",
               "Examples:\n"
               "  relutope bench\n"
               "  relutope bench --only 3x32x32x32 --threads 1\n"
               "  relutope bench --only he4x12x12x12,he5x10x10 --exact --repeat 1\n");
}

bool parse_bounds(const std::vector<std::string>& args, BoundsOptions& out) {
  po::options_description desc("Options");
  desc.add_options()
      ("help,h", "show this help")
      ("model", po::value(&out.model), "network file (.onnx or .json): adds the bounds that use its weights")
      ("arch", po::value(&out.arch), "architecture instead of a model: input dim, then hidden widths, e.g. 2,16,16,16")
      ("full", po::bool_switch(&out.full), "print every digit of large numbers (--json always does)")
      ("json", po::bool_switch(&out.json), "print one JSON object on stdout instead of the table");
  add_domain_options(desc, out.where);
  po::positional_options_description positional;
  positional.add("model", 1);
  if (!parse(args, desc, positional,
             "Usage: relutope bounds (MODEL | --arch N0,N1,...,NL) [options]\n\n"
             "Prints every known bound on the number of linear regions for an architecture, with its validity\n"
             "conditions: Zaslavsky, 2^N, Montufar 2014 (lower), Montufar 2017, Serra et al. 2018 (upper, rank-tightened,\n"
             "lower, n0 = 1 exact), a weight-aware bound from stable neurons, Raghu 2017 (order) and Hanin & Rolnick\n"
             "2019 (expectation). Numbers are exact integers.",
             "Examples:\n"
             "  relutope bounds --arch 2,16,16,16\n"
             "  relutope bounds --arch 784,11,11 --json\n"
             "  relutope bounds examples/two_moons.onnx --box -1:1\n"))
    return false;
  if (out.model.empty() == out.arch.empty()) throw po::error("give either MODEL or --arch");
  return true;
}

bool parse_neurons(const std::vector<std::string>& args, NeuronsOptions& out) {
  po::options_description desc("Options");
  desc.add_options()
      ("help,h", "show this help")
      ("model", po::value(&out.model)->required(), "network file: .onnx or .json")
      ("samples", po::value(&out.samples)->default_value(100000),
       "uniform samples for the volume shares where exact volumes are not computed (LP engine)")
      ("time-limit", po::value(&out.limits.time_limit)->default_value(0),
       "stop after SECONDS (0 = none) and report on the regions found so far (exit code 5); SIGINT and SIGTERM too")
      ("json", po::bool_switch(&out.json), "print one JSON object on stdout instead of the table");
  add_enumeration_options(desc, out.run);
  add_domain_options(desc, out.where);
  po::positional_options_description positional;
  positional.add("model", 1);
  return parse(args, desc, positional,
               "Usage: relutope neurons MODEL [--box LO:HI[,...]] [options]\n\n"
               "The dying-ReLU report: for every neuron, in how many regions it is active and on what share of the\n"
               "domain's volume; which neurons are dead (never active) or stably active (never inactive) over the\n"
               "domain, and the fraction of dead neurons per layer. States, region counts and (up to 8 inputs) volume\n"
               "shares come from the exact enumeration; in higher dimension volume shares are sampled.\n\n"
               "Graphs too large for dense layers (or --engine segment) are walked on --plane or --line, as count does;\n"
               "the report then lists the units whose state changes and counts the others per layer.",
               "Examples:\n"
               "  relutope neurons examples/two_moons.onnx\n"
               "  relutope neurons resnet18.onnx --points three.npy --plane 0,1,2 --plane-scale 1e-5 --engine segment\n"
               "  relutope neurons model.onnx --box 0:1 --json\n");
}

bool parse_export(const std::vector<std::string>& args, ExportOptions& out) {
  po::options_description desc("Options");
  desc.add_options()
      ("help,h", "show this help")
      ("model", po::value(&out.model)->required(), "network file: .onnx or .json")
      ("jsonl", po::value(&out.jsonl), "write one JSON object per region and line to this file ('-' = stdout)")
      ("fields", po::value(&out.fields),
       "JSONL fields to write, comma-separated (default all): id, pattern, interior_point, volume, centroid, "
       "chebyshev_center, inradius, vertices, halfspaces, map, depth (through the walk, --engine segment: id, pattern, "
       "pattern_changes, interior_point, volume, centroid, vertices, map)")
      ("json", po::bool_switch(&out.json), "print a JSON summary (count, engine, time, files) on stdout")
      ("svg", po::value(&out.svg), "2 inputs: draw the partition as SVG")
      ("png", po::value(&out.png), "2 inputs: draw the partition as PNG")
      ("color", po::value(&out.color)->default_value("region"), "fill by region, output or class")
      ("class-names", po::value(&out.class_names),
       "with --color class: the legend's name for each class, comma-separated (default class 0, class 1, ...)")
      ("size", po::value(&out.size)->default_value(800), "picture size in pixels (longer side of the plot)")
      ("off", po::value(&out.off), "3 inputs: every region as a closed cell, OFF with a colour per cell")
      ("ply", po::value(&out.ply), "3 inputs: the same as ASCII PLY with a 'cell' face property")
      ("obj", po::value(&out.obj), "3 inputs: the same as OBJ with one group per cell");
  add_enumeration_options(desc, out.run);
  add_long_run_options(desc, out.limits);
  add_domain_options(desc, out.where);
  po::positional_options_description positional;
  positional.add("model", 1);
  if (!parse(args, desc, positional,
             "Usage: relutope export MODEL [--box ...] [--jsonl FILE] [--svg FILE] [--png FILE] [--off|--ply|--obj FILE]\n\n"
             "Writes the regions themselves: JSON lines (pattern, facets with their origin and the neighbour across,\n"
             "vertices, volume, centroid, Chebyshev centre, the affine map), a picture of a 2-D partition, or the\n"
             "cells of a 3-D partition as a mesh. Regions are streamed: JSONL memory does not grow with the count.\n\n"
             "--time-limit, --max-regions, Ctrl-C (SIGINT) and SIGTERM stop the run: the files hold the regions found\n"
             "so far, in order, and the exit code is 5. With --jsonl FILE, --checkpoint saves the run and --resume\n"
             "continues it: FILE is cut back to the last checkpoint and completed, equal to an uninterrupted run's.\n\n"
             "Graphs too large for dense layers (or --engine segment) are walked on --plane (JSONL, PNG, SVG) or\n"
             "--line (JSONL: each piece an interval of t), as count does.",
             "Examples:\n"
             "  relutope export resnet18.onnx --points three.npy --plane 0,1,2 --plane-scale 1e-5 --engine segment \\\n"
             "      --jsonl regions.jsonl --png plane.png --color class\n"
             "  relutope export examples/two_moons.onnx --svg moons.svg --png moons.png --color class\n"
             "  relutope export model.onnx --box -1:1 --jsonl regions.jsonl --fields id,pattern,volume\n"
             "  relutope export model3d.json --off cells.off\n"
             "  relutope export big.onnx --jsonl r.jsonl --max-regions 1000   # the first 1000 regions\n"
             "  relutope export big.onnx --jsonl r.jsonl --checkpoint r.ckpt   # then, after a stop or a crash:\n"
             "  relutope export big.onnx --jsonl r.jsonl --checkpoint r.ckpt --resume r.ckpt\n"))
    return false;
  if (out.jsonl.empty() && out.svg.empty() && out.png.empty() && out.off.empty() && out.ply.empty() && out.obj.empty())
    throw po::error("nothing to write: give --jsonl, --svg, --png, --off, --ply or --obj");
  return true;
}

bool parse_stats(const std::vector<std::string>& args, StatsOptions& out) {
  po::options_description desc("Options");
  desc.add_options()
      ("help,h", "show this help")
      ("model", po::value(&out.model)->required(), "network file: .onnx or .json")
      ("json", po::bool_switch(&out.json), "print one JSON object with histograms on stdout");
  add_enumeration_options(desc, out.run);
  add_domain_options(desc, out.where);
  po::positional_options_description positional;
  positional.add("model", 1);
  return parse(args, desc, positional,
               "Usage: relutope stats MODEL [--box ...] [--json]\n\n"
               "Distribution of region volumes, inradii, facet and vertex counts (min/median/max and histograms), and\n"
               "the share of the domain's volume the regions cover, which must be 100% up to rounding: a check that\n"
               "the partition is complete. Needs the vertex engine (up to 8 inputs).",
               "Examples:\n"
               "  relutope stats examples/two_moons.onnx\n"
               "  relutope stats model.onnx --box 0:1 --json\n");
}

bool parse_study(const std::vector<std::string>& args, StudyOptions& out) {
  po::options_description desc("Options");
  desc.add_options()
      ("help,h", "show this help")
      ("input-dim", po::value(&out.input_dim)->default_value(2), "inputs of the random networks")
      ("neurons", po::value(&out.neurons), "with --depths: total hidden neurons, split evenly over the layers")
      ("depths", po::value(&out.depths), "depth sweep, e.g. 1,2,3,4,6 (needs --neurons)")
      ("widths", po::value(&out.widths), "width sweep, e.g. 4,8,16,32 (needs --depth)")
      ("depth", po::value(&out.depth), "hidden layers for --widths")
      ("archs", po::value(&out.archs), "explicit hidden widths, e.g. 1x16x16,2x16x16,4x16x16 (x axis: first width)")
      ("models", po::value(&out.models)->multitoken(), "trained checkpoints (.onnx/.json) instead of random networks")
      ("seeds", po::value(&out.seeds)->default_value(5), "random networks per point")
      ("first-seed", po::value(&out.first_seed)->default_value(0), "seed of the first network")
      ("init", po::value(&out.init)->default_value("he"), "he (W ~ N(0, 2/fan_in)) or torch (uniform +-1/sqrt(fan_in))")
      ("bias-std", po::value(&out.bias_std)->default_value(1e-3), "standard deviation of the biases under --init he")
      ("out", po::value(&out.out)->default_value("study"), "output folder: study.csv, regions.svg, regions.png");
  add_enumeration_options(desc, out.run);
  add_domain_options(desc, out.where);
  po::positional_options_description positional;
  if (!parse(args, desc, positional,
             "Usage: relutope study (--depths D,.. --neurons N | --widths W,.. --depth L | --archs A,.. | --models F..) [options]\n\n"
             "Counts regions over a sweep of networks and writes a tidy CSV (one row per network and seed) and a plot\n"
             "(SVG and PNG) of the count against depth, width or architecture, with mean and standard deviation over\n"
             "seeds, the Serra et al. 2018 upper bound and the Hanin & Rolnick N^d/d! prediction on a log scale.",
             "Examples:\n"
             "  relutope study --input-dim 2 --neurons 96 --depths 1,2,3,4,6 --seeds 10 --out study/depth\n"
             "  relutope study --input-dim 2 --widths 4,8,16,32 --depth 3 --seeds 5 --out study/width\n"
             "  relutope study --input-dim 2 --archs 1x16x16,2x16x16,4x16x16,8x16x16 --init torch --out study/bottleneck\n"
             "  relutope study --models epoch1.onnx epoch5.onnx epoch20.onnx --box -1:1 --out study/training\n"))
    return false;
  const int sweeps = !out.depths.empty() + !out.widths.empty() + !out.archs.empty() + !out.models.empty();
  if (sweeps != 1) throw po::error("give exactly one of --depths, --widths, --archs and --models");
  if (!out.depths.empty() && out.neurons <= 0) throw po::error("--depths needs --neurons");
  if (!out.widths.empty() && out.depth <= 0) throw po::error("--widths needs --depth");
  return true;
}

EnumerateOptions to_enumerate_options(const EnumerationFlags& flags) {
  EnumerateOptions out;
  out.num_threads = flags.threads;
  out.engine = with_option_name("--engine", [&] { return parse_engine(flags.engine); });
  out.tolerance = flags.tolerance;
  out.with_geometry = false;
  return out;
}

}  // namespace relutope::cli
