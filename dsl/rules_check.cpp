#include "dsl/rules_check.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <ostream>
#include <sstream>

#include "dsl/checker.hpp"
#include "dsl/diagnostics.hpp"
#include "dsl/parse.hpp"

namespace fz::dsl {

namespace {

std::string counted(std::size_t n, std::string_view noun) {
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

// Why the character `cp` may not appear anywhere in a rules file, or "" when it may.
// Control characters (other than the whitespace tab, LF, VT, FF and CR) and bidirectional controls are
// refused in comments and strings too: the first can rewrite the terminal of whoever prints a comment or a
// `require` message (ESC [2J clears it), the second make an editor show the text in another order than the
// parser reads it ("Trojan Source", CVE-2021-42574). A string needs neither: a newline is written \n.
std::string unwanted_char(char32_t cp) {
  const auto code = static_cast<std::uint32_t>(cp);
  if ((cp < 0x20 && (cp < '\t' || cp > '\r')) || (cp >= 0x7f && cp < 0xa0)) {
    return fmt::format(
        "control character U+{:04X} in a rules file; remove it (in a string, write \\n for a "
        "newline)",
        code);
  }
  if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) {
    return fmt::format(
        "bidirectional control character U+{:04X} in a rules file: it makes editors show the "
        "text in another order than fenzhang reads it; remove it",
        code);
  }
  return {};
}

// A rules file is plain UTF-8 text (SPEC section 5). Refuses, before parsing, the first of: a byte
// order mark, a NUL byte, bytes that are not UTF-8, a carriage return that is not part of a CRLF line
// end, and the characters unwanted_char() names. (The grammar ends a `#` comment at a bare CR, which
// some editors and pagers show as ^M inside the line: "# note\rrule r ..." would run a rule that reads
// as commented out.)
bool check_text(std::string_view source, Diagnostics* diags) {
  static constexpr struct {
    std::string_view bytes;
    std::string_view message;
  } kByteOrderMarks[] = {
      {"\xef\xbb\xbf",
       "the file starts with a UTF-8 byte order mark (EF BB BF); save it as plain UTF-8 without one"},
      {"\xff\xfe", "the file starts with a UTF-16 byte order mark (FF FE); save it as plain UTF-8"},
      {"\xfe\xff", "the file starts with a UTF-16 byte order mark (FE FF); save it as plain UTF-8"},
  };
  for (const auto& bom : kByteOrderMarks) {
    if (source.starts_with(bom.bytes)) {
      diags->error(0, std::string(bom.message));
      return false;
    }
  }
  for (std::size_t at = 0; at < source.size();) {
    const char c = source[at];
    if (c == '\0') {
      diags->error(at, "rules files are text: found a NUL byte");
      return false;
    }
    if (c == '\r' && (at + 1 == source.size() || source[at + 1] != '\n')) {
      diags->error(at, "carriage return without line feed; end lines with LF or CRLF");
      return false;
    }
    const Utf8Char ch = utf8_char_at(source, at);
    if (ch.bytes == 0) {
      diags->error(at, fmt::format("invalid UTF-8 at byte offset {}; rules files are plain UTF-8 text", at));
      return false;
    }
    if (const std::string why = unwanted_char(ch.code_point); !why.empty()) {
      diags->error(at, why);
      return false;
    }
    at += ch.bytes;
  }
  return true;
}

}  // namespace

CompileResult compile_rules(std::string_view source, std::string_view filename) {
  CompileResult result;
  Diagnostics diags;
  if (source.size() > kMaxRulesFileBytes) {
    diags.error(0, fmt::format("rules file is {} bytes, more than the limit of 1 MiB", source.size()));
  } else if (check_text(source, &diags)) {
    const ParseOutput parsed = parse_rules(source);
    if (!parsed.ok) {
      for (const auto& e : parsed.handler->errors()) diags.error(e.offset, e.message);
    } else {
      result.ruleset = check_rules(parsed, source, &diags);
    }
  }
  if (!diags.empty()) {
    result.ruleset.reset();
    result.diagnostics = diags.format(filename, source);
    result.error_count = diags.count();
  }
  return result;
}

std::string summary_line(const RulesetInfo& info) {
  return fmt::format("ok: {} v{}, {}, {}, {}", info.name, info.version, counted(info.rules.size(), "rule"),
                     counted(static_cast<std::size_t>(info.table_count), "table"),
                     counted(info.campaigns.size(), "campaign"));
}

int run_rules_check(std::span<const std::string> files, std::ostream& out, std::ostream& err) {
  int status = 0;
  for (const std::string& path : files) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      err << path << ": error: cannot read the file\n";
      status = 1;
      continue;
    }
    std::string text;
    char buffer[65536];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
      text.append(buffer, static_cast<std::size_t>(in.gcount()));
      if (text.size() > kMaxRulesFileBytes) break;
    }
    if (in.bad()) {
      err << path << ": error: cannot read the file\n";
      status = 1;
      continue;
    }
    CompileResult r = compile_rules(text, path);
    if (r.ruleset) {
      out << summary_line(r.ruleset->info()) << '\n';
    } else {
      err << r.diagnostics;
      status = 1;
    }
  }
  return status;
}

}  // namespace fz::dsl
