// fenzhang explain EVENT_ID
#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>

#include "core/money.hpp"
#include "engine/explain.hpp"
#include "engine/reader.hpp"
#include "model/event_json.hpp"
#include "tools/arguments.hpp"
#include "tools/cli.hpp"
#include "tools/output.hpp"
#include "tools/query_json.hpp"

namespace fz::cli {
namespace {

void print_json(const engine::Explanation& x) {
  std::cout << boost::json::serialize(explain_json(x)) << "\n";
}

// One line of the explanation on the terminal. Ids, meta values, reasons and rule text come from
// the events and rules files: escaped, so a bidirectional override or a control character in them
// cannot change what the reader sees (SPEC section 8).
template <class... Args>
void say(fmt::format_string<Args...> f, Args&&... args) {
  std::string text = fmt::format(f, std::forward<Args>(args)...);
  if (!text.empty() && text.back() == '\n') text.pop_back();
  std::cout << escape_display(text) << '\n';
}

void print_text(const engine::Explanation& x) {
  const OffsetSec tz = x.timezone;
  say("event {} (seq {}, hash {})\n", x.event.id, x.seq, x.hash_hex);
  say("  {}\n", event_to_json(x.event, tz));
  say("terms time {} ({})\n", format_time(x.terms_time, tz), x.terms_reason);
  if (x.version_seq) {
    say("ruleset {} v{} (effective {}, published at seq {}): {}\n", x.version_name, x.version,
        format_time(x.version_effective, tz), *x.version_seq, x.version_reason);
  } else {
    say("ruleset: {}\n", x.version_reason);
  }
  for (const auto& s : x.other_versions) say("  not {}\n", s);
  if (x.eligible) {
    if (*x.eligible) {
      say("order eligible for commission\n");
    } else {
      say("order not eligible: {}\n", x.why_ineligible);
    }
  }
  for (const auto& t : x.trace)
    say("{}{}\n", std::string(2 + 2 * static_cast<std::size_t>(t.depth), ' '), t.text);
  for (const auto& c : x.targets) {
    say("target {}{}:\n", c.key, c.previous.parts.empty() ? " (new)" : "");
    for (const TargetRow& r : target_rows(c)) {
      say("  {:<28} previous {:>12}  new {:>12}  delta {:>12}\n", r.account, format_money(r.previous_fen),
          format_money(r.new_fen), format_money(r.delta_fen));
    }
  }
  if (x.postings.empty()) {
    say("postings: none\n");
    return;
  }
  say("postings:\n");
  for (const auto& p : x.postings) {
    say("  {:<28} {:>14}  available {}  rule {}{}{}\n", p.account, format_money(p.amount_fen),
        format_time(p.available_at, tz), p.rule, p.line ? fmt::format(" line {}", p.line) : "",
        p.key.empty() ? "" : " key " + p.key);
  }
}

}  // namespace

void add_explain(CLI::App& app, Globals& g, std::vector<Command>& out) {
  auto id = std::make_shared<std::string>();
  CLI::App* sub =
      app.add_subcommand("explain", "why an event has its postings: version, rules, values, rounding");
  sub->add_option("event", *id, "event id")->required()->check(identifier_arg());
  out.push_back({sub, [&g, id] {
                   auto ledger = engine::open_for_queries(g.db_dir());
                   if (!ledger) return fail(ledger.message());
                   auto x = engine::explain(**ledger, *id);
                   if (!x) return fail(x.message());
                   if (g.format_name == "json") {
                     print_json(*x);
                   } else {
                     print_text(*x);
                   }
                   return kExitOk;
                 }});
}

}  // namespace fz::cli
