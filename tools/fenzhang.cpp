#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  CLI::App app{"fenzhang: an event-sourced settlement ledger for live-stream commerce"};
  CLI11_PARSE(app, argc, argv);
  return 0;
}
