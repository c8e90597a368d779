// Issue 14: Taobao Union reports in (fenzhang import tbk) and the reconciliation (fenzhang reconcile tbk),
// SPEC section 10. The value parsers and readers in process; the commands through the binary.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <iconv.h>
#include <zip.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "import/import.hpp"
#include "tests/test_util.hpp"

using fz::test::run;
using fz::test::TempDir;
namespace im = fz::imports;

namespace {

using fz::test::read_all;
using fz::test::write_file;

std::string data(const std::string& name) {
  return fz::test::source_dir() + "/tests/data/tbk/" + name;
}
std::string example(const std::string& name) {
  return fz::test::source_dir() + "/examples/tbk/" + name;
}

// UTF-8 -> another encoding with iconv (the test's own conversion, to build the report files).
std::string encode(const std::string& utf8, const char* to) {
  iconv_t cd = ::iconv_open(to, "UTF-8");
  REQUIRE(cd != reinterpret_cast<iconv_t>(-1));
  std::string out(utf8.size() * 4 + 16, '\0');
  char* in = const_cast<char*>(utf8.data());
  std::size_t in_left = utf8.size(), out_left = out.size();
  char* dst = out.data();
  REQUIRE(::iconv(cd, &in, &in_left, &dst, &out_left) != static_cast<std::size_t>(-1));
  ::iconv_close(cd);
  out.resize(out.size() - out_left);
  return out;
}

struct Ledger {
  TempDir dir;
  std::string cmd(const std::string& args) const {
    return fmt::format("{} --db {} {}", fz::test::bin(), dir / "db", args);
  }
  fz::test::RunResult operator()(const std::string& args) const { return run(cmd(args)); }
  // Rules and the sample's agency and streamers, as a finance desk's ledger would hold them.
  void setup() const {
    REQUIRE((*this)("rules publish " + fz::test::source_dir() + "/rules/taobao-live.rules").exit_code == 0);
    REQUIRE((*this)("append " + fz::test::source_dir() + "/examples/taobao-live-sample.jsonl").exit_code ==
            0);
  }
  std::string map() const { return " --map " + example("map.csv"); }
  std::string import_orders(const std::string& file, int expect_exit) const {
    auto r = (*this)("import tbk orders " + file + map());
    INFO(r.out);
    CHECK(r.exit_code == expect_exit);
    return r.out;
  }
  // What a reader sees: balances, the journal, the head.
  std::string books() const {
    auto b = (*this)("--format json balance --at 2027-01-01");
    auto j = (*this)("--format json journal");
    REQUIRE(b.exit_code == 0);
    REQUIRE(j.exit_code == 0);
    // The head differs between ledgers (rules.published carries the publish time): compare from "at".
    const std::size_t at = b.out.find("\"at\":");
    REQUIRE(at != std::string::npos);
    return b.out.substr(at) + j.out;
  }
};

// The JSON lines of a command's output (run() merges standard error into it).
std::vector<std::string> json_lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) {
    if (l.starts_with("{")) out.push_back(l);
  }
  return out;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A CSV of the clean report with one cell replaced: row whose 子订单编号 is `order`, column `col`.
std::string edit_clean(const std::string& order, const std::string& col, const std::string& value) {
  auto lines = lines_of(read_all(data("orders-clean.csv")));
  std::vector<std::string> header;
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string l = lines[i];
    if (!l.empty() && l.back() == '\r') l.pop_back();
    std::vector<std::string> cells;
    std::stringstream ss(l);
    for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
    if (l.ends_with(",")) cells.push_back("");
    if (i == 0) header = cells;
    if (i > 0 && cells[4] == order) {
      for (std::size_t k = 0; k < header.size(); ++k) {
        if (header[k] == col) cells[k] = value;
      }
    }
    std::string joined;
    for (std::size_t k = 0; k < cells.size(); ++k) joined += (k ? "," : "") + cells[k];
    out += joined + "\n";
  }
  return out;
}

