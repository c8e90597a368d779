// fenzhang gen --events N --seed S [--streamers K]
#include <iostream>

#include "tools/arguments.hpp"
#include "tools/cli.hpp"
#include "tools/gen.hpp"

namespace fz::cli {

void add_gen(CLI::App& app, Globals&, std::vector<Command>& out) {
  auto args = std::make_shared<GenOptions>();
  CLI::App* sub =
      app.add_subcommand("gen", "write a realistic, reproducible event stream (JSON Lines) to stdout");
  sub->add_option("--events", args->events, "number of events")
      ->required()
      ->check(positive_integer_arg())
      ->check(CLI::Range(1ULL, 1ULL << 40));
  sub->add_option("--seed", args->seed, "random seed")->required()->check(unsigned_integer_arg());
  sub->add_option("--streamers", args->streamers, "number of streamers (default 100)")
      ->check(positive_integer_arg())
      ->check(CLI::Range(1U, 10000000U));
  out.push_back({sub, [args] {
                   std::ios::sync_with_stdio(false);
                   generate_events(*args, std::cout);
                   std::cout.flush();
                   return std::cout ? kExitOk : kExitRejected;
                 }});
}

}  // namespace fz::cli
