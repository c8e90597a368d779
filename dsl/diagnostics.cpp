#include "dsl/diagnostics.hpp"

#include <fmt/format.h>
#include <algorithm>

namespace fz::dsl {

void Diagnostics::error(std::size_t offset, std::string message) {
  if (!seen_.emplace(offset, message).second) return;
  errors_.push_back(Entry{offset, std::move(message)});
}

std::string Diagnostics::format(std::string_view filename, std::string_view source) const {
  std::vector<Entry> sorted = errors_;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Entry& a, const Entry& b) { return a.offset < b.offset; });
  std::string out;
  if (sorted.size() > kMaxShown) sorted.resize(kMaxShown);
  for (const Entry& e : sorted) {
    const std::size_t at = std::min(e.offset, source.size());
    const std::size_t newline = at == 0 ? std::string_view::npos : source.rfind('\n', at - 1);
    const std::size_t line_start = newline == std::string_view::npos ? 0 : newline + 1;
    std::size_t line_end = source.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = source.size();
    const auto line_no =
        1 + std::count(source.begin(), source.begin() + static_cast<std::ptrdiff_t>(line_start), '\n');
    std::string_view line = source.substr(line_start, line_end - line_start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string caret;
    for (std::size_t k = line_start; k < at && k < line_end; ++k) {
      const auto c = static_cast<unsigned char>(source[k]);
      if (c == '\t') {
        caret += '\t';
      } else if ((c & 0xC0) != 0x80) {
        caret += ' ';
      }
    }
    out += fmt::format("{}:{}:{}: error: {}\n{}\n{}^\n", filename, line_no, at - line_start + 1, e.message,
                       line, caret);
  }
  if (errors_.size() > kMaxShown) {
    out += fmt::format("{}: note: {} more errors not shown\n", filename, errors_.size() - kMaxShown);
  }
  return out;
}

}  // namespace fz::dsl
