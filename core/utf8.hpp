// UTF-8 validation shared by the event reader (store/event_json.cpp) and the rules reader (dsl/), so the
// two accept exactly the same text. The decoding is Boost.Locale's (overlong forms, surrogates and code
// points above U+10FFFF are invalid). Stateless and thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

namespace fz {

// The valid UTF-8 character that starts at text[at]: its code point and its length in bytes (1 to 4);
// bytes is 0 when the bytes there are not one (a stray continuation byte, a truncated or overlong
// sequence, a surrogate). Requires at < text.size().
struct Utf8Char {
  char32_t code_point = 0;
  std::size_t bytes = 0;
};
[[nodiscard]] Utf8Char utf8_char_at(std::string_view text, std::size_t at);

// utf8_char_at(text, at).bytes.
[[nodiscard]] std::size_t utf8_char_length(std::string_view text, std::size_t at);

// The byte offset of the first character that is not valid UTF-8, or std::string_view::npos.
[[nodiscard]] std::size_t first_invalid_utf8(std::string_view text);

}  // namespace fz
