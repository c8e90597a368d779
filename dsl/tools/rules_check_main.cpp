// dsl_rules_check FILE…: the `fenzhang rules check` logic as a stand-alone program, for the golden
// tests and the fuzz corpus. Exit 0 when every file checks clean, 1 otherwise.
#include <iostream>
#include <string>
#include <vector>

#include "dsl/rules_check.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> files(argv + 1, argv + argc);
  return fz::dsl::run_rules_check(files, std::cout, std::cerr);
}
