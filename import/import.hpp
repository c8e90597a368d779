// fz_import: Taobao Union (淘宝联盟) reports -> settlement events (SPEC section 10).
//
// What it is. Three layers, each usable alone:
//   * text: read_report_file() reads a report into memory (bounded), to_utf8() detects its encoding
//     (BOM, else valid UTF-8, else GB18030) and converts it with iconv;
//   * tables: open_table() gives the rows of a CSV (libcsv: comma or tab, RFC 4180 quoting) or of the
//     first sheet of an XLSX (libzip + expat, every inflated byte counted against kMaxInflatedBytes);
//   * reports: OrderReport / RefundReport find the header row by column name (with the SPEC's
//     synonyms) and map each row to the events of SPEC section 10, or to a rejection naming the line
//     and the column. The events are validated by the same parser as `fenzhang append`
//     (parse_event_line); writing them is the caller's business (tools/append_job.hpp).
//
// Who owns what. A Table owns the bytes it reads; a report owns its Table and borrows the ImportMap,
// which must outlive it. Nothing here touches a ledger.
//
// Thread safety. Plain values and single-owner objects: a Table or a report is used by one thread at
// a time; different ones may run on different threads. to_utf8() and the parse_* helpers are pure.
//
// Money is int64 fen from the digits (never a double); rates are percent x 10^4 integers.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "model/event.hpp"

