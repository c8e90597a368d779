// XLSX reports: the ZIP container through libzip, the XML through expat; the first sheet only.
//
// A ZIP bomb is refused by size: each member's declared size is checked before it is opened, and the
// bytes actually inflated are counted while reading, so nothing inflates past kMaxInflatedBytes in
// total whatever the headers claim. The cells kept once read are counted too (kMaxXlsxCellMemory): a
// cell that names column AMJ costs a thousand empty cells, one that names a shared string a copy of it.
#include <expat.h>
#include <fmt/format.h>
#include <zip.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "import/import.hpp"

namespace fz::imports {
namespace {

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};
struct XmlParserFree {
  void operator()(XML_Parser p) const { XML_ParserFree(p); }
};

std::string_view local_name(const XML_Char* name) {
  std::string_view n(name);
  if (const std::size_t colon = n.rfind(':'); colon != std::string_view::npos) n.remove_prefix(colon + 1);
  return n;
}

const XML_Char* attribute(const XML_Char** attrs, std::string_view wanted_local, bool prefixed_only = false) {
  for (int i = 0; attrs[i] != nullptr; i += 2) {
    const std::string_view n(attrs[i]);
    if (prefixed_only && n.find(':') == std::string_view::npos) continue;
    if (local_name(attrs[i]) == wanted_local) return attrs[i + 1];
  }
  return nullptr;
}

class Archive {
 public:
  static Result<Archive> open(const std::string& bytes) {
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
    if (src == nullptr) {
      std::string why = zip_error_strerror(&err);
      zip_error_fini(&err);
      return make_error("not a readable XLSX file: " + why);
    }
    zip_t* z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err);
    if (z == nullptr) {
      zip_source_free(src);
      std::string why = zip_error_strerror(&err);
      zip_error_fini(&err);
      return make_error(fmt::format("not a readable XLSX file (a truncated or damaged ZIP): {}", why));
    }
    zip_error_fini(&err);
    Archive a;
    a.zip_.reset(z);
    return a;
  }

  bool has(const std::string& name) const { return zip_name_locate(zip_.get(), name.c_str(), 0) >= 0; }

  // Inflates a member chunk by chunk into `sink`, counting every byte against the budget.
  template <class Sink>
  Status read(const std::string& name, Sink&& sink) {
    const zip_int64_t index = zip_name_locate(zip_.get(), name.c_str(), 0);
    if (index < 0) return make_error(fmt::format("not an XLSX file: it has no {}", name));
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(zip_.get(), static_cast<zip_uint64_t>(index), 0, &st) != 0) {
      return make_error(
          fmt::format("damaged XLSX: cannot read the entry of {}: {}", name, zip_strerror(zip_.get())));
    }
    if ((st.valid & ZIP_STAT_SIZE) != 0 && st.size > kMaxInflatedBytes - used_) {
      return make_error(
          fmt::format("refused: {} declares {} bytes uncompressed; an XLSX is inflated to at most {} bytes "
                      "in all (a ZIP bomb?)",
                      name, st.size, kMaxInflatedBytes));
    }
    std::unique_ptr<zip_file_t, ZipFileCloser> f(
        zip_fopen_index(zip_.get(), static_cast<zip_uint64_t>(index), 0));
    if (!f)
      return make_error(fmt::format("damaged XLSX: cannot open {}: {}", name, zip_strerror(zip_.get())));
    std::string chunk(64 * 1024, '\0');
    for (;;) {
      const zip_int64_t n = zip_fread(f.get(), chunk.data(), chunk.size());
      if (n < 0) {
        return make_error(fmt::format("damaged or truncated XLSX: cannot inflate {}: {}", name,
                                      zip_file_strerror(f.get())));
      }
      if (n == 0) break;
      used_ += static_cast<std::size_t>(n);
      if (used_ > kMaxInflatedBytes) {
        return make_error(
            fmt::format("refused: {} inflates past {} bytes (its header declared {}; a ZIP bomb?)", name,
                        kMaxInflatedBytes, st.size));
      }
      FZ_TRY(sink(std::string_view(chunk.data(), static_cast<std::size_t>(n))));
    }
    return Status::Ok();
  }

  Result<std::string> read_all(const std::string& name) {
    std::string out;
    FZ_TRY(read(name, [&](std::string_view s) {
      out.append(s);
      return Status::Ok();
    }));
    return out;
  }

 private:
  std::unique_ptr<zip_t, ZipCloser> zip_;
  std::size_t used_ = 0;
};

