# Project-wide compile settings: warnings are errors everywhere, sanitizers on request.
add_library(fz_options INTERFACE)
target_compile_options(fz_options INTERFACE -Wall -Wextra -Wpedantic -Werror)
# GCC 12 reports false -Wrestrict errors inside std::string assignment at -O2 (GCC bug 105329).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(fz_options INTERFACE -Wno-restrict)
endif()
if(FZ_FUZZ)
  # Coverage instrumentation in every library, so the fuzzers see the code they exercise.
  target_compile_options(fz_options INTERFACE -fsanitize=fuzzer-no-link)
endif()
if(FZ_SANITIZE)
  target_compile_options(fz_options INTERFACE -fsanitize=address,undefined -fno-sanitize-recover=all
                                              -fno-omit-frame-pointer)
  target_link_options(fz_options INTERFACE -fsanitize=address,undefined)
endif()

# fz_test(NAME SOURCES... LIBS ...): a doctest executable whose cases CTest lists one by one.
function(fz_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} doctest::doctest fz_options fz_test_main)
  # Where the sources and the binary are: tests/test_paths.hpp, defined in fz_test_main.
  doctest_discover_tests(${name} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endfunction()
