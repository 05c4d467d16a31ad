// relutope: the command-line front end. One try block sets the exit code:
// 0 ok, 1 usage error, 2 bad input (file, model, domain), 3 internal error, 4 the answer cannot be
// certified (relutope says so instead of printing a number it is not sure of). count and export also
// return 5 (cli_common.h kExitStopped) when a limit or a signal stopped them: they printed a lower bound.
#include <boost/program_options/errors.hpp>
#include <iostream>
#include <string>
#include <vector>

#include "cli_options.h"
#include "mpi_session.h"
#include "relutope/error.h"
#include "relutope/version.h"

namespace {

const char* const kHelp =
    "relutope: exact linear regions of piecewise-linear (ReLU) networks\n\n"
    "Usage: relutope COMMAND [options]\n\n"
    "Commands:\n"
    "  count   count the activation regions of a network in an input box\n"
    "  estimate how many regions count would find, and how long it would take, from random probes\n"
    "  bounds  the theory's bounds on the number of regions, for an architecture or a model\n"
    "  neurons which neurons are dead or stably active over the box (dying ReLU report)\n"
    "  export  write the regions: JSON lines, SVG/PNG pictures (2-D), OFF/PLY/OBJ cells (3-D)\n"
    "  stats   distribution of region volumes, inradii, facets and vertices; coverage check\n"
    "  study   sweeps over depth, width or checkpoints: a CSV and plots against the theory\n"
    "  bench   benchmark the counting engines on fixed seeded networks\n\n"
    "Run 'relutope COMMAND --help' for the options of a command.\n\n"
    "Exit codes: 0 ok, 1 usage error, 2 bad input, 3 internal error, 4 cannot certify, 5 stopped early by\n"
    "--time-limit, --max-regions, SIGINT or SIGTERM (the count printed is a lower bound).\n\n"
    "Examples:\n"
    "  relutope count examples/two_moons.onnx\n"
    "  relutope count model.onnx --box -1:1 --json\n"
    "  relutope count big.onnx --time-limit 3600 --checkpoint big.ckpt\n"
    "  relutope bounds --arch 2,16,16,16\n"
    "  relutope neurons examples/two_moons.onnx\n"
    "  relutope export examples/two_moons.onnx --png moons.png --color class\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace relutope;
  cli::MpiSession mpi(argc, argv);
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string command;
  // Under mpirun every rank reports its error (it may be its own: a file it cannot read), then the
  // job ends: the other ranks would wait for this one forever.
  const std::string who = cli::mpi_size() > 1 ? "relutope (rank " + std::to_string(cli::mpi_rank()) + ")" : "relutope";
  try {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
      std::cout << kHelp;
      return args.empty() ? 1 : 0;
    }
    if (args[0] == "--version") {
      std::cout << "relutope " RELUTOPE_VERSION "\n";
      return 0;
    }
    command = args[0];
    args.erase(args.begin());
    if (cli::mpi_size() > 1 && command != "count" && command != "export")
      throw InputError("under mpirun only count and export spread their work over the ranks; run '" + command +
                       "' as one process");
    if (command == "count") {
      cli::CountOptions options;
      if (!cli::parse_count(args, options)) return 0;
      return cli::run_count(options);
    }
    if (command == "estimate") {
      cli::EstimateCliOptions options;
      if (!cli::parse_estimate(args, options)) return 0;
      return cli::run_estimate(options);
    }
    if (command == "bounds") {
      cli::BoundsOptions options;
      if (!cli::parse_bounds(args, options)) return 0;
      return cli::run_bounds(options);
    }
    if (command == "neurons") {
      cli::NeuronsOptions options;
      if (!cli::parse_neurons(args, options)) return 0;
      return cli::run_neurons(options);
    }
    if (command == "export") {
      cli::ExportOptions options;
      if (!cli::parse_export(args, options)) return 0;
      return cli::run_export(options);
    }
    if (command == "stats") {
      cli::StatsOptions options;
      if (!cli::parse_stats(args, options)) return 0;
      return cli::run_stats(options);
    }
    if (command == "study") {
      cli::StudyOptions options;
      if (!cli::parse_study(args, options)) return 0;
      return cli::run_study(options);
    }
    if (command == "bench") {
      cli::BenchOptions options;
      if (!cli::parse_bench(args, options)) return 0;
      return cli::run_bench(options);
    }
    std::cerr << "relutope: unknown command \"" << command << "\"\n\n" << kHelp;
    return mpi.fail(1);
  } catch (const boost::program_options::error& e) {
    std::cerr << who + ": " + e.what() + " (see 'relutope " + (command.empty() ? "" : command + " ") + "--help')\n";
    return mpi.fail(1);
  } catch (const InputError& e) {
    std::cerr << who + ": error: " + e.what() + "\n";  // one write: the ranks' lines do not interleave
    return mpi.fail(2);
  } catch (const UncertifiedError& e) {
    std::cerr << who + ": cannot certify: " + e.what() + "\n";
    return mpi.fail(4);
  } catch (const std::exception& e) {
    std::cerr << who + ": internal error: " + e.what() + "\n";
    return mpi.fail(3);
  }
}
