#include "engine/whatif.hpp"

#include <fmt/format.h>

#include <map>

#include "dsl/rules_check.hpp"
#include "engine/queries.hpp"
#include "engine/rebuild.hpp"
#include "store/codec.hpp"

namespace fz::engine {

Result<WhatIfReport> what_if(const Ledger& ledger, const std::vector<RulesFile>& files, TimeUs now_us,
                             std::string* diagnostics, const std::function<void(std::uint64_t)>& progress) {
  FZ_TRY(check_projection_current(ledger));
  WhatIfReport report;
  std::vector<PublishedVersion> extra;
  std::uint64_t seq = ledger.head_seq();
  for (const RulesFile& f : files) {
    dsl::CompileResult compiled = dsl::compile_rules(f.source, f.path);
    if (!compiled.ruleset) {
      *diagnostics += compiled.diagnostics;
      return make_error(fmt::format("{}: {} error{}; nothing replayed", f.path, compiled.error_count,
                                    compiled.error_count == 1 ? "" : "s"));
    }
    const dsl::RulesetInfo& i = compiled.ruleset->info();
    report.versions.push_back(fmt::format("{} v{} (effective {}) from {}", i.name, i.version,
                                          format_time(i.effective_us, i.timezone), f.path));
    // Treated as published after the last event: a later seq wins ties on `effective`.
    extra.push_back(PublishedVersion{++seq, sha256_hex(f.source), std::move(*compiled.ruleset)});
  }
  auto current = balances(ledger, "", std::nullopt, now_us);
  if (!current) return current.error();
  std::map<std::string, WhatIfRow> rows;
  for (const BalanceRow& r : *current)
    rows[r.account] = WhatIfRow{r.account, r.total_fen, 0, r.available_fen, 0};
  Status s = with_scratch_replay(
      ledger, ledger.head_seq(),
      [&](Ledger& scratch, const RebuildReport& rebuilt) -> Status {
        report.issues = rebuilt.issues;
        report.issue_count = rebuilt.issue_count;
        report.events = rebuilt.events;
        auto after = balances(scratch, "", std::nullopt, now_us, /*scratch=*/true);
        if (!after) return after.error();
        for (const BalanceRow& r : *after) {
          WhatIfRow& row = rows[r.account];
          row.account = r.account;
          row.whatif_total_fen = r.total_fen;
          row.whatif_available_fen = r.available_fen;
        }
        return Status::Ok();
      },
      &extra, progress, Engine::Mode::kEvaluate);
  if (!s.ok()) return s.error();
  for (auto& [account, row] : rows) report.rows.push_back(row);
  return report;
}

}  // namespace fz::engine