std::string drop_row(const std::string& text, const std::string& order) {
  std::string out;
  for (auto& l : lines_of(text)) {
    if (!contains(l, "," + order + ",")) out += l + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("report values: money, rates and times are exact and strict") {
  CHECK(*im::parse_report_money("1,299.00") == 129900);
  CHECK(*im::parse_report_money("¥1299") == 129900);
  CHECK(*im::parse_report_money("￥1,299.5") == 129950);
  CHECK(*im::parse_report_money(" 12 ") == 1200);
  CHECK_FALSE(im::parse_report_money("12.345").ok());
  CHECK_FALSE(im::parse_report_money("1,29.00").ok());
  CHECK_FALSE(im::parse_report_money("12,3456").ok());
  CHECK_FALSE(im::parse_report_money("1.2e3").ok());
  CHECK_FALSE(im::parse_report_money("").ok());
  CHECK(*im::parse_report_rate("9.10 %") == 91000);
  CHECK(*im::parse_report_rate("9.1%") == 91000);
  CHECK(*im::parse_report_rate("20.00%") == 200000);
  CHECK(*im::parse_report_rate("4.125%") == 41250);
  CHECK_FALSE(im::parse_report_rate("4.12345%").ok());
  CHECK_FALSE(im::parse_report_rate("0.091").ok());
  CHECK(im::format_rate(91000) == "9.1%");
  CHECK(im::format_rate(200000) == "20%");
  CHECK(im::format_rate(41250) == "4.125%");
  auto t = im::parse_report_time("2026-10-06 09:00:00", 8 * 3600);
  REQUIRE(t.ok());
  CHECK(fz::format_time(*t, 0) == "2026-10-06T01:00:00+00:00");
  CHECK(fz::format_time(*im::parse_report_time("2026-10-06 09:00:00", -5 * 3600), 0) ==
        "2026-10-06T14:00:00+00:00");
  CHECK_FALSE(im::parse_report_time("2026/10/06 09:00:00", 0).ok());
  CHECK_FALSE(im::parse_report_time("2026-02-30 09:00:00", 0).ok());
  CHECK_FALSE(im::parse_report_time("2026-10-06 09:00", 0).ok());
  CHECK(im::shop_id("田园农庄").starts_with("shop-"));
  CHECK(im::shop_id("田园农庄").size() == 17);
}

TEST_CASE("encodings are detected: BOMs, UTF-8, GB18030, Latin-1 is refused with its line") {
  const std::string text = "子订单编号,订单状态\n1,已付款\n";
  im::Encoding e{};
  CHECK(*im::to_utf8(text, &e) == text);
  CHECK(e == im::Encoding::kUtf8);
  CHECK(*im::to_utf8("\xEF\xBB\xBF" + text, &e) == text);
  CHECK(e == im::Encoding::kUtf8Bom);
  CHECK(*im::to_utf8("\xFF\xFE" + encode(text, "UTF-16LE"), &e) == text);
  CHECK(e == im::Encoding::kUtf16Le);
  CHECK(*im::to_utf8("\xFE\xFF" + encode(text, "UTF-16BE"), &e) == text);
  CHECK(e == im::Encoding::kUtf16Be);
  CHECK(*im::to_utf8(encode(text, "GB18030"), &e) == text);
  CHECK(e == im::Encoding::kGb18030);
  auto latin1 = im::to_utf8("order,shop\n1,Caf\xE9,x\n", &e);
  REQUIRE_FALSE(latin1.ok());
  CHECK(contains(latin1.message(), "line 2"));
  CHECK(contains(latin1.message(), "neither UTF-8 nor GB18030"));
}

TEST_CASE("CSV rows: RFC 4180 quoting, embedded newlines, tab or comma, line numbers of the file") {
  auto table = im::open_csv(
      "title\n\n子订单编号\tx\n1\t\"a\tb\"\n\"2\"\t\"two\nlines\"\r\n3\t\"q\"\"uote\"\n", "UTF-8");
  REQUIRE(table.ok());
  std::vector<im::Row> rows;
  im::Row r;
  while (*(*table)->next(&r)) rows.push_back(r);
  REQUIRE(rows.size() == 5);
  CHECK(rows[1].line == 3);
  CHECK(rows[2].cells[1] == "a\tb");
  CHECK(rows[3].line == 5);
  CHECK(rows[3].cells[1] == "two\nlines");
  CHECK(rows[4].line == 7);
  CHECK(rows[4].cells[1] == "q\"uote");
  auto bad = im::open_csv("子订单编号,x\n1,\"open\n", "UTF-8");
  REQUIRE(bad.ok());
  while (true) {
    auto got = (*bad)->next(&r);
    if (!got) {
      CHECK(contains(got.message(), "ends inside a quoted cell"));
      break;
    }
    REQUIRE(*got);
  }
}

TEST_CASE(
    "the same orders as hand-written events, and as a report in four encodings and XLSX, give the same "
    "books") {
  Ledger hand;
  hand.setup();
  auto appended = hand("append " + data("orders-clean.jsonl"));
  INFO(appended.out);
  REQUIRE(appended.exit_code == 0);
  const std::string expected = hand.books();
  CHECK(contains(expected, "@merchant:m1:cps"));  // commission was computed, not an empty journal

  const std::string utf8 = read_all(data("orders-clean.csv"));
  const std::vector<std::pair<std::string, std::string>> reports = {
      {"utf8.csv", utf8},
      {"utf8-bom.csv", "\xEF\xBB\xBF" + utf8},
      {"utf16le.csv", "\xFF\xFE" + encode(utf8, "UTF-16LE")},
      {"utf16be.csv", "\xFE\xFF" + encode(utf8, "UTF-16BE")},
      {"gb18030.csv", encode(utf8, "GB18030")},
  };
  for (const auto& [name, bytes] : reports) {
    CAPTURE(name);
    Ledger l;
    l.setup();
    write_file(l.dir / name, bytes);
    const std::string out = l.import_orders(l.dir / name, 0);
    CHECK(contains(out, "appended 16, duplicates 0, rejected 0"));
    CHECK(l.books() == expected);
  }
  Ledger x;
  x.setup();
  const std::string out = x.import_orders(data("orders-clean.xlsx"), 0);
  CHECK(contains(out, "XLSX"));
  CHECK(x.books() == expected);
  // A tab-separated UTF-16 export of the same rows too.
  Ledger tab;
  tab.setup();
  std::string tsv = utf8;
  bool quoted_cell = false;
  for (char& c : tsv) {
    if (c == '"') quoted_cell = !quoted_cell;
    if (c == ',' && !quoted_cell) c = '\t';
  }
  write_file(tab.dir / "tab.csv", "\xFF\xFE" + encode(tsv, "UTF-16LE"));
  CHECK(contains(tab.import_orders(tab.dir / "tab.csv", 0), "tab-separated"));
  CHECK(tab.books() == expected);
}

TEST_CASE(
    "re-importing appends nothing, a later report appends exactly the new events, a changed amount is a "
    "conflict") {
  Ledger l;
  l.setup();
  CHECK(contains(l.import_orders(example("orders-2026-10.csv"), 1), "appended 16, duplicates 0, rejected 2"));
  const std::string books = l.books();
  CHECK(contains(l.import_orders(example("orders-2026-10.csv"), 1), "appended 0, duplicates 13, rejected 2"));
  CHECK(
      contains(l.import_orders(example("orders-2026-10.xlsx"), 1), "appended 0, duplicates 13, rejected 2"));
  CHECK(contains(l.import_orders(example("orders-2026-10-gb18030.csv"), 1),
                 "appended 0, duplicates 13, rejected 2"));
  CHECK(l.books() == books);

  // November: 1001 paid -> settled, 1002 received -> closed. The dry run names exactly those events.
  auto dry = l("import tbk orders " + example("orders-2026-11.csv") + l.map() + " --dry-run 2>/dev/null");
  REQUIRE(dry.exit_code == 0);
  const auto events = json_lines(dry.out);
  REQUIRE(events.size() == 2);
  CHECK(contains(events[0], "\"id\":\"tbk-9000011001-confirmed\""));
  CHECK(contains(events[1], "\"id\":\"tbk-9000021002-closed\""));
  CHECK(contains(events[1], "\"amount\":\"1299.00\""));
  CHECK(l.books() == books);  // the dry run wrote nothing
  CHECK(contains(l.import_orders(example("orders-2026-11.csv"), 0), "appended 2, duplicates 13, rejected 0"));
  CHECK(contains(l.import_orders(example("orders-2026-11.csv"), 0), "appended 0, duplicates 15, rejected 0"));

  // 1001's amount changed: a conflict, nothing appended for the row.
  Ledger c;
  c.setup();
  c.import_orders(data("orders-clean.csv"), 0);
  write_file(c.dir / "changed.csv", edit_clean("9000011001", "付款金额", "200.00"));
  const std::string before = c.books();
  auto r = c("import tbk orders " + (c.dir / "changed.csv") + c.map());
  CHECK(r.exit_code == 1);
  CHECK(contains(r.out, ":2: 9000011001: conflict: id tbk-9000011001-paid already holds a different event"));
  CHECK(contains(r.out, "appended 0, duplicates 12, rejected 1"));
  CHECK(c.books() == before);
}

TEST_CASE("a row that changed amount and moved on appends nothing at all") {
  Ledger c;
  c.setup();
  c.import_orders(data("orders-clean.csv"), 0);
  const std::string before = c.books();
  // 1001: amount 200.00 and settled: order.paid conflicts, so its new order.confirmed is not appended either.
  std::string text = edit_clean("9000011001", "付款金额", "200.00");
  write_file(c.dir / "a.csv", text);
  std::string settled;
  for (auto& l : lines_of(text)) {
    if (contains(l, ",9000011001,")) {
      l.replace(l.find("已付款"), std::string("已付款").size(), "已结算");
      l.replace(0, l.find(','), "2026-10-06 08:59:00");
      auto first = l.find(',');
      auto second = l.find(',', first + 1);
      l.replace(second + 1, 0, "2026-11-05 10:00:00");
    }
    settled += l + "\n";
  }
  write_file(c.dir / "b.csv", settled);
  auto r = c("import tbk orders " + (c.dir / "b.csv") + c.map());
  INFO(r.out);
  CHECK(r.exit_code == 1);
  CHECK(contains(r.out, "conflict: id tbk-9000011001-paid"));
  CHECK(contains(r.out, "appended 0,"));
  CHECK(c.books() == before);
  CHECK(contains(c("explain tbk-9000011001-confirmed").out, "no event tbk-9000011001-confirmed"));
}

TEST_CASE("malformed reports are refused with the line and the column, nothing appended for the row") {
  Ledger l;
  l.setup();
  const std::string before = l.books();
  struct Case {
    std::string name, text, expect;
  };
  const std::vector<Case> cases = {
      {"bad-time.csv", edit_clean("9000011001", "付款时间", "2026-10-06 9:00"),
       ":2: 9000011001: column 付款时间: \"2026-10-06 9:00\" is not a time such as 2026-10-05 20:00:00"},
      {"bad-amount.csv", edit_clean("9000011001", "付款金额", "12.345"),
       ":2: 9000011001: column 付款金额: \"12.345\" has 3 decimals"},
      {"bad-status.csv", edit_clean("9000011001", "订单状态", "已发货"),
       ":2: 9000011001: column 订单状态: unknown status \"已发货\""},
      {"bad-pid.csv", edit_clean("9000011001", "推广位ID", "4321"),
       ":2: 9000011001: 推广位ID 4321: not in the map"},
      {"bad-rate.csv", edit_clean("9000011001", "佣金比率", "0.2"),
       ":2: 9000011001: column 佣金比率: \"0.2\" is not a rate"},
      {"bad-settled.csv", edit_clean("9000031003", "结算时间", ""),
       ":2: 9000031003: column 结算时间: empty for a settled order"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    // The header and the bad row only (line 2 of the file).
    const std::string order = contains(c.name, "settled") ? "9000031003" : "9000011001";
    auto ls = lines_of(c.text);
    std::string one = ls[0] + "\n";
    for (auto& x : ls) {
      if (contains(x, "," + order + ",")) one += x + "\n";
    }
    write_file(l.dir / c.name, one);
    auto r = l("import tbk orders " + (l.dir / c.name) + l.map());
    INFO(r.out);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.out, c.name + c.expect));
    CHECK(contains(r.out, "rejected 1"));
    // The rejected row left no order behind.
    const std::string id = contains(c.name, "settled") ? "tbk-9000031003-paid" : "tbk-9000011001-paid";
    CHECK(contains(l("explain " + id).out, "no event " + id));
  }

  // A missing required column: named, with the synonyms looked for; nothing of the file appended.
  std::string no_amount;
  for (auto& x : lines_of(read_all(data("orders-clean.csv")))) {
    std::vector<std::string> cells;
    std::stringstream ss(x);
    for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
    cells.erase(cells.begin() + 8);
    std::string j;
    for (std::size_t k = 0; k < cells.size(); ++k) j += (k ? "," : "") + cells[k];
    no_amount += j + "\n";
  }
  write_file(l.dir / "no-amount.csv", no_amount);
  auto r = l("import tbk orders " + (l.dir / "no-amount.csv") + l.map());
  CHECK(r.exit_code == 1);
  CHECK(contains(r.out, "no-amount.csv:1: -: column 付款金额: missing (looked for 付款金额)"));
  CHECK(contains(r.out, "appended 0, duplicates 0, rejected 1"));
  auto r2 = l("import tbk refunds " + data("orders-clean.csv"));
  CHECK(r2.exit_code == 1);
  CHECK(contains(r2.out, "orders-clean.csv:1: -: column 维权状态: missing (looked for 维权状态)"));
  CHECK(contains(r2.out, "orders-clean.csv:1: -: column 维权退款金额: missing (looked for 维权退款金额)"));
  CHECK(contains(r2.out, "column 维权完成时间: missing (looked for 维权完成时间, 维权创建时间)"));
  CHECK(contains(r2.out, "appended 0, duplicates 0, rejected 3"));
  CHECK_FALSE(contains(r2.out, "skipped"));
  write_file(l.dir / "no-order.csv", "订单编号,订单状态\n1,已付款\n");
  r2 = l("import tbk orders " + (l.dir / "no-order.csv") + l.map());
  CHECK(contains(r2.out,
                 "no-order.csv:1: -: column 子订单编号: missing (looked for 子订单编号, 淘宝子订单号 in the "
                 "header of every row)"));

  // Neither UTF-8 nor GB18030.
  write_file(l.dir / "latin1.csv", "子订单编号,x\n" + std::string("1,Caf\xE9,\n"));
  r = l("import tbk orders " + (l.dir / "latin1.csv") + l.map());
  CHECK(r.exit_code == 1);
  CHECK(contains(r.out, "latin1.csv:1: -: bytes"));
  CHECK(contains(r.out, "neither UTF-8 nor GB18030"));

  // A truncated XLSX.
  const std::string xlsx = read_all(data("orders-clean.xlsx"));
  write_file(l.dir / "truncated.xlsx", xlsx.substr(0, xlsx.size() / 2));
  r = l("import tbk orders " + (l.dir / "truncated.xlsx") + l.map());
  CHECK(r.exit_code == 1);
  CHECK(contains(r.out, "truncated.xlsx:1: -: not a readable XLSX file"));
  CHECK(l.books() == before);
}

namespace {

// An XLSX (deflated) whose first sheet is `sheet`, with `strings` as its shared strings when not empty.
std::string xlsx_of(const std::string& sheet, const std::string& strings = {}) {
  static const std::string workbook =
      "<workbook xmlns:r=\"r\"><sheets><sheet name=\"s\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";
  static const std::string rels =
      "<Relationships><Relationship Id=\"rId1\" Target=\"worksheets/sheet1.xml\"/></Relationships>";
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* out = zip_source_buffer_create(nullptr, 0, 0, &err);
  zip_source_keep(out);
  zip_t* z = zip_open_from_source(out, ZIP_TRUNCATE, &err);
  REQUIRE(z != nullptr);
  auto add = [&](const char* name, const std::string& s) {
    zip_source_t* src = zip_source_buffer(z, s.data(), s.size(), 0);
    REQUIRE(zip_file_add(z, name, src, ZIP_FL_OVERWRITE) >= 0);
  };
  add("xl/workbook.xml", workbook);
  add("xl/_rels/workbook.xml.rels", rels);
  add("xl/worksheets/sheet1.xml", sheet);
  if (!strings.empty()) add("xl/sharedStrings.xml", strings);
  REQUIRE(zip_close(z) == 0);
  REQUIRE(zip_source_open(out) == 0);
  zip_stat_t st;
  zip_source_stat(out, &st);
  std::string bytes(st.size, '\0');
  REQUIRE(zip_source_read(out, bytes.data(), st.size) == static_cast<zip_int64_t>(st.size));
  zip_source_close(out);
  zip_source_free(out);
  zip_error_fini(&err);
  return bytes;
}

// An XLSX whose sheet inflates to `inflated` bytes (spaces compress about 1000:1).
std::string zip_bomb(std::size_t inflated) {
  return xlsx_of("<?xml version=\"1.0\"?><worksheet><sheetData>" + std::string(inflated, ' ') +
                 "</sheetData></worksheet>");
}

// Sets the declared uncompressed size of every member named `name` (local and central headers).
void lie_about_size(std::string& zip, const std::string& name, std::uint32_t size) {
  auto put32 = [&](std::size_t at) {
    for (int i = 0; i < 4; ++i)
      zip[at + static_cast<std::size_t>(i)] = static_cast<char>((size >> (8 * i)) & 0xFF);
  };
  for (std::size_t at = 0; (at = zip.find(name, at)) != std::string::npos; at += name.size()) {
    if (at >= 30 && zip.compare(at - 30, 4, "PK\x03\x04") == 0) put32(at - 30 + 22);
    if (at >= 46 && zip.compare(at - 46, 4, "PK\x01\x02") == 0) put32(at - 46 + 24);
  }
}

}  // namespace

TEST_CASE("a ZIP bomb is refused by its declared size, and by the bytes inflated when the header lies") {
  const std::string honest = zip_bomb(std::size_t{80} << 20);
  CHECK(honest.size() < (std::size_t{1} << 20));
  auto t = im::open_xlsx(honest);
  REQUIRE_FALSE(t.ok());
  CHECK(contains(t.message(), "declares 83886"));
  CHECK(contains(t.message(), "ZIP bomb"));

  std::string lying = honest;
  lie_about_size(lying, "xl/worksheets/sheet1.xml", 1000);
  auto t2 = im::open_xlsx(lying);
  REQUIRE_FALSE(t2.ok());
  INFO(t2.message());
  // Either the inflated bytes passed the cap, or libzip noticed the lie first: refused both ways.
  CHECK((contains(t2.message(), "inflates past") || contains(t2.message(), "damaged")));

  TempDir d;
  write_file(d / "bomb.xlsx", honest);
  auto r = run(fmt::format("{} --db {} import tbk orders {} --map {}", fz::test::bin(), d / "db",
                           d / "bomb.xlsx", example("map.csv")));
  CHECK(r.exit_code == 1);
  CHECK(contains(r.out, "bomb.xlsx:1: -: refused: xl/worksheets/sheet1.xml declares"));
}

// Found while adding tests/fuzz/reports_fuzz: the inflated bytes were capped, the cells they turn into
// were not. A few bytes of XML can name column AMJ (a row of 1,024 cells) or repeat a 4 KiB shared
// string, so a sheet of well under 64 MiB held gigabytes once read. Both sheets below held about 290 MB
// before kMaxXlsxCellMemory (256 MiB); they are refused now, with the row where the budget ran out.
TEST_CASE("an XLSX whose cells would take more memory than the cap is refused, however few bytes inflate") {
  std::string far = "<worksheet><sheetData>";
  for (int r = 1; r <= 9000; ++r) far += fmt::format(R"(<row r="{0}"><c r="AMJ{0}"><v>1</v></c></row>)", r);
  far += "</sheetData></worksheet>";
  CHECK(far.size() < (std::size_t{1} << 20));
  auto t = im::open_xlsx(xlsx_of(far));
  REQUIRE_FALSE(t.ok());
  INFO(t.message());
  CHECK(contains(t.message(), "the cells read take more than 268435456 bytes in memory"));
  CHECK(
      t.message().starts_with("row 8184: "));  // 8,183 rows of 1,024 cells (32 KiB and a bit) fit in 256 MiB

  const std::string strings = "<sst><si><t>" + std::string(4000, 'x') + "</t></si></sst>";
  std::string repeated = "<worksheet><sheetData>";
  for (int r = 1; r <= 70; ++r) {
    repeated += fmt::format(R"(<row r="{}">)", r);
    for (int c = 0; c < 1000; ++c) repeated += R"(<c t="s"><v>0</v></c>)";
    repeated += "</row>";
  }
  repeated += "</sheetData></worksheet>";
  CHECK(repeated.size() < (std::size_t{2} << 20));
  auto t2 = im::open_xlsx(xlsx_of(repeated, strings));
  REQUIRE_FALSE(t2.ok());
  INFO(t2.message());
  CHECK(contains(t2.message(), "the cells read take more than 268435456 bytes in memory"));

  // The same shapes, smaller, are read: the cap is on memory, not on the shape.
  std::string few = "<worksheet><sheetData>";
  for (int r = 1; r <= 100; ++r) few += fmt::format(R"(<row r="{0}"><c r="AMJ{0}"><v>1</v></c></row>)", r);
  few += "</sheetData></worksheet>";
  auto t3 = im::open_xlsx(xlsx_of(few));
  REQUIRE(t3.ok());
  im::Row row;
  auto got = (*t3)->next(&row);
  REQUIRE(got.ok());
  CHECK(*got);
  CHECK(row.cells.size() == 1024);
  CHECK(row.cells.back() == "1");
}

TEST_CASE("refunds: 维权成功 rows become order.refunded, others are skipped, re-import is all duplicates") {
  Ledger l;
  l.setup();
  l.import_orders(example("orders-2026-10.csv"), 1);
  const std::string m1_before = l("--format json balance '@merchant:m1:cps'").out;
  CHECK(contains(m1_before,
                 "\"total\":\"-219.60\""));  // 79.80 of the sample's orders, 59.80 + 100.00 of 1003, 1006
  auto r = l("import tbk refunds " + example("refunds-2026-11.csv"));
  INFO(r.out);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "skipped 2 rows"));
  CHECK(contains(r.out, "appended 3, duplicates 0, rejected 0"));
  r = l("import tbk refunds " + example("refunds-2026-11.csv"));
  CHECK(contains(r.out, "appended 0, duplicates 3, rejected 0"));
  // The case without a 维权编号 is named from the completion time's digits.
  CHECK_FALSE(contains(l("--format json journal --event tbk-9000041004-refund-r20261127113000").out, "[]"));
  // 1006: 500.00 refunded 100.00 -> commission round(400.00 x 20%) = 80.00 charged to m1 in all.
  auto j = l("--format json balance '@merchant:m1:cps'");
  INFO(j.out);
  // 1006 refunded 100.00 of 500.00: the commission 100.00 becomes 80.00, m1 is charged 20.00 less.
  CHECK(contains(j.out, "\"total\":\"-199.60\""));
}