namespace fz::imports {

// Limits on everything that grows (a clear error, never unbounded memory).
inline constexpr std::size_t kMaxReportBytes = std::size_t{1} << 30;     // a report file, 1 GiB
inline constexpr std::size_t kMaxInflatedBytes = std::size_t{64} << 20;  // XLSX: all inflated bytes
// XLSX: the cells held once read (the sheet's rows and the shared strings, each cell counted as a
// std::string plus its text), since a few bytes of XML can name a far column or repeat a long shared
// string: the inflated bytes alone do not bound the memory.
inline constexpr std::size_t kMaxXlsxCellMemory = std::size_t{256} << 20;
inline constexpr std::size_t kMaxCellBytes = 4096;       // one cell
inline constexpr std::size_t kMaxLineBytes = 64 * 1024;  // one row of text
inline constexpr std::size_t kMaxCellsPerRow = 1024;
inline constexpr std::uint64_t kMaxRowsPerFile = 5'000'000;

// ---- text -----------------------------------------------------------------------------------------

enum class Encoding { kUtf8, kUtf8Bom, kUtf16Le, kUtf16Be, kGb18030 };
std::string_view encoding_name(Encoding e);

// The whole file, at most `max_bytes` (a larger file is refused before it is read).
[[nodiscard]] Result<std::string> read_report_file(const std::string& path,
                                                   std::size_t max_bytes = kMaxReportBytes);

// Detects the encoding (SPEC 10: BOM, else valid UTF-8, else GB18030) and returns the text as UTF-8
// without a BOM. Bytes that are none of these are an error naming the line and the offending bytes.
[[nodiscard]] Result<std::string> to_utf8(std::string_view bytes, Encoding* detected);

// ---- tables ---------------------------------------------------------------------------------------

struct Row {
  std::uint64_t line = 0;  // CSV: the physical line the row starts on; XLSX: the sheet's row number
  std::vector<std::string> cells;
};

class Table {
 public:
  virtual ~Table() = default;
  // Sets *row to the next row; false at the end. An error when the file is malformed there (then
  // nothing after it is read).
  [[nodiscard]] virtual Result<bool> next(Row* row) = 0;
  // "CSV, UTF-16LE, tab-separated" or "XLSX, sheet 订单明细".
  virtual std::string describe() const = 0;
};

// An XLSX (a ZIP: starts with "PK\3\4") or a CSV in any of the encodings above. Takes the bytes.
[[nodiscard]] Result<std::unique_ptr<Table>> open_table(std::string bytes);
[[nodiscard]] Result<std::unique_ptr<Table>> open_xlsx(std::string bytes);
[[nodiscard]] Result<std::unique_ptr<Table>> open_csv(std::string utf8_text, std::string encoding_label);

// ---- values ---------------------------------------------------------------------------------------

// "1,299.00", "¥1299", "￥1,299.5", "12" -> fen. At most two decimals; never through a double.
[[nodiscard]] Result<Fen> parse_report_money(std::string_view text);
// "9.10 %", "9.1%", "20.00%" -> percent x 10^4 (91000). At most four decimals.
[[nodiscard]] Result<std::int64_t> parse_report_rate(std::string_view text);
// "YYYY-MM-DD HH:MM:SS" local time in `offset`.
[[nodiscard]] Result<TimeUs> parse_report_time(std::string_view text, OffsetSec offset);
// "91000" -> "9.1%" (the percent text of a rate x 10^4).
std::string format_rate(std::int64_t rate4);

// ---- the MAP file -----------------------------------------------------------------------------------

// UTF-8 CSV, header `kind,key,id`; rows `pid,<推广位ID>,<streamer>`, `relation,<渠道关系ID>,<streamer>`,
// `merchant,<掌柜旺旺>,<merchant>`.
struct ImportMap {
  std::map<std::string, std::string, std::less<>> pid, relation, merchant;
};
[[nodiscard]] Result<ImportMap> parse_import_map(std::string_view bytes, const std::string& name);

// `shop-` and the first 12 hex digits of SHA-256 of the name's UTF-8 bytes.
std::string shop_id(std::string_view merchant_name);

// ---- reports ------------------------------------------------------------------------------------------

// One report row mapped: its events (in append order), or a rejection (`reason`), or skipped.
struct MappedRow {
  std::uint64_t line = 0;
  std::string id = "-";  // the row's order number when it could be read
  std::string reason;    // non-empty: rejected, no events
  bool skipped = false;  // a refund row whose status is not 维权成功
  std::vector<Event> events;
  // The leading events that several rows share (the implicit plan.created): staged once per run.
  std::size_t shared = 0;
};

enum class OrderStatus { kPaid, kReceived, kSettled, kClosed };
std::string_view status_name(OrderStatus s);  // "paid", "received", "settled", "closed"

// A row of an order report as read (for reconcile and for the mapping).
struct OrderLine {
  std::string order;
  OrderStatus status = OrderStatus::kPaid;
  std::optional<Fen> commission;  // 佣金金额, when the report has it
};

struct ReportOptions {
  OffsetSec offset = kDefaultOffsetSec;  // the ledger's timezone for report times
  // Every event of a row goes through its JSON line and parse_event_line, as a hand-written line would
  // (tests: the events built directly must equal these).
  bool reference_mapping = false;
};

// A report being read row by row. next() returns false at the end; an error stops the file.
class Report {
 public:
  virtual ~Report() = default;
  [[nodiscard]] virtual Result<bool> next(MappedRow* out) = 0;
  // Things the operator should know (merchants named by hash), each once.
  virtual std::vector<std::string> notes() const = 0;
};

// `map` is borrowed and must outlive the report.
std::unique_ptr<Report> order_report(std::unique_ptr<Table> table, const ImportMap& map,
                                     ReportOptions options);
std::unique_ptr<Report> refund_report(std::unique_ptr<Table> table, ReportOptions options);

// Reads an order report for reconciliation: every row's order, status and commission; rows that
// cannot be read are rejections (`reason`), reported like an import's.
struct ReconcileRow {
  std::uint64_t line = 0;
  std::string id = "-";
  std::string reason;
  OrderLine order;
};
class OrderLines {
 public:
  virtual ~OrderLines() = default;
  [[nodiscard]] virtual Result<bool> next(ReconcileRow* out) = 0;
};
std::unique_ptr<OrderLines> order_lines(std::unique_ptr<Table> table);

}  // namespace fz::imports
