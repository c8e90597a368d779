// The child of crash_test: appends batches of kBatch events forever to the ledger in argv[1] and
// writes the last sequence number of each durable batch to stdout (8 bytes, native order).
#include <fmt/format.h>
#include <unistd.h>

#include "store/appender.hpp"
#include "store/ledger.hpp"
#include "tests/crash_common.hpp"

int main(int argc, char** argv) {
  using namespace fz;
  if (argc != 2) return 2;
  auto ledger = Ledger::open(argv[1], Ledger::Access::kWrite);
  if (!ledger) return 3;
  Appender appender(**ledger, nullptr);
  // First message: opened, nothing new acknowledged yet.
  const std::uint64_t opened = (*ledger)->head_seq();
  if (::write(STDOUT_FILENO, &opened, sizeof opened) != static_cast<ssize_t>(sizeof opened)) return 6;
  for (;;) {
    const std::uint64_t first = (*ledger)->head_seq() + 1;
    std::string reason;
    for (std::uint64_t s = first; s < first + crash::kBatch; ++s) {
      if (appender.stage(crash::event_for(s), &reason) != Disposition::kAppended) return 4;
    }
    if (!appender.commit().ok()) return 5;
    const std::uint64_t acked = (*ledger)->head_seq();
    if (::write(STDOUT_FILENO, &acked, sizeof acked) != static_cast<ssize_t>(sizeof acked)) return 6;
  }
}
