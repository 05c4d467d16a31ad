# The CMake package: install into a temporary prefix, then find_package(relutope) from a downstream
# project (tests/package), build it and run it. Its one source file keeps the test short.
# Not in the sanitizer build: the consumer would need the sanitizer runtime flags to link.
if(RELUTOPE_INSTALL AND NOT RELUTOPE_SANITIZE AND NOT RELUTOPE_BUILD_FUZZERS)
  add_test(NAME package.find_package_build_and_run
           COMMAND ${CMAKE_COMMAND} -DBUILD=${PROJECT_BINARY_DIR} -DSOURCE=${CMAKE_CURRENT_SOURCE_DIR}/package
                   -DWORK=${CMAKE_CURRENT_BINARY_DIR}/package_test -DMODEL=${CMAKE_CURRENT_SOURCE_DIR}/data/tiny_2d.json
                   -DCXX=${CMAKE_CXX_COMPILER} "-DLAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER}" -DCONFIG=$<CONFIG>
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/package/install_and_use.cmake)
  set_tests_properties(package.find_package_build_and_run PROPERTIES
                       PASS_REGULAR_EXPRESSION "relutope ${PROJECT_VERSION}: 4 regions" TIMEOUT 300)
endif()
