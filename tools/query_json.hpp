// The JSON answers of the queries and of append/publish, shared by the command line (`--format json`)
// and the HTTP server (server/), so that both give the same shapes (SPEC sections 8 and 11).
//
// Every function only formats what an engine query returned; none reads or writes a ledger except
// verify_json, which runs the whole check on the read-only ledger it is given.
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "engine/book.hpp"
#include "engine/explain.hpp"
#include "engine/publish.hpp"
#include "engine/queries.hpp"
#include "engine/statement.hpp"
#include "store/format.hpp"
#include "store/ledger.hpp"
#include "tools/append_job.hpp"

namespace fz::cli {

// `balance --format json`: {"head":{"seq","hash"},"at","accounts":[…]}.
boost::json::object balance_json(const Ledger& ledger, const std::vector<engine::BalanceRow>& rows,
                                 std::optional<TimeUs> at);

// `journal --format json`: JSON Lines, one posting a line (each line ends with '\n').
std::string journal_jsonl(const std::vector<engine::Posting>& rows, OffsetSec tz);

// A target change per account, in a stable order: the previous allocation's accounts, then new ones
// (explain's JSON and its text).
struct TargetRow {
  std::string account;
  Fen previous_fen = 0, new_fen = 0, delta_fen = 0;
};
std::vector<TargetRow> target_rows(const engine::TargetChange& c);

// `explain --format json`.
boost::json::object explain_json(const engine::Explanation& x);

// `statement --format json`.
boost::json::object statement_json(const engine::Statement& st);

// `rules publish --format json`.
boost::json::object publish_json(const engine::PublishReport& r);

// `append --format json`: {"appended","duplicates","rejected","rejections":[{file,line,id,reason}],"notes"}
// (and "skipped" when show_skipped).
boost::json::object rejection_json(const LineRejection& r);
boost::json::object append_json(const AppendReport& report, boost::json::array rejections,
                                const std::vector<std::string>& notes, bool show_skipped);

// A 64-digit hex hash, or nullopt.
std::optional<format::Hash> parse_hash_hex(const std::string& text);

// `verify [--expect-head HASH] --format json` on a ledger opened with engine::open_for_queries:
// {"ok":true,"events","head","projection",…} or {"ok":false,"error"}. *ok says which.
boost::json::object verify_json(const Ledger& ledger, const std::optional<format::Hash>& expected,
                                const std::string& expected_text, bool* ok);

}  // namespace fz::cli
