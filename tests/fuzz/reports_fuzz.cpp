// libFuzzer target: arbitrary bytes as a Taobao Union report through the readers of import/ (encoding
// detection, CSV, XLSX) and the row mapping with a small fixed MAP. The first byte chooses the way in:
//   'o' 'r' 'l'  the rest is a report file (open_table: XLSX when it starts with PK\3\4, else text in
//                any encoding) read as an order report, a refund report, or for reconciliation;
//   'O' 'R' 'L'  the same readers over an XLSX built here around the rest: the sheet's XML, then after a
//                NUL byte the shared strings' XML (so that mutations reach the XML handlers, not only
//                libzip's checks);
//   'm'          the rest as a MAP file, then each line of it through the money, rate and time parsers;
//   any other    one of the above by its value.
// Invariants checked on every input: every error and every rejected row has a non-empty message; a
// rejected or skipped row has no events; an accepted row has events, each valid (its canonical bytes
// round-trip through decode/encode and through JSON and the append parser) and with a `tbk-` id;
// nothing crashes, leaks or trips a sanitizer. Run with -rss_limit_mb/-malloc_limit_mb to hold the
// readers to their documented limits (an XLSX inflates to at most 64 MiB).
#include <zip.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

#include "import/import.hpp"
#include "model/event_json.hpp"
#include "store/codec.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

const fz::imports::ImportMap& fixed_map() {
  static const fz::imports::ImportMap map = [] {
    auto m = fz::imports::parse_import_map(
        "kind,key,id\npid,111,s1\npid,222,s2\nrelation,9001,s3\nmerchant,某某旗舰店,m1\n", "fuzz-map.csv");
    if (!m) fail("the fixed MAP does not parse");
    return std::move(*m);
  }();
  return map;
}

void check_event(const fz::Event& e) {
  if (!e.id.starts_with("tbk-")) fail("an imported event whose id does not start with tbk-");
  const std::string bytes = fz::encode_event(e);
  auto back = fz::decode_event(bytes);
  if (!back.ok() || fz::encode_event(*back) != bytes) fail("codec round trip");
  const fz::LineResult again = fz::parse_event_line(fz::event_to_json(e));
  if (!again.event || fz::encode_event(*again.event) != bytes) fail("JSON round trip");
}

void check_mapped(const fz::imports::MappedRow& row) {
  if (row.id.empty()) fail("a row with an empty id");
  if (!row.reason.empty()) {
    if (!row.events.empty() || row.skipped) fail("a rejected row with events or skipped");
    return;
  }
  if (row.skipped) {
    if (!row.events.empty()) fail("a skipped row with events");
    return;
  }
  if (row.events.empty()) fail("an accepted row without events (and without a reason)");
  if (row.shared > row.events.size()) fail("more shared events than events");
  if (row.line == 0) fail("an accepted row without a line");
  for (const fz::Event& e : row.events) check_event(e);
}

void check_reconcile(const fz::imports::ReconcileRow& row) {
  if (row.id.empty()) fail("a reconcile row with an empty id");
  if (row.reason.empty() && row.order.order != row.id) fail("a reconcile row whose order is not its id");
}

// Reads every row of a Report or OrderLines through `check`; an error must say why.
template <class Row, class Reader, class Check>
void drain(Reader& reader, Check check) {
  Row row;
  for (;;) {
    auto got = reader.next(&row);
    if (!got) {
      if (got.message().empty()) fail("a reader error without a message");
      return;
    }
    if (!*got) return;
    check(row);
  }
}

void drain_report(fz::imports::Report& report) {
  drain<fz::imports::MappedRow>(report, check_mapped);
  for (const std::string& note : report.notes()) {
    if (note.empty()) fail("an empty note");
  }
}

