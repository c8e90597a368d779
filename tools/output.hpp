// Rendering of query results as an aligned text table or CSV (JSON is built with Boost.JSON).
#pragma once

#include <ostream>
#include <string>
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
  void print(std::ostream& out) const;  // header, a rule, rows; columns padded to their widest cell
  void print_csv(std::ostream& out) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

std::string csv_escape(const std::string& cell);

}  // namespace fz::cli
