// CSV reports through libcsv (Debian's libcsv3): comma or tab separated, RFC 4180 quoting, strict.
#include <csv.h>
#include <fmt/format.h>

#include <algorithm>
#include <deque>

#include "import/import.hpp"

namespace fz::imports {
namespace {

constexpr std::size_t kFeedBytes = 256 * 1024;

int no_space(unsigned char) {
  return 0;
}  // cells are kept as they are; the mapping trims

// The separator: on the first line that names an order-number column, tabs or commas, whichever
// are more (Excel's "Unicode text" is tab-separated, its "CSV" comma-separated).
unsigned char detect_delimiter(std::string_view text) {
  std::size_t pos = 0;
  for (int lines = 0; pos < text.size() && lines < 1000; ++lines) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    if (line.find("子订单编号") != std::string_view::npos ||
        line.find("淘宝子订单号") != std::string_view::npos) {
      const auto tabs = std::count(line.begin(), line.end(), '\t');
      const auto commas = std::count(line.begin(), line.end(), ',');
      return tabs > commas ? CSV_TAB : CSV_COMMA;
    }
    pos = end + 1;
  }
  return CSV_COMMA;
}

class CsvTable final : public Table {
 public:
  CsvTable(std::string text, std::string label) : text_(std::move(text)), label_(std::move(label)) {
    (void)csv_init(&parser_, CSV_STRICT | CSV_REPALL_NL | CSV_STRICT_FINI);
    delimiter_ = detect_delimiter(text_);
    csv_set_delim(&parser_, delimiter_);
    csv_set_space_func(&parser_, no_space);
  }
  ~CsvTable() override { csv_free(&parser_); }
  CsvTable(const CsvTable&) = delete;
  CsvTable& operator=(const CsvTable&) = delete;

  std::string describe() const override {
    return fmt::format("CSV, {}, {}-separated", label_, delimiter_ == CSV_TAB ? "tab" : "comma");
  }

  Result<bool> next(Row* row) override {
    while (ready_.empty()) {
      if (error_) return *error_;
      if (finished_) return false;
      feed();
    }
    *row = std::move(ready_.front());
    ready_.pop_front();
    return true;
  }

 private:
  void feed() {
    if (pos_ < text_.size()) {
      const std::size_t n = std::min(kFeedBytes, text_.size() - pos_);
      const std::size_t done = csv_parse(&parser_, text_.data() + pos_, n, on_field, on_row, this);
      if (done != n && !error_) {
        const std::uint64_t line =
            1 + static_cast<std::uint64_t>(std::count(
                    text_.begin(), text_.begin() + static_cast<std::ptrdiff_t>(pos_ + done), '\n'));
        fail(line,
             fmt::format("malformed CSV ({}): a quote inside an unquoted cell, or text after a closing quote",
                         csv_strerror(csv_error(&parser_))));
      }
      pos_ += n;
      return;
    }
    if (csv_fini(&parser_, on_field, on_row, this) != 0 && !error_) {
      fail(line_, "malformed CSV: the file ends inside a quoted cell");
    }
    finished_ = true;
  }

  void fail(std::uint64_t line, std::string reason) {
    if (!error_) error_ = make_error(fmt::format("line {}: {}", line, reason));
  }

  static void on_field(void* data, std::size_t len, void* self_ptr) {
    auto* self = static_cast<CsvTable*>(self_ptr);
    if (self->error_) return;
    const std::string_view cell(static_cast<const char*>(data), data == nullptr ? 0 : len);
    self->row_bytes_ += len + 1;
    if (len > kMaxCellBytes) {
      self->fail(self->row_line_,
                 fmt::format("a cell of {} bytes; a cell has at most {}", len, kMaxCellBytes));
      return;
    }
    if (self->row_bytes_ > kMaxLineBytes) {
      self->fail(self->row_line_, fmt::format("the row is longer than {} bytes", kMaxLineBytes));
      return;
    }
    if (self->cells_.size() >= kMaxCellsPerRow) {
      self->fail(self->row_line_, fmt::format("more than {} cells in a row", kMaxCellsPerRow));
      return;
    }
    self->pending_newlines_ += static_cast<std::uint64_t>(std::count(cell.begin(), cell.end(), '\n'));
    self->cells_.emplace_back(cell);
  }

  // c is the '\r' or '\n' that ended the row (CSV_REPALL_NL reports each), or -1 at the end.
  static void on_row(int c, void* self_ptr) {
    auto* self = static_cast<CsvTable*>(self_ptr);
    if (self->error_) return;
    const bool blank =
        std::all_of(self->cells_.begin(), self->cells_.end(), [](const std::string& s) { return s.empty(); });
    if (!blank) {
      if (++self->rows_ > kMaxRowsPerFile) {
        self->fail(self->row_line_, fmt::format("more than {} rows in one file", kMaxRowsPerFile));
        return;
      }
      self->ready_.push_back(Row{self->row_line_, std::move(self->cells_)});
    }
    self->cells_.clear();
    self->row_bytes_ = 0;
    self->line_ += self->pending_newlines_ + (c == '\n' ? 1 : 0);
    self->pending_newlines_ = 0;
    self->row_line_ = self->line_;
  }

  std::string text_;
  std::string label_;
  csv_parser parser_{};
  unsigned char delimiter_ = CSV_COMMA;
  std::size_t pos_ = 0;
  bool finished_ = false;
  std::optional<Error> error_;
  std::deque<Row> ready_;
  std::vector<std::string> cells_;
  std::size_t row_bytes_ = 0;
  std::uint64_t rows_ = 0;
  std::uint64_t line_ = 1, row_line_ = 1, pending_newlines_ = 0;
};

}  // namespace

Result<std::unique_ptr<Table>> open_csv(std::string utf8_text, std::string encoding_label) {
  return std::unique_ptr<Table>(std::make_unique<CsvTable>(std::move(utf8_text), std::move(encoding_label)));
}

Result<std::unique_ptr<Table>> open_table(std::string bytes) {
  if (bytes.starts_with(std::string_view("PK\x03\x04", 4))) return open_xlsx(std::move(bytes));
  Encoding e = Encoding::kUtf8;
  auto text = to_utf8(bytes, &e);
  if (!text) return text.error();
  bytes.clear();
  bytes.shrink_to_fit();
  return open_csv(std::move(*text), std::string(encoding_name(e)));
}

}  // namespace fz::imports
