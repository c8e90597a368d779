#include "dsl/diagnostics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

#include <locale.h>
#include <wchar.h>

namespace fz::dsl {

namespace {

// How the character at text[at] is shown: `bytes` of the source, as an `escape` or, when that is
// empty, as they are.
struct Shown {
  std::size_t bytes;
  std::string escape;
  int columns = 1;  // terminal columns of the character as it is (CJK: 2, combining marks: 0)
};

// glibc's wcwidth() under a C.UTF-8 locale set for this thread only (the process locale is left
// alone). Without that locale every character counts as one column.
int display_columns(char32_t cp) {
  static const locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t{});
  if (utf8 == locale_t{}) return 1;
  const locale_t previous = uselocale(utf8);
  const int w = wcwidth(static_cast<wchar_t>(cp));
  uselocale(previous);
  return w < 0 ? 1 : w;
}

bool is_hidden_format_char(char32_t cp) {
  return (cp >= 0x80 && cp < 0xa0) || cp == 0xfeff || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
         (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

Shown shown_char(std::string_view text, std::size_t at) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto c = static_cast<unsigned char>(text[at]);
  const Utf8Char ch = utf8_char_at(text, at);
  const std::size_t len = ch.bytes;
  if (c == '\n') return {1, "\\n"};
  if (c == '\r') return {1, "\\r"};
  if (len == 0 || (c < 0x20 && c != '\t') || c == 0x7f) return {1, {'\\', 'x', kHex[c >> 4], kHex[c & 15]}};
  if (len == 1) return {1, {}};
  const char32_t cp = ch.code_point;
  if (is_hidden_format_char(cp)) return {len, fmt::format("\\u{:04x}", static_cast<std::uint32_t>(cp))};
  return {len, {}, display_columns(cp)};
}

// `text` with every character shown as shown_char() says; when `caret_at` is given, also the
// whitespace that puts a caret under the character at that offset.
std::string shown(std::string_view text, std::size_t caret_at = 0, std::string* caret = nullptr) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t at = 0; at < text.size();) {
    const Shown s = shown_char(text, at);
    const bool before_caret = caret != nullptr && at < caret_at;
    if (s.escape.empty()) {
      out.append(text.substr(at, s.bytes));
      if (before_caret) {
        if (text[at] == '\t') {
          *caret += '\t';
        } else {
          caret->append(static_cast<std::size_t>(s.columns), ' ');
        }
      }
    } else {
      out += s.escape;
      if (before_caret) caret->append(s.escape.size(), ' ');
    }
    at += s.bytes;
  }
  return out;
}

}  // namespace

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
  const std::string file = shown(filename);
  for (const Entry& e : sorted) {
    const std::size_t at = std::min(e.offset, source.size());
    const std::size_t newline = at == 0 ? std::string_view::npos : source.rfind('\n', at - 1);
    const std::size_t line_start = newline == std::string_view::npos ? 0 : newline + 1;
    std::size_t line_end = source.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = source.size();
    const auto line_no =
        1 + std::count(source.begin(), source.begin() + static_cast<std::ptrdiff_t>(line_start), '\n');
    std::string_view line = source.substr(line_start, line_end - line_start);
    // The CR of a CRLF line end is not part of the line (a CR anywhere else is shown as \r).
    if (line_end < source.size() && !line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string caret;
    const std::string shown_line = shown(line, at - line_start, &caret);
    out += fmt::format("{}:{}:{}: error: {}\n{}\n{}^\n", file, line_no, at - line_start + 1, shown(e.message),
                       shown_line, caret);
  }
  if (errors_.size() > kMaxShown) {
    out += fmt::format("{}: note: {} more errors not shown\n", file, errors_.size() - kMaxShown);
  }
  return out;
}

}  // namespace fz::dsl