TEST_CASE(
    "reconcile: the same report shows no difference, one removed, one status and one commission are exactly "
    "three rows") {
  Ledger l;
  l.setup();
  l.import_orders(data("orders-clean.csv"), 0);
  auto same = l("--format json reconcile tbk " + data("orders-clean.csv"));
  INFO(same.out);
  CHECK(same.exit_code == 0);
  CHECK(contains(same.out, "\"differences\":[]"));
  auto xlsx = l("--format table reconcile tbk " + data("orders-clean.xlsx"));
  CHECK(xlsx.exit_code == 0);
  CHECK(contains(xlsx.out, ": 0 differences"));

  std::string text = drop_row(read_all(data("orders-clean.csv")), "9000031003");
  write_file(l.dir / "x.csv", text);
  // 1001 settled in the report, the ledger has it paid; 1006's commission 100.00 -> 99.00.
  std::string edited;
  for (auto& x : lines_of(text)) {
    if (contains(x, ",9000011001,")) x.replace(x.find("已付款"), std::string("已付款").size(), "已结算");
    if (contains(x, ",9000061006,")) x.replace(x.find(",100.00,"), 8, ",99.00,");
    edited += x + "\n";
  }
  write_file(l.dir / "x.csv", edited);
  auto r = l("--format json reconcile tbk " + (l.dir / "x.csv"));
  INFO(r.out);
  CHECK(r.exit_code == 1);
  CHECK(contains(
      r.out,
      "\"differences\":[{\"order\":\"9000011001\",\"kind\":\"status\",\"report\":\"settled\",\"ledger\":"
      "\"paid\"},"
      "{\"order\":\"9000031003\",\"kind\":\"missing in report\",\"report\":\"-\",\"ledger\":\"confirmed\"},"
      "{\"order\":\"9000061006\",\"kind\":\"commission\",\"report\":\"99.00\",\"ledger\":\"100.00\"}]"));
  CHECK(contains(r.out, "\"commission_difference\":\"-1.00\""));
  auto csv = l("--format csv reconcile tbk " + (l.dir / "x.csv"));
  CHECK(lines_of(csv.out).size() == 5);  // header + 3, and the summary (on standard error)
  CHECK(contains(csv.out, "9000061006,commission,99.00,100.00"));
  // A report order the ledger does not have.
  auto more = l("--format table reconcile tbk " + example("orders-2026-10.csv"));
  CHECK(more.exit_code == 1);
  CHECK(contains(more.out, "9000081008  missing in ledger"));
}