// Runs expat over a member as it inflates. Handler is a class with start(name, attrs), end(name),
// text(s) and an optional error.
template <class Handler>
Status parse_xml(Archive& archive, const std::string& name, Handler& h) {
  std::unique_ptr<std::remove_pointer_t<XML_Parser>, XmlParserFree> p(XML_ParserCreate("UTF-8"));
  if (!p) return make_error("out of memory creating an XML parser");
  XML_SetUserData(p.get(), &h);
  XML_SetElementHandler(
      p.get(),
      [](void* u, const XML_Char* n, const XML_Char** a) {
        static_cast<Handler*>(u)->start(local_name(n), a);
      },
      [](void* u, const XML_Char* n) { static_cast<Handler*>(u)->end(local_name(n)); });
  XML_SetCharacterDataHandler(p.get(), [](void* u, const XML_Char* s, int len) {
    static_cast<Handler*>(u)->text(std::string_view(s, static_cast<std::size_t>(len)));
  });
  auto xml_error = [&](XML_Parser parser) {
    return make_error(fmt::format("damaged XLSX: {} line {}: {}", name, XML_GetCurrentLineNumber(parser),
                                  XML_ErrorString(XML_GetErrorCode(parser))));
  };
  FZ_TRY(archive.read(name, [&](std::string_view s) -> Status {
    if (XML_Parse(p.get(), s.data(), static_cast<int>(s.size()), XML_FALSE) != XML_STATUS_OK)
      return xml_error(p.get());
    if (h.error) return *h.error;
    return Status::Ok();
  }));
  if (XML_Parse(p.get(), "", 0, XML_TRUE) != XML_STATUS_OK) return xml_error(p.get());
  if (h.error) return *h.error;
  return Status::Ok();
}

// The memory the cells read so far hold: a std::string per cell (those before it in its row included)
// plus its text.
class CellMemory {
 public:
  // False once the total passes kMaxXlsxCellMemory.
  [[nodiscard]] bool charge(std::size_t bytes) {
    used_ += bytes;
    return used_ <= kMaxXlsxCellMemory;
  }
  void release(std::size_t bytes) { used_ -= std::min(bytes, used_); }
  static std::string refusal(std::string_view what) {
    return fmt::format("refused: {} take more than {} bytes in memory (a ZIP bomb?)", what,
                       kMaxXlsxCellMemory);
  }

 private:
  std::size_t used_ = 0;
};

struct WorkbookHandler {
  std::optional<Error> error;
  std::string first_sheet_name, first_sheet_rel;
  void start(std::string_view n, const XML_Char** a) {
    if (n != "sheet" || !first_sheet_rel.empty()) return;
    if (const XML_Char* id = attribute(a, "id", true)) first_sheet_rel = id;
    if (const XML_Char* name = attribute(a, "name")) first_sheet_name = name;
  }
  void end(std::string_view) {}
  void text(std::string_view) {}
};

struct RelsHandler {
  std::optional<Error> error;
  std::string wanted, target;
  void start(std::string_view n, const XML_Char** a) {
    if (n != "Relationship") return;
    const XML_Char* id = attribute(a, "Id");
    const XML_Char* t = attribute(a, "Target");
    if (id != nullptr && t != nullptr && wanted == id) target = t;
  }
  void end(std::string_view) {}
  void text(std::string_view) {}
};

struct SharedStringsHandler {
  std::optional<Error> error;
  CellMemory* memory = nullptr;
  std::vector<std::string> strings;
  std::string current;
  int in_si = 0, in_t = 0, in_rph = 0;
  void start(std::string_view n, const XML_Char**) {
    if (n == "si") {
      ++in_si;
      current.clear();
    } else if (n == "t") {
      ++in_t;
    } else if (n == "rPh") {
      ++in_rph;
    }
  }
  void end(std::string_view n) {
    if (n == "si") {
      --in_si;
      if (error) return;
      if (!memory->charge(sizeof(std::string) + current.size())) {
        error = make_error(CellMemory::refusal("the shared strings"));
        return;
      }
      strings.push_back(std::move(current));
      current.clear();
    } else if (n == "t") {
      --in_t;
    } else if (n == "rPh") {
      --in_rph;
    }
  }
  void text(std::string_view s) {
    if (in_si > 0 && in_t > 0 && in_rph == 0) {
      if (current.size() + s.size() > kMaxCellBytes) {
        error = make_error(fmt::format("a shared string longer than {} bytes", kMaxCellBytes));
        return;
      }
      current.append(s);
    }
  }
};

// "BC12" -> column index 54 (0-based); -1 when malformed.
long column_of(std::string_view ref) {
  long col = 0;
  std::size_t i = 0;
  for (; i < ref.size() && ref[i] >= 'A' && ref[i] <= 'Z'; ++i) {
    col = col * 26 + (ref[i] - 'A' + 1);
    if (col > static_cast<long>(kMaxCellsPerRow)) return static_cast<long>(kMaxCellsPerRow);
  }
  if (i == 0) return -1;
  return col - 1;
}

struct SheetHandler {
  std::optional<Error> error;
  const std::vector<std::string>* shared = nullptr;
  CellMemory* memory = nullptr;
  std::vector<Row> rows;
  Row row;
  std::size_t row_memory = 0;  // charged for the cells of `row`
  bool in_row = false;
  std::uint64_t last_row = 0;
  long next_col = 0, col = 0;
  std::string type, value;
  bool in_cell = false, in_v = false, in_t = false;
  int in_rph = 0;

