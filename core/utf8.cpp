#include "core/utf8.hpp"

#include <boost/locale/utf.hpp>

namespace fz {

Utf8Char utf8_char_at(std::string_view text, std::size_t at) {
  using Traits = boost::locale::utf::utf_traits<char>;
  const char* p = text.data() + at;
  const char* const begin = p;
  const boost::locale::utf::code_point c = Traits::decode(p, text.data() + text.size());
  if (c == boost::locale::utf::illegal || c == boost::locale::utf::incomplete) return {};
  return {static_cast<char32_t>(c), static_cast<std::size_t>(p - begin)};
}

std::size_t utf8_char_length(std::string_view text, std::size_t at) {
  return utf8_char_at(text, at).bytes;
}

std::size_t first_invalid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t len = utf8_char_length(text, i);
    if (len == 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

}  // namespace fz
