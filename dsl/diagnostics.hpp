// Diagnostics in the compiler format editors parse (SPEC section 5):
//   rules/taobao-live.rules:14:22: error: shares total 95%, expected 100% (add a 'rest' share)
//       split commission from @merchant:{order.merchant}:cps {
//                        ^
// A Diagnostics collects errors by byte offset, drops exact repeats and formats them in source
// order. Plain value; not thread-safe.
//
// Source text is echoed with what could act on the operator's terminal shown escaped: C0 controls
// other than tab (`\x1b`, `\r`), DEL, C1 controls, the byte order mark and the bidirectional controls
// (`\u202e`), and bytes that are not UTF-8 (`\xff`); the caret stays under the escaped text.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/utf8.hpp"  // utf8_char_at, used with the diagnostics

namespace fz::dsl {

class Diagnostics {
 public:
  void error(std::size_t offset, std::string message);
  bool empty() const { return errors_.empty(); }
  std::size_t count() const { return errors_.size(); }
  // The errors sorted by position, each with its source line and a caret under the column; after
  // kMaxShown errors, one line says how many more there were.
  static constexpr std::size_t kMaxShown = 100;
  std::string format(std::string_view filename, std::string_view source) const;

 private:
  struct Entry {
    std::size_t offset;
    std::string message;
  };
  std::vector<Entry> errors_;
  std::set<std::pair<std::size_t, std::string>> seen_;
};

}  // namespace fz::dsl