TEST_CASE("a dry run decides every row as the import does, the engine's rejections included") {
  Ledger l;
  l.setup();
  // Refunds of orders the ledger does not hold: the engine refuses each ("has not been paid"), and the
  // dry run says so with the import's own rejection lines and exit status, printing no event.
  const std::string refunds = "import tbk refunds " + example("refunds-2026-11.csv");
  const std::string before = l.books();
  auto dry = l(refunds + " --dry-run 2>&1");
  CHECK(dry.exit_code == 1);
  CHECK(json_lines(dry.out).empty());
  CHECK(contains(dry.out, "would append 0, duplicates 0, rejected 3"));
  CHECK(contains(dry.out, "skipped 2 rows (维权状态 other than 维权成功)"));
  auto real = l(refunds);
  CHECK(real.exit_code == 1);
  CHECK(contains(real.out, "appended 0, duplicates 0, rejected 3"));
  auto rejections = [](const std::string& out) {
    std::vector<std::string> r;
    for (const std::string& line : lines_of(out)) {
      if (contains(line, "has not been paid")) r.push_back(line);
    }
    return r;
  };
  CHECK(rejections(dry.out).size() == 3);
  CHECK(rejections(dry.out) == rejections(real.out));
  CHECK(l.books() == before);
  // Once the orders are in, the dry run prints exactly the events the import then appends.
  l.import_orders(example("orders-2026-10.csv"), 1);
  l.import_orders(example("orders-2026-11.csv"), 0);
  const std::string paid = l.books();
  auto now = l(refunds + " --dry-run 2>/dev/null");
  CHECK(now.exit_code == 0);
  const auto events = json_lines(now.out);
  CHECK(events.size() == 3);
  CHECK(l.books() == paid);  // nothing written
  CHECK(contains(l(refunds).out, fmt::format("appended {}, duplicates 0, rejected 0", events.size())));
  // The dry run's lines are the log's last events, byte for byte as `export events` prints them.
  const auto log = json_lines(l("export events 2>/dev/null").out);
  REQUIRE(log.size() >= events.size());
  CHECK(std::vector<std::string>(log.end() - static_cast<std::ptrdiff_t>(events.size()), log.end()) ==
        events);
}

