// core/utf8: the one UTF-8 check behind the event reader and the rules reader.
#include "core/utf8.hpp"

#include <doctest/doctest.h>

#include <string>

using fz::first_invalid_utf8;
using fz::utf8_char_length;

TEST_CASE("utf8: the length of each well-formed character, 1 to 4 bytes") {
  const std::string s = "a\xc3\xa9\xe5\x88\x86\xf0\x9f\x92\xb0";  // a é 分 💰
  CHECK(utf8_char_length(s, 0) == 1);
  CHECK(utf8_char_length(s, 1) == 2);
  CHECK(utf8_char_length(s, 3) == 3);
  CHECK(utf8_char_length(s, 6) == 4);
  // The decoded code points (the rules reader and the diagnostics judge characters by them).
  CHECK(fz::utf8_char_at(s, 0).code_point == U'a');
  CHECK(fz::utf8_char_at(s, 1).code_point == 0xe9);
  CHECK(fz::utf8_char_at(s, 3).code_point == 0x5206);
  CHECK(fz::utf8_char_at(s, 6).code_point == 0x1f4b0);
  CHECK(fz::utf8_char_at("\xe2\x80\xae", 0).code_point == 0x202e);
  CHECK(fz::utf8_char_at("\xc2\x9b", 0).code_point == 0x9b);
  CHECK(first_invalid_utf8(s) == std::string::npos);
  CHECK(first_invalid_utf8("") == std::string::npos);
  // The edges of the code space: U+0080, U+07FF, U+0800, U+FFFF, U+10000, U+10FFFF.
  for (const std::string edge :
       {"\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf"}) {
    CHECK(utf8_char_length(edge, 0) == edge.size());
  }
}

TEST_CASE("utf8: overlong forms, surrogates, stray and missing continuation bytes are refused") {
  for (const std::string bad : {
           "\xc0\xaf",          // overlong '/'
           "\xc1\xbf",          // overlong
           "\xe0\x80\xaf",      // overlong
           "\xf0\x80\x80\xaf",  // overlong
           "\xed\xa0\x80",      // U+D800, a surrogate
           "\xed\xbf\xbf",      // U+DFFF
           "\xf4\x90\x80\x80",  // above U+10FFFF
           "\xf5\x80\x80\x80",  // no such lead byte
           "\xff",
           "\x80",      // a continuation byte alone
           "\xe6\xb3",  // truncated
           "\xe6\xb3"
           "a",  // interrupted
       }) {
    INFO(bad.size());
    CHECK(utf8_char_length(bad, 0) == 0);
    CHECK(first_invalid_utf8("ok " + bad) == 3);
  }
}
