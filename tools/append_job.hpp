// The work of `fenzhang append`: read JSON Lines inputs, validate them on a second thread, stage and
// commit them through an Appender in synced batches, and report every rejected line.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "store/appender.hpp"
#include "store/ledger.hpp"

namespace fz {

struct AppendInput {
  std::string name;  // shown in rejections ("-" for standard input)
  std::istream* in;  // borrowed
};

struct LineRejection {
  std::string file;
  std::uint64_t line = 0;
  std::string id;
  std::string reason;
};

struct AppendReport {
  std::uint64_t appended = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t rejected = 0;
  std::vector<std::string> notes;  // e.g. an --atomic file that was not appended
};

struct AppendOptions {
  bool atomic = false;              // each input all-or-nothing
  std::size_t batch_events = 4096;  // events per synced WriteBatch
};

// Rejections are reported through on_reject as they happen. An error result means the ledger could
// not be written (events acknowledged before it are durable and counted in nothing: see the log).
Result<AppendReport> run_append(Ledger& ledger, Projector* projector, const std::vector<AppendInput>& inputs,
                                const AppendOptions& options,
                                const std::function<void(const LineRejection&)>& on_reject);

}  // namespace fz
