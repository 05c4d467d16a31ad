# cmake -P script run by ctest (tests/package_tests.cmake): installs the build tree BUILD into a fresh
# prefix WORK/prefix, then configures, builds and runs the downstream project tests/package against it.
# Inputs: BUILD, SOURCE (tests/package), WORK, MODEL, CXX, LAUNCHER (may be empty), CONFIG.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    list(JOIN ARGN " " command)
    message(FATAL_ERROR "failed (${rc}): ${command}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK})
run(${CMAKE_COMMAND} --install ${BUILD} --prefix ${WORK}/prefix --config ${CONFIG})
if(NOT EXISTS ${WORK}/prefix/include/relutope/version.h)
  message(FATAL_ERROR "relutope/version.h was not installed")
endif()
set(launcher)
if(LAUNCHER)
  set(launcher -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER})
endif()
run(${CMAKE_COMMAND} -S ${SOURCE} -B ${WORK}/build -DCMAKE_PREFIX_PATH=${WORK}/prefix
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=${CONFIG} ${launcher})
run(${CMAKE_COMMAND} --build ${WORK}/build --config ${CONFIG})
run(${WORK}/build/consumer ${MODEL})
