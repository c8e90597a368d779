// what_if(): `fenzhang replay --rules FILE…` (SPEC section 8). The files are treated as published after
// the last event; the log is replayed with them on the side and each account's current total and
// available balance are compared with the what-if ones. Nothing of the ledger is written.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "engine/engine.hpp"
#include "store/ledger.hpp"

namespace fz::engine {

struct WhatIfRow {
  std::string account;
  Fen total_fen = 0, whatif_total_fen = 0;
  Fen available_fen = 0, whatif_available_fen = 0;
};

struct WhatIfReport {
  std::vector<std::string> versions;  // "taobao_live v2 (effective …)" for each file
  std::vector<WhatIfRow> rows;        // every account in either projection, sorted
  std::vector<ReplayIssue> issues;    // what append would now refuse under the what-if
  std::uint64_t issue_count = 0;
  std::uint64_t events = 0;
};

struct RulesFile {
  std::string path;
  std::string source;
};

// `diagnostics` receives the checker's messages when a file does not check clean. progress(seq) is
// called after each batch of the replay.
Result<WhatIfReport> what_if(const Ledger& ledger, const std::vector<RulesFile>& files, TimeUs now_us,
                             std::string* diagnostics,
                             const std::function<void(std::uint64_t)>& progress = {});

}  // namespace fz::engine
