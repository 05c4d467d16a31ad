// The default options of AddressSanitizer and UndefinedBehaviorSanitizer in the sanitizer build
// (RELUTOPE_SANITIZE, CMakeLists.txt), compiled into every executable that links relutope, so that
// ctest, a developer and CI run the instrumented binaries alike. ASAN_OPTIONS / UBSAN_OPTIONS in the
// environment still override them.
//
// Exit code 23 on a report: no test expects it, whereas the runtimes' default, 1, is also the CLI's
// usage error, which some CLI tests expect. Reports stop the program (-fno-sanitize-recover=undefined
// makes UBSan's fatal too) and carry a stack.

extern "C" __attribute__((visibility("default"), used)) const char* __asan_default_options() {
  return "halt_on_error=1:detect_leaks=1:exitcode=23:strict_string_checks=1:check_initialization_order=1:"
         "detect_stack_use_after_return=1:print_suppressions=0";
}

extern "C" __attribute__((visibility("default"), used)) const char* __ubsan_default_options() {
  return "halt_on_error=1:print_stacktrace=1:exitcode=23";
}

// LeakSanitizer: the one suppression. Cairo's text API (the picture legends, src/draw.cpp) loads
// fontconfig's configuration once per process and keeps it for later calls by design; it is freed only
// by FcFini(), which a library must not call (another user of fontconfig in the process would lose it).
// The report names only libfontconfig frames: 7 allocations, 651 bytes, the same in every run.
//
// Open MPI (the MPI tests, label mpi): its libraries and plugins leave buffers allocated after
// MPI_Finalize (component lists, hwloc topology, PMIx and event-library state). With whole stacks and
// the plugins kept loaded (the tests' environment, tests/cli_tests.cmake), each such report has a frame
// in one of these libraries; relutope's own allocations are still checked.
extern "C" __attribute__((visibility("default"), used)) const char* __lsan_default_suppressions() {
  return "leak:libfontconfig.so\n"
         "leak:libmpi.so\nleak:libopen-pal.so\nleak:libopen-rte.so\nleak:libpmix.so\nleak:libhwloc.so\n"
         "leak:libevent\nleak:mca_\n";
}