void read_table(char reader, fz::Result<std::unique_ptr<fz::imports::Table>> table) {
  if (!table) {
    if (table.message().empty()) fail("open_table failed without a message");
    return;
  }
  if ((*table)->describe().empty()) fail("a table without a description");
  switch (reader) {
    case 'o': {
      auto report = fz::imports::order_report(std::move(*table), fixed_map(), {});
      drain_report(*report);
      break;
    }
    case 'r': {
      auto report = fz::imports::refund_report(std::move(*table), {});
      drain_report(*report);
      break;
    }
    default: {
      auto lines = fz::imports::order_lines(std::move(*table));
      drain<fz::imports::ReconcileRow>(*lines, check_reconcile);
      break;
    }
  }
}

// A minimal XLSX (stored, not deflated) whose first sheet is `sheet` and whose shared strings are
// `strings` (no sharedStrings.xml when empty).
std::string make_xlsx(std::string_view sheet, std::string_view strings) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* out = zip_source_buffer_create(nullptr, 0, 0, &err);
  if (out == nullptr) fail("zip_source_buffer_create");
  zip_source_keep(out);
  zip_t* z = zip_open_from_source(out, ZIP_TRUNCATE, &err);
  if (z == nullptr) fail("zip_open_from_source");
  auto add = [&](const char* name, std::string_view body) {
    zip_source_t* s = zip_source_buffer(z, body.data(), body.size(), 0);
    if (s == nullptr) fail("zip_source_buffer");
    const zip_int64_t i = zip_file_add(z, name, s, ZIP_FL_ENC_UTF_8);
    if (i < 0) fail("zip_file_add");
    (void)zip_set_file_compression(z, static_cast<zip_uint64_t>(i), ZIP_CM_STORE, 0);
  };
  add("xl/workbook.xml",
      R"(<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">)"
      R"(<sheets><sheet name="订单明细" sheetId="1" r:id="rId1"/></sheets></workbook>)");
  add("xl/_rels/workbook.xml.rels",
      R"(<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>)");
  add("xl/worksheets/sheet1.xml", sheet);
  if (!strings.empty()) add("xl/sharedStrings.xml", strings);
  if (zip_close(z) != 0) fail("zip_close");
  std::string bytes;
  if (zip_source_open(out) != 0) fail("zip_source_open");
  char buf[4096];
  for (zip_int64_t n; (n = zip_source_read(out, buf, sizeof buf)) > 0;)
    bytes.append(buf, static_cast<std::size_t>(n));
  zip_source_close(out);
  zip_source_free(out);
  zip_error_fini(&err);
  return bytes;
}

void values(std::string_view text) {
  std::istringstream lines{std::string(text)};
  for (std::string line; std::getline(lines, line);) {
    if (auto m = fz::imports::parse_report_money(line); !m && m.message().empty()) fail("money: no message");
    if (auto r = fz::imports::parse_report_rate(line); !r) {
      if (r.message().empty()) fail("rate: no message");
    } else if (*r < 0 || fz::imports::format_rate(*r).empty()) {
      fail("a negative rate");
    }
    if (auto t = fz::imports::parse_report_time(line, fz::kDefaultOffsetSec); !t && t.message().empty())
      fail("time: no message");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static constexpr char kModes[] = {'o', 'r', 'l', 'O', 'R', 'L', 'm'};
  char mode = static_cast<char>(data[0]);
  if (std::string_view("orlORLm").find(mode) == std::string_view::npos)
    mode = kModes[data[0] % sizeof kModes];
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (mode) {
    case 'o':
    case 'r':
    case 'l':
      read_table(mode, fz::imports::open_table(std::string(rest)));
      break;
    case 'O':
    case 'R':
    case 'L': {
      const std::size_t nul = rest.find('\0');
      const std::string_view sheet = rest.substr(0, nul);
      const std::string_view strings =
          nul == std::string_view::npos ? std::string_view{} : rest.substr(nul + 1);
      std::string xlsx = make_xlsx(sheet, strings);
      read_table(static_cast<char>(mode - 'A' + 'a'), fz::imports::open_xlsx(std::move(xlsx)));
      break;
    }
    default: {
      auto map = fz::imports::parse_import_map(rest, "fuzz.csv");
      if (!map && map.message().empty()) fail("a MAP error without a message");
      values(rest);
      break;
    }
  }
  return 0;
}