TEST_CASE("dry run prints JSON Lines events and writes nothing") {
  TempDir d;
  auto r = run(fmt::format("{} --db {} import tbk orders {} --map {} --dry-run 2>/dev/null", fz::test::bin(),
                           d / "db", data("orders-clean.csv"), example("map.csv")));
  CHECK(r.exit_code == 0);
  // The same events as the hand-written file, line for line.
  CHECK(json_lines(r.out).size() == lines_of(read_all(data("orders-clean.jsonl"))).size());
  CHECK(contains(r.out, "\"id\":\"tbk-9000051005-closed\""));
  CHECK_FALSE(std::filesystem::exists(d / "db"));
}

TEST_CASE("rows map to the very events their JSON lines give through the line parser, rejections included") {
  // Events of report rows are built from typed values (fz::accepted_as_line) rather than as JSON lines
  // parsed back; ReportOptions::reference_mapping takes the JSON route for every event. Both must give
  // the same events and the same reasons, for the sample reports and for rows at the edges: control
  // characters in a title (a cell of them at the cell limit), an order number too long for the event
  // ids, every status, refunds with and without a case number and a malformed case number.
  auto map_bytes = read_all(example("map.csv"));
  auto map = im::parse_import_map(map_bytes, "map.csv");
  REQUIRE(map.ok());
  std::string edge =
      "创建时间,付款时间,结算时间,订单编号,子订单编号,商品信息,掌柜旺旺,订单状态,付款金额,佣金比率,佣金金额,"
      "推广位ID,渠道关系ID\n";
  auto row = [&](const std::string& sub, const std::string& title, const std::string& status,
                 const std::string& settled) {
    edge += fmt::format(
        "2026-10-06 08:59:00,2026-10-06 09:00:00,{},900001,{},\"{}\",某某旗舰店,{},199.00,20.00 %,"
        "39.80,111,\n",
        settled, sub, title, status);
  };
  row("7000000001", "tab\there, newline\nthere, bell \x07 and \"\"quotes\"\"", "已付款", "");
  row("7000000002", std::string(4000, '\x01'), "已结算", "2026-10-20 10:00:00");  // 24,000 bytes escaped
  row("7000000004", "", "已失效", "");
  row("7000000005", "连衣裙", "已收货", "");
  row(std::string(126, '9'), "long order number", "已结算", "2026-10-20 10:00:00");  // ids over 128
  row("7000000006", "a settled order without its time", "已结算", "");
  const std::string refunds =
      "维权编号,订单编号,淘宝子订单编号,商品信息,维权状态,维权退款金额,维权创建时间,维权完成时间\n"
      "5001,900006,9000061006,羊绒大衣,维权成功,100.00,2026-11-20 09:00:00,2026-11-25 10:00:00\n"
      ",900004,9000041004,x,维权成功,10.00,2026-11-20 09:00:00,2026-11-27 11:30:00\n"
      "bad case,900004,9000041005,x,维权成功,10.00,2026-11-20 09:00:00,2026-11-27 11:30:00\n"
      "5003,900004,9000041006,x,维权中,10.00,2026-11-20 09:00:00,2026-11-27 11:30:00\n";

  auto rows_of = [&](const std::string& bytes, bool refund, bool reference) {
    im::ReportOptions options;
    options.reference_mapping = reference;
    auto table = im::open_table(bytes);
    REQUIRE_MESSAGE(table.ok(), table.message());
    auto report = refund ? im::refund_report(std::move(*table), options)
                         : im::order_report(std::move(*table), *map, options);
    std::vector<im::MappedRow> out;
    for (;;) {
      im::MappedRow r;
      auto more = report->next(&r);
      REQUIRE_MESSAGE(more.ok(), more.message());
      if (!*more) break;
      out.push_back(std::move(r));
    }
    return out;
  };
  const std::vector<std::pair<std::string, bool>> reports = {
      {read_all(example("orders-2026-10.csv")), false},
      {read_all(example("orders-2026-11.csv")), false},
      {read_all(example("orders-2026-10.xlsx")), false},
      {read_all(example("refunds-2026-11.csv")), true},
      {edge, false},
      {refunds, true}};
  std::size_t events = 0, rejected = 0;
  for (const auto& [bytes, refund] : reports) {
    const auto fast = rows_of(bytes, refund, false);
    const auto reference = rows_of(bytes, refund, true);
    REQUIRE(fast.size() == reference.size());
    for (std::size_t i = 0; i < fast.size(); ++i) {
      CAPTURE(reference[i].line);
      CHECK(fast[i].reason == reference[i].reason);
      CHECK(fast[i].id == reference[i].id);
      CHECK(fast[i].skipped == reference[i].skipped);
      CHECK(fast[i].shared == reference[i].shared);
      CHECK(fast[i].events == reference[i].events);
      events += reference[i].events.size();
      rejected += reference[i].reason.empty() ? 0 : 1;
    }
  }
  CHECK(events > 30);
  CHECK(rejected >= 5);  // unmapped, 12.345, the long ids, the settled order without a time, the bad case
}
