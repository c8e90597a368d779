#include "engine/reader.hpp"

#include <chrono>
#include <filesystem>
#include <thread>

#include "engine/queries.hpp"

namespace fz::engine {

Result<std::unique_ptr<Ledger>> open_for_queries(const std::string& dir) {
  constexpr int kAttempts = 50;
  Error last = make_error("");
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto live = Ledger::open(dir, Ledger::Access::kRead);
    if (!live) return live.error();
    Status current = check_projection_current(**live);
    if (current.ok()) return live;
    if (current.fatal()) return current.error();
    last = current.error();
    const std::string snapshot = Ledger::reader_snapshot_dir(dir);
    std::error_code ec;
    if (std::filesystem::exists(snapshot, ec)) {
      auto snap = Ledger::open(snapshot, Ledger::Access::kRead);
      if (snap) {
        if (check_projection_current(**snap).ok()) return snap;
        // The snapshot copies the ledger as it stood before the rebuild; a projection behind its log
        // there is a checkpoint (an append was stopped before its last one): answer as of it.
        auto head = read_projection_head(**snap);
        if (head && (*snap)->limit_head_for_reading(*head).ok()) return snap;
      }
    } else if (!ec) {
      // No rebuild under way (a rebuild keeps the snapshot until it is done): the stored projection is a
      // checkpoint of events 1..P, and a writer is appending after it or was stopped before its next
      // checkpoint. Answer as of P, an acknowledged head.
      auto head = read_projection_head(**live);
      if (!head) return head.error();
      FZ_TRY((*live)->limit_head_for_reading(*head));
      return live;
    }
    // No usable snapshot yet (being written) or any more (the rebuild just finished): look again.
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + 5 * attempt));
  }
  return last;
}

}  // namespace fz::engine
