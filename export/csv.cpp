// `fenzhang export csv` (SPEC section 10): the journal for spreadsheets. Rows only: the command
// neutralises and quotes the cells (tools/output.hpp csv_cell) like every CSV output.
#include "engine/queries.hpp"
#include "export/export.hpp"
#include "model/event.hpp"

namespace fz::exports {

Result<std::vector<std::vector<std::string>>> journal_rows(const Ledger& ledger, OffsetSec offset) {
  auto postings = engine::journal(ledger, engine::JournalFilter{});
  if (!postings) return postings.error();
  std::vector<std::vector<std::string>> rows;
  rows.reserve(postings->size() + 1);
  rows.push_back({"seq", "event", "type", "event_at", "account", "amount", "available_at", "version", "rule",
                  "line", "key"});
  std::uint64_t seq = 0;
  std::string type;
  for (const engine::Posting& p : *postings) {
    if (p.seq != seq) {
      auto stored = ledger.read(p.seq);
      if (!stored) return stored.error();
      seq = p.seq;
      type = std::string(spec_of(stored->event.type).name);
    }
    rows.push_back({std::to_string(p.seq), p.event_id, type, format_time(p.event_at, offset), p.account,
                    format_money(p.amount_fen), format_time(p.available_at, offset),
                    p.version == 0 ? "" : std::to_string(p.version), p.rule,
                    p.line == 0 ? "" : std::to_string(p.line), p.key});
  }
  return rows;
}

}  // namespace fz::exports