  void fail(std::string msg) {
    if (!error) error = make_error(fmt::format("row {}: {}", row.line, msg));
  }
  void start(std::string_view n, const XML_Char** a) {
    if (n == "row") {
      in_row = true;
      row = Row{};
      row_memory = 0;
      const XML_Char* r = attribute(a, "r");
      row.line = r != nullptr ? std::strtoull(r, nullptr, 10) : last_row + 1;
      if (row.line == 0) row.line = last_row + 1;
      next_col = 0;
    } else if (n == "c" && in_row) {
      in_cell = true;
      value.clear();
      const XML_Char* t = attribute(a, "t");
      type = t != nullptr ? t : "n";
      const XML_Char* r = attribute(a, "r");
      col = r != nullptr ? column_of(r) : next_col;
      if (col < 0) col = next_col;
      if (col >= static_cast<long>(kMaxCellsPerRow))
        fail(fmt::format("more than {} cells in a row", kMaxCellsPerRow));
    } else if (n == "v" && in_cell) {
      in_v = true;
    } else if (n == "t" && in_cell) {
      in_t = true;
    } else if (n == "rPh") {
      ++in_rph;
    }
  }
  void end(std::string_view n) {
    if (n == "v") {
      in_v = false;
    } else if (n == "t") {
      in_t = false;
    } else if (n == "rPh") {
      --in_rph;
    } else if (n == "c" && in_cell) {
      in_cell = false;
      if (error) return;
      std::string cell;
      if (type == "s") {
        char* end = nullptr;
        const unsigned long long i = std::strtoull(value.c_str(), &end, 10);
        if (value.empty() || *end != '\0' || shared == nullptr || i >= shared->size()) {
          fail(fmt::format("shared string index \"{}\" out of range", value));
          return;
        }
        cell = (*shared)[i];
      } else {
        cell = std::move(value);  // inlineStr, str, n, b, e: the text as written
      }
      const auto c = static_cast<std::size_t>(col);
      const std::size_t cost =
          (row.cells.size() <= c ? (c + 1 - row.cells.size()) * sizeof(std::string) : 0) + cell.size();
      row_memory += cost;
      if (!memory->charge(cost)) return fail(CellMemory::refusal("the cells read"));
      if (row.cells.size() <= c) row.cells.resize(c + 1);
      row.cells[c] = std::move(cell);
      next_col = col + 1;
    } else if (n == "row" && in_row) {
      in_row = false;
      if (error) return;
      last_row = row.line;
      const bool blank =
          std::all_of(row.cells.begin(), row.cells.end(), [](const std::string& s) { return s.empty(); });
      if (blank) {
        memory->release(row_memory);  // not kept
      } else {
        if (rows.size() >= kMaxRowsPerFile) {
          fail(fmt::format("more than {} rows in one file", kMaxRowsPerFile));
          return;
        }
        if (!memory->charge(sizeof(Row))) return fail(CellMemory::refusal("the cells read"));
        rows.push_back(std::move(row));
      }
    }
  }
  void text(std::string_view s) {
    if (!in_cell || in_rph > 0 || !(in_v || in_t)) return;
    if (value.size() + s.size() > kMaxCellBytes) {
      fail(fmt::format("a cell longer than {} bytes", kMaxCellBytes));
      return;
    }
    value.append(s);
  }
};

class XlsxTable final : public Table {
 public:
  XlsxTable(std::vector<Row> rows, std::string sheet) : rows_(std::move(rows)), sheet_(std::move(sheet)) {}
  Result<bool> next(Row* row) override {
    if (at_ >= rows_.size()) return false;
    *row = std::move(rows_[at_++]);
    return true;
  }
  std::string describe() const override { return fmt::format("XLSX, first sheet \"{}\"", sheet_); }

 private:
  std::vector<Row> rows_;
  std::size_t at_ = 0;
  std::string sheet_;
};

}  // namespace

Result<std::unique_ptr<Table>> open_xlsx(std::string bytes) {
  auto archive = Archive::open(bytes);
  if (!archive) return archive.error();
  WorkbookHandler wb;
  FZ_TRY(parse_xml(*archive, "xl/workbook.xml", wb));
  if (wb.first_sheet_rel.empty()) return make_error("not an XLSX report: the workbook has no sheet");
  RelsHandler rels;
  rels.wanted = wb.first_sheet_rel;
  FZ_TRY(parse_xml(*archive, "xl/_rels/workbook.xml.rels", rels));
  if (rels.target.empty())
    return make_error(fmt::format("damaged XLSX: sheet relation {} has no target", rels.wanted));
  std::string sheet_path = rels.target.starts_with("/") ? rels.target.substr(1) : "xl/" + rels.target;
  CellMemory memory;
  SharedStringsHandler strings;
  strings.memory = &memory;
  if (archive->has("xl/sharedStrings.xml")) FZ_TRY(parse_xml(*archive, "xl/sharedStrings.xml", strings));
  SheetHandler sheet;
  sheet.shared = &strings.strings;
  sheet.memory = &memory;
  FZ_TRY(parse_xml(*archive, sheet_path, sheet));
  return std::unique_ptr<Table>(std::make_unique<XlsxTable>(std::move(sheet.rows), wb.first_sheet_name));
}

}  // namespace fz::imports
