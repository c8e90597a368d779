// Validators for command-line values (SPEC section 8: every argument is validated; an empty or
// malformed value is a usage error, exit 2, never ignored or read as "no filter"). CLI11 runs them on
// the text as given, before any conversion, so "-1" is refused rather than wrapped to 2^64 - 1.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace fz::cli {

// A time as parse_query_time reads it (RFC 3339 with an offset, or YYYY-MM-DD).
CLI::Validator query_time_arg();
// An account glob for fnmatch: not empty, every '[' closed, no trailing '\'.
CLI::Validator account_glob_arg();
// A whole number 1, 2, ... written in digits only (no sign, no 0), fitting in 64 bits.
CLI::Validator positive_integer_arg();
// A whole number 0, 1, ... written in digits only, fitting in 64 bits.
CLI::Validator unsigned_integer_arg();
// An identifier (SPEC section 2).
CLI::Validator identifier_arg();
// streamer:ID or agency:ID: one party, so an id with a glob character (* ? [) is refused.
CLI::Validator party_arg();
// YYYY-MM.
CLI::Validator month_arg();
// Any text but the empty one (a file name, a rule name).
CLI::Validator non_empty_arg();

// "" when the glob is well formed, else why not (for tests of the rule itself).
std::string glob_problem(const std::string& pattern);

}  // namespace fz::cli
