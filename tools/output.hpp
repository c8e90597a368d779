// Rendering of query results as an aligned text table or CSV (JSON is built with Boost.JSON).
//
// Every cell and every line of free text goes through escape_display (SPEC section 8): event ids,
// meta values and reasons come from whoever wrote the events, and a control character or a
// bidirectional override in them must not rewrite what the reader's terminal or spreadsheet shows.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace fz::cli {

struct Column {
  std::string header;
  bool right_aligned = false;
};

class TextTable {
 public:
  explicit TextTable(std::vector<Column> columns) : columns_(std::move(columns)) {}
  void add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  // Header, a rule, rows; columns padded to their widest cell. Cells are escaped (escape_display).
  void print(std::ostream& out) const;
  // Cells are escaped and neutralized (csv_cell).
  void print_csv(std::ostream& out) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// Text for a terminal: control characters (C0 including tab and newline, DEL, C1), bidirectional
// controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) and the line and paragraph
// separators U+2028, U+2029 are written as \u{XXXX}; a byte that is not UTF-8 as \x{XX}.
std::string escape_display(std::string_view text);

// A CSV field: escape_display, then a text that starts with '=', '+', '-' or '@' and is not a number
// gets a leading "'" (spreadsheet formula injection), then RFC 4180 quoting when needed. Account
// names start with '@' and are text: they get the quote too (docs/decisions.md).
std::string csv_cell(std::string_view text);

// RFC 4180 quoting only ("a,b" -> "\"a,b\"").
std::string csv_escape(const std::string& cell);

}  // namespace fz::cli
