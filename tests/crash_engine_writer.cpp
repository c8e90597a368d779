// The child of crash_engine_test: appends a generated event stream under the default rules with the
// engine in the append path (pipelined batches, postings, balances, keyed targets), and now and then
// publishes a new rules version that governs the past, so the projection is recomputed in place. After
// each durable step it writes the ledger's head sequence number to stdout (8 bytes, native order).
// Killed at random by the parent; restarted on the same ledger, it re-appends the stream from the start
// (the events already in the log are duplicates) and carries on.
#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "engine/engine.hpp"
#include "engine/publish.hpp"
#include "store/ledger.hpp"
#include "tools/append_job.hpp"
#include "tools/gen.hpp"

namespace {

bool ack(std::uint64_t head) {
  return ::write(STDOUT_FILENO, &head, sizeof head) == static_cast<ssize_t>(sizeof head);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace fz;
  if (argc != 3) return 2;
  auto ledger = Ledger::open(argv[1], Ledger::Access::kWrite);
  if (!ledger) return 3;
  std::ifstream in(argv[2]);
  std::stringstream rules;
  rules << in.rdbuf();
  std::ostringstream stream;
  generate_events(GenOptions{6000, 11, 30}, stream);
  const std::string events = stream.str();
  if (!ack((*ledger)->head_seq())) return 6;
  for (int version = 1;; ++version) {
    // A new version, effective at the start of the stream's time: it governs every event already in
    // the log, so publishing it recomputes the whole projection.
    std::string text = rules.str();
    const std::string from = "version 1 effective";
    text.replace(text.find(from), from.size(), fmt::format("version {} effective", version));
    std::string diagnostics;
    auto published = engine::publish_rules(**ledger, text, "crash.rules", 0, &diagnostics,
                                           engine::PublishOptions{.dry_run = false, .force = true});
    if (!published) return 7;
    if (!ack((*ledger)->head_seq())) return 6;
    // The stream in pieces, so that several pipelined appends are acknowledged per version.
    std::size_t pos = 0;
    for (int piece = 0; piece < 3 && pos < events.size(); ++piece) {
      std::size_t end = pos;
      for (int lines = 0; lines < 2000 && end < events.size(); ++lines) end = events.find('\n', end) + 1;
      std::istringstream part(events.substr(pos, end - pos));
      pos = end;
      auto eng = engine::Engine::for_append(**ledger);
      if (!eng) return 8;
      // Write-back as `fenzhang append` does it, with checkpoints every 1,500 events (so some are
      // written mid-append, some at its end) and kills between them.
      (*eng)->set_checkpoint_interval(1500);
      AppendOptions options;
      options.batch_events = 512;
      auto report =
          run_append(**ledger, eng->get(), {{"stream", &part}}, options, [](const LineRejection&) {});
      if (!report) return 9;
      if (!ack((*ledger)->head_seq())) return 6;
    }
  }
}
