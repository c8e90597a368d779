#include "dsl/rules_check.hpp"

#include <fmt/format.h>

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

}  // namespace

CompileResult compile_rules(std::string_view source, std::string_view filename) {
  CompileResult result;
  Diagnostics diags;
  if (source.size() > kMaxRulesFileBytes) {
    diags.error(0, fmt::format("rules file is {} bytes, more than the limit of 1 MiB", source.size()));
  } else if (source.find('\0') != std::string_view::npos) {
    diags.error(source.find('\0'), "rules files are text: found a NUL byte");
  } else {
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
