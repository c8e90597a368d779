// fz_export: the ledger written out for other programs and people (SPEC section 10, docs/exports.md).
//
//   write_events     the log as JSON Lines, each line the canonical stored event (`export events`);
//                    `append` of the output into an empty ledger reproduces the same head hash
//   write_beancount  the books as a beancount file: open directives, one transaction per event with
//                    postings (`export beancount`); beancount_account() is the account mapping
//   journal_rows     the journal as rows for a spreadsheet (`export csv`; the caller neutralises cells)
//   alipay_batch_files  the Alipay batch upload file(s) of `payout alipay`, GBK bytes
//
// Read-only over a Ledger (safe alongside a writer); no function here writes to a ledger.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "store/ledger.hpp"

namespace fz::exports {

// Events from `from_seq` to the head, one canonical JSON line each (event_to_json, times at +08:00);
// rules.published lines also carry chain_previous and chain_hash (model/event_json.hpp).
[[nodiscard]] Status write_events(const Ledger& ledger, std::uint64_t from_seq, std::ostream& out);

// `@streamer:s-1:cps` -> `Liabilities:Streamer:S-1:Cps`: the root by the first segment (streamer,
// agency: Liabilities; merchant: Assets; platform: Income; payout: Expenses; any other: Equity), then
// every segment with its first letter capitalised, `_` and `.` written as `-`, and an `X` put before a
// segment that would start with `-`. Different accounts that map to one name are an error at export.
std::string beancount_account(std::string_view account);

// Every event with postings (events at or before *at when given) as one transaction dated by the
// event's local date in `offset`, with metadata event, seq, type; each posting with rule, line, available
// (and key when keyed). Amounts are fenzhang's signed amounts in CNY, so beancount's balance of an account
// equals `fenzhang balance`'s total.
[[nodiscard]] Status write_beancount(const Ledger& ledger, std::optional<TimeUs> at, OffsetSec offset,
                                     std::ostream& out);

// The journal with each posting's event type and time: header row first.
[[nodiscard]] Result<std::vector<std::vector<std::string>>> journal_rows(const Ledger& ledger,
                                                                         OffsetSec offset);

// UTF-8 -> GBK through glibc's iconv; an error names the first character GBK cannot hold.
[[nodiscard]] Result<std::string> utf8_to_gbk(std::string_view utf8);

struct AlipayRow {
  std::string alipay;  // 收款方支付宝账号
  std::string name;    // 收款方姓名
  Fen amount_fen = 0;  // 金额
  std::string remark;  // 备注: the withdrawal id
};
inline constexpr std::size_t kAlipayRowsPerFile = 3000;

// The batch files' contents (GBK): the first row 支付宝批量付款文件模板, the header row, then at most
// kAlipayRowsPerFile rows each, numbered from 1 in every file. At least one file, empty of rows if need be.
[[nodiscard]] Result<std::vector<std::string>> alipay_batch_files(const std::vector<AlipayRow>& rows);

}  // namespace fz::exports
