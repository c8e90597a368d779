#include "tools/arguments.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "core/ident.hpp"
#include "tools/cli.hpp"

namespace fz::cli {
namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "" when s is digits only and fits in 64 bits; why not otherwise.
std::string unsigned_problem(const std::string& s) {
  if (s.empty()) return "is empty; give a whole number";
  if (!all_digits(s)) return fmt::format("\"{}\" is not a whole number written in digits", s);
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return fmt::format("{} is too large", s);
  return "";
}

// The end of the bracket expression that starts at pattern[open] ('['), or npos when it is not
// closed. A ']' right after "[" or "[!" / "[^" is a member, "[:class:]" is one member (fnmatch(3)).
std::size_t bracket_end(const std::string& p, std::size_t open) {
  std::size_t i = open + 1;
  if (i < p.size() && (p[i] == '!' || p[i] == '^')) ++i;
  if (i < p.size() && p[i] == ']') ++i;
  for (; i < p.size(); ++i) {
    if (p[i] == ']') return i;
    if (p[i] == '[' && i + 1 < p.size() && p[i + 1] == ':') {
      const std::size_t close = p.find(":]", i + 2);
      if (close == std::string::npos) return std::string::npos;
      i = close + 1;
    }
  }
  return std::string::npos;
}

CLI::Validator make(std::string description, std::function<std::string(const std::string&)> problem) {
  return CLI::Validator([problem](std::string& value) { return problem(value); }, std::move(description));
}

}  // namespace

std::string glob_problem(const std::string& pattern) {
  if (pattern.empty()) return "is empty; give an account glob such as '@streamer:*:cps' or leave it out";
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      if (i + 1 == pattern.size()) return fmt::format("'{}' ends with a lone '\\'", pattern);
      ++i;
    } else if (pattern[i] == '[') {
      const std::size_t close = bracket_end(pattern, i);
      if (close == std::string::npos)
        return fmt::format("'{}' is not a valid glob: the '[' at position {} is not closed by ']'", pattern,
                           i + 1);
      i = close;
    }
  }
  return "";
}

CLI::Validator query_time_arg() {
  return make("TIME", [](const std::string& s) -> std::string {
    if (s.empty()) return "is empty; give a time such as 2026-11-20 or 2026-11-20T12:00:00+08:00";
    auto t = parse_query_time(s);
    return t ? "" : t.message();
  });
}

CLI::Validator account_glob_arg() {
  return make("GLOB", glob_problem);
}

CLI::Validator positive_integer_arg() {
  return make("N>0", [](const std::string& s) -> std::string {
    if (std::string p = unsigned_problem(s); !p.empty()) return p;
    if (s.find_first_not_of('0') == std::string::npos) return "must be at least 1";
    return "";
  });
}

CLI::Validator unsigned_integer_arg() {
  return make("N>=0", unsigned_problem);
}

CLI::Validator identifier_arg() {
  return make("ID", [](const std::string& s) -> std::string {
    Status st = check_ident(s);
    return st.ok() ? "" : st.message();
  });
}

CLI::Validator party_arg() {
  return make("PARTY", [](const std::string& s) -> std::string {
    const std::size_t colon = s.find(':');
    const std::string kind = s.substr(0, colon);
    if (colon == std::string::npos || (kind != "streamer" && kind != "agency"))
      return fmt::format("\"{}\" is not a party such as streamer:s1 or agency:a1", s);
    if (s.find_first_of("*?[") != std::string::npos)
      return fmt::format("\"{}\" is a glob; a statement is for one party, such as streamer:s1", s);
    Status st = check_ident(std::string_view(s).substr(colon + 1));
    return st.ok() ? "" : fmt::format("\"{}\": the id {}", s, st.message());
  });
}

CLI::Validator month_arg() {
  return make("YYYY-MM", [](const std::string& s) -> std::string {
    const bool shape = s.size() == 7 && s[4] == '-' && all_digits(s.substr(0, 4)) && all_digits(s.substr(5));
    const int year = shape ? std::stoi(s.substr(0, 4)) : 0;
    const int month = shape ? std::stoi(s.substr(5)) : 0;
    if (!shape || year < 1 || month < 1 || month > 12)
      return fmt::format("\"{}\" is not a month such as 2026-11", s);
    return "";
  });
}

CLI::Validator non_empty_arg() {
  return make("TEXT", [](const std::string& s) -> std::string { return s.empty() ? "is empty" : ""; });
}

}  // namespace fz::cli
