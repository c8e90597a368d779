#include "tools/output.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/utf8.hpp"

namespace fz::cli {
namespace {

bool needs_escape(char32_t cp) {
  return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e ||
         cp == 0x200f || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

// A plain decimal such as 12, -4.00 or +0.5: a spreadsheet reads it as a number, never a formula.
bool is_number(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  const std::size_t dot = s.find('.');
  const std::string_view whole = s.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  auto digits = [](std::string_view d) {
    return std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (whole.empty() || !digits(whole) || !digits(fraction)) return false;
  return dot == std::string_view::npos || !fraction.empty();
}

}  // namespace

std::string escape_display(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte < 0x7f) {  // printable ASCII, the common case
      out += text[i++];
      continue;
    }
    const Utf8Char c = utf8_char_at(text, i);
    if (c.bytes == 0) {
      out += fmt::format("\\x{{{:02X}}}", byte);
      ++i;
      continue;
    }
    if (needs_escape(c.code_point)) {
      out += fmt::format("\\u{{{:04X}}}", static_cast<std::uint32_t>(c.code_point));
    } else {
      out.append(text.substr(i, c.bytes));
    }
    i += c.bytes;
  }
  return out;
}

std::string csv_cell(std::string_view text) {
  std::string cell = escape_display(text);
  if (!cell.empty() && std::string_view("=+-@").find(cell[0]) != std::string_view::npos && !is_number(cell)) {
    cell.insert(0, "'");
  }
  return csv_escape(cell);
}

void TextTable::print(std::ostream& out) const {
  std::vector<std::vector<std::string>> rows;
  rows.reserve(rows_.size());
  for (const auto& row : rows_) {
    std::vector<std::string> escaped;
    for (const std::string& cell : row) escaped.push_back(escape_display(cell));
    rows.push_back(std::move(escaped));
  }
  std::vector<std::size_t> width(columns_.size());
  for (std::size_t c = 0; c < columns_.size(); ++c) width[c] = columns_[c].header.size();
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size() && c < width.size(); ++c)
      width[c] = std::max(width[c], row[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      const std::string& cell = c < cells.size() ? cells[c] : std::string();
      const std::string pad(width[c] - std::min(width[c], cell.size()), ' ');
      if (c > 0) s += "  ";
      s += columns_[c].right_aligned ? pad + cell : cell + (c + 1 < columns_.size() ? pad : "");
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out << s << "\n";
  };
  std::vector<std::string> headers;
  for (const auto& col : columns_) headers.push_back(col.header);
  line(headers);
  std::vector<std::string> rule;
  for (std::size_t w : width) rule.emplace_back(w, '-');
  line(rule);
  for (const auto& row : rows) line(row);
}

std::string csv_escape(const std::string& cell) {
  if (cell.find_first_of(",\"\n\r") == std::string::npos) return cell;
  std::string out = "\"";
  for (char ch : cell) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

void TextTable::print_csv(std::ostream& out) const {
  auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t c = 0; c < cells.size(); ++c) out << (c ? "," : "") << csv_cell(cells[c]);
    out << "\n";
  };
  std::vector<std::string> headers;
  for (const auto& col : columns_) headers.push_back(col.header);
  line(headers);
  for (const auto& row : rows_) line(row);
}

}  // namespace fz::cli
