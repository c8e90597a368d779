# Project-wide compile settings: warnings are errors everywhere, sanitizers on request.
add_library(fz_options INTERFACE)
target_compile_options(fz_options INTERFACE -Wall -Wextra -Wpedantic -Werror)
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
  doctest_discover_tests(${name} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
                         PROPERTIES ENVIRONMENT "FZ_SOURCE_DIR=${PROJECT_SOURCE_DIR};FZ_BIN=$<TARGET_FILE:fenzhang>")
endfunction()
