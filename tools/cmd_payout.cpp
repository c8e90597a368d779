// fenzhang payout alipay --kind streamer|agency --source cps|vtask --at T [--min 1.00] --out FILE [--dry-run]
//
// SPEC section 10: every party of --kind with a verified Alipay binding whose available money in
// --source at --at is at least --min gets one withdrawal.requested for all of it (id
// payout-<kind>-<id>-<source>-<T digits>, so a rerun pays nothing twice), appended through the same
// path as `append`; then the Alipay batch upload file (GBK CSV, export/alipay.cpp) lists what the rules
// actually paid out (the withdrawal's postings to @payout:…). Decisions: docs/exports.md.
#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <unordered_set>

#include "core/money.hpp"
#include "engine/queries.hpp"
#include "engine/reader.hpp"
#include "export/export.hpp"
#include "model/event_json.hpp"
#include "tools/arguments.hpp"
#include "tools/cli.hpp"
#include "tools/dry_run.hpp"
#include "tools/output.hpp"

namespace fz::cli {
namespace {

struct PayoutArgs {
  std::string kind, source, at, min = "1.00", out;
  bool dry_run = false;
};

struct Binding {
  std::string alipay;
  bool verified = false;
  std::string name;
};

struct Skip {
  std::string party_id;
  std::string why;
};

// What the run will do, decided on a read-only view of the ledger.
struct PayoutPlan {
  std::vector<InputRecord> records;  // one withdrawal each: new ones, and those a rerun finds stored
  std::vector<std::string> withdrawal_ids;
  std::map<std::string, Binding> bindings;  // party id -> latest binding
  std::vector<Skip> skipped;
};

struct Query {
  std::string kind, source;
  TimeUs at_us = 0;
  Fen min_fen = 0;
  OffsetSec offset = kDefaultOffsetSec;
};

// The latest payout.bound of every party of the kind, in log order (a later bind replaces the earlier).
Result<std::map<std::string, Binding>> load_bindings(const Ledger& ledger, const std::string& kind) {
  std::map<std::string, Binding> out;
  const std::string prefix = kind + ":";
  FZ_TRY(ledger.scan(1, ledger.head_seq(), [&](const StoredEvent& s) -> Status {
    const Event& e = s.event;
    if (e.type != EventType::kPayoutBound || !e.text(fields::kParty).starts_with(prefix)) return {};
    const FieldValue& name = e[fields::payout_bound::kName];
    out[e.text(fields::kParty).substr(prefix.size())] =
        Binding{e.text(fields::payout_bound::kAlipay), e.number(fields::payout_bound::kVerified) != 0,
                name.present ? name.s : ""};
    return {};
  }));
  return out;
}

// What the withdrawal rule's available(account) sees for an event at `at_us` (SPEC 5): the least, over
// every moment from `at_us` on, of the postings so far that are available by then.
Result<Fen> spendable(const Ledger& ledger, const std::string& account, TimeUs at_us) {
  engine::JournalFilter f;
  f.account_pattern = account;
  auto postings = engine::journal(ledger, f);
  if (!postings) return postings.error();
  std::map<TimeUs, Fen> later;
  Fen running = 0;
  for (const engine::Posting& p : *postings) {
    if (p.available_at <= at_us) {
      running += p.amount_fen;
    } else {
      later[p.available_at] += p.amount_fen;
    }
  }
  Fen least = running;
  for (const auto& [t, fen] : later) least = std::min(least, running += fen);
  return least;
}

// The digits of T as written in the ledger's timezone: 2026-12-20T00:00:00+08:00 -> 20261220000000.
std::string time_digits(TimeUs at_us, OffsetSec offset) {
  const std::string text = format_time(at_us, offset);
  std::string digits;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i > 10 && (text[i] == '+' || text[i] == '-' || text[i] == 'Z')) break;  // the offset
    if (text[i] >= '0' && text[i] <= '9') digits += text[i];
  }
  return digits;
}

std::string withdrawal_id(const Query& q, const std::string& party_id) {
  return fmt::format("payout-{}-{}-{}-{}", q.kind, party_id, q.source, time_digits(q.at_us, q.offset));
}

// Why a party with this binding and this much available is not paid ("" when it is).
std::string skip_reason(const Query& q, const Binding& b, Fen available_fen) {
  if (!b.verified) return "Alipay binding not verified";
  if (available_fen < q.min_fen) {
    return fmt::format("available {} is below the minimum {}", format_money(available_fen),
                       format_money(q.min_fen));
  }
  if (b.name.empty()) return "no name in its payout.bound (Alipay checks the account holder's name)";
  if (auto gbk = exports::utf8_to_gbk(b.name + b.alipay); !gbk) return "name or account: " + gbk.message();
  return {};
}

InputRecord withdrawal_record(const Query& q, const std::string& id, const std::string& party_id,
                              Fen amount_fen) {
  boost::json::object o{{"id", id},
                        {"type", "withdrawal.requested"},
                        {"at", format_time(q.at_us, q.offset)},
                        {"party", q.kind + ":" + party_id},
                        {"source", q.source},
                        {"amount", format_money(amount_fen)}};
  const std::string line = boost::json::serialize(o);
  LineResult parsed = parse_event_line(line);
  InputRecord rec;
  rec.id = parsed.id;
  if (parsed.event) {
    rec.events.push_back(std::move(*parsed.event));
  } else {
    rec.reason = parsed.reason;
  }
  return rec;
}

// One party with a binding: its stored withdrawal (a rerun), a new one, or a reason to skip it.
Status plan_party(const Ledger& ledger, const Query& q, const std::string& party_id, const Binding& b,
                  PayoutPlan* plan) {
  const std::string id = withdrawal_id(q, party_id);
  auto seq = ledger.seq_of(id);
  if (!seq) return seq.error();
  if (*seq) {  // paid by an earlier run: the same event again is a duplicate
    auto stored = ledger.read(**seq);
    if (!stored) return stored.error();
    InputRecord rec;
    rec.id = id;
    rec.events.push_back(stored->event);
    plan->records.push_back(std::move(rec));
    plan->withdrawal_ids.push_back(id);
    return {};
  }
  auto available = spendable(ledger, fmt::format("@{}:{}:{}", q.kind, party_id, q.source), q.at_us);
  if (!available) return available.error();
  if (std::string why = skip_reason(q, b, *available); !why.empty()) {
    plan->skipped.push_back({party_id, std::move(why)});
    return {};
  }
  plan->records.push_back(withdrawal_record(q, id, party_id, *available));
  plan->withdrawal_ids.push_back(id);
  return {};
}

// Parties that hold money in the source account but have no binding at all.
Status plan_unbound(const Ledger& ledger, const Query& q, PayoutPlan* plan) {
  auto rows = engine::balances(ledger, fmt::format("@{}:*:{}", q.kind, q.source), std::nullopt, q.at_us);
  if (!rows) return rows.error();
  const std::string prefix = fmt::format("@{}:", q.kind), suffix = ":" + q.source;
  for (const engine::BalanceRow& r : *rows) {
    const std::string id = r.account.substr(prefix.size(), r.account.size() - prefix.size() - suffix.size());
    if (r.total_fen == 0 || id.find(':') != std::string::npos || plan->bindings.contains(id)) continue;
    plan->skipped.push_back({id, "no Alipay account bound (payout.bound)"});
  }
  return {};
}

Result<PayoutPlan> make_plan(const Ledger& ledger, const Query& q) {
  PayoutPlan plan;
  auto bindings = load_bindings(ledger, q.kind);
  if (!bindings) return bindings.error();
  plan.bindings = std::move(*bindings);
  for (const auto& [party_id, binding] : plan.bindings)
    FZ_TRY(plan_party(ledger, q, party_id, binding, &plan));
  FZ_TRY(plan_unbound(ledger, q, &plan));
  std::sort(plan.skipped.begin(), plan.skipped.end(),
            [](const Skip& a, const Skip& b) { return a.party_id < b.party_id; });
  return plan;
}

class PlanRecords final : public RecordSource {
 public:
  explicit PlanRecords(std::vector<InputRecord> records) : records_(std::move(records)) {}
  Result<bool> next(InputRecord* out) override {
    if (next_ == records_.size()) return false;
    *out = std::move(records_[next_++]);
    out->line = next_;
    return true;
  }

 private:
  std::vector<InputRecord> records_;
  std::size_t next_ = 0;
};

struct Totals {
  std::size_t parties = 0;
  Fen withdrawn_fen = 0, paid_fen = 0;

  // One more party paid; an error when a total would overflow.
  Status add(Fen withdrawn, Fen paid) {
    if (!accumulate_fen(withdrawn_fen, withdrawn) || !accumulate_fen(paid_fen, paid))
      return make_error("the payout's totals overflow");
    ++parties;
    return Status::Ok();
  }
};

// The sum of an event's postings to @payout:… accounts: what the rules pay out for a withdrawal.
Result<Fen> paid_out(const std::vector<engine::Posting>& postings) {
  Fen paid = 0;
  for (const engine::Posting& p : postings) {
    if (p.account.starts_with("@payout:") && !accumulate_fen(paid, p.amount_fen))
      return make_error(fmt::format("{}: its payouts overflow", p.event_id));
  }
  return paid;
}

// The batch rows: every withdrawal of the plan now in the ledger, with what the rules paid out for it.
Result<std::vector<exports::AlipayRow>> paid_rows(const Ledger& ledger, const Query& q,
                                                  const PayoutPlan& plan, Totals* totals) {
  std::vector<exports::AlipayRow> rows;
  for (const std::string& id : plan.withdrawal_ids) {
    engine::JournalFilter f;
    f.event = id;
    auto postings = engine::journal(ledger, f);
    if (!postings) return postings.error();
    if (postings->empty()) continue;  // rejected: the append reported why
    auto paid = paid_out(*postings);
    if (!paid) return paid.error();
    auto seq = ledger.seq_of(id);
    if (!seq || !*seq) return make_error(fmt::format("{}: has postings but is not in the log", id));
    auto stored = ledger.read(**seq);
    if (!stored) return stored.error();
    const std::string party = stored->event.text(fields::kParty);
    const Binding& b = plan.bindings.at(party.substr(q.kind.size() + 1));
    rows.push_back({b.alipay, b.name, *paid, id});
    FZ_TRY(totals->add(stored->event.number(fields::withdrawal::kAmount), *paid));
  }
  return rows;
}

// FILE, FILE.2, FILE.3, ...; each written to a temporary name and renamed over the old one.
Result<std::vector<std::string>> write_batch_files(const std::string& out,
                                                   const std::vector<std::string>& files) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string name = i == 0 ? out : fmt::format("{}.{}", out, i + 1);
    const std::string tmp = name + ".tmp";
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      f << files[i];
      f.flush();
      if (!f) return make_error(fmt::format("cannot write {}", tmp));
    }
    std::error_code ec;
    std::filesystem::rename(tmp, name, ec);
    if (ec) return make_error(fmt::format("cannot rename {} to {}: {}", tmp, name, ec.message()));
    names.push_back(name);
  }
  return names;
}

// With --format json, one object: the append's summary with the payout's under "payout".
void print_summary(const Globals& g, const Query& q, const PayoutPlan& plan, const Totals& t,
                   const std::vector<std::string>& files, boost::json::object append_summary) {
  const Fen fees = t.withdrawn_fen - t.paid_fen;
  if (g.format_name == "json") {  // as append's own summary: text unless --format json is given
    boost::json::array skipped, names;
    for (const Skip& s : plan.skipped)
      skipped.push_back({{"party", q.kind + ":" + s.party_id}, {"why", s.why}});
    for (const std::string& f : files) names.push_back(boost::json::string(f));
    boost::json::object o{{"parties", t.parties},
                          {"withdrawn", format_money(t.withdrawn_fen)},
                          {"paid", format_money(t.paid_fen)},
                          {"fees", format_money(fees)},
                          {"skipped", std::move(skipped)},
                          {"files", std::move(names)}};
    append_summary["payout"] = std::move(o);
    std::cout << boost::json::serialize(append_summary) << "\n";
    return;
  }
  fmt::print("payout {} {} at {}: {} part{}, withdrawn {}, paid {}, fees {}\n", q.kind, q.source,
             format_time(q.at_us, q.offset), t.parties, t.parties == 1 ? "y" : "ies",
             format_money(t.withdrawn_fen), format_money(t.paid_fen), format_money(fees));
  for (const Skip& s : plan.skipped) {
    fmt::print("{}\n", escape_display(fmt::format("skipped {}:{}: {}", q.kind, s.party_id, s.why)));
  }
  for (const std::string& f : files) fmt::print("wrote {}\n", escape_display(f));
}

// After the append: the batch files from what the ledger now holds, and the summary.
int write_and_report(const Globals& g, const Query& q, const PayoutPlan& plan, const std::string& out,
                     int append_exit, boost::json::object append_summary) {
  // A failure after the append still reports what was appended: the withdrawals are in the ledger.
  auto failed = [&](const std::string& message) {
    if (g.format_name == "json") std::cout << boost::json::serialize(append_summary) << "\n";
    return fail(message);
  };
  auto ledger = engine::open_for_queries(g.db_dir());
  if (!ledger) return failed(ledger.message());
  Totals totals;
  auto rows = paid_rows(**ledger, q, plan, &totals);
  if (!rows) return failed(rows.message());
  auto files = exports::alipay_batch_files(*rows);
  if (!files) return failed(files.message());
  auto names = write_batch_files(out, *files);
  if (!names) return failed(names.message());
  print_summary(g, q, plan, totals, *names, std::move(append_summary));
  return append_exit;
}

// --dry-run: the new withdrawals as JSON Lines on standard output, each staged through the engine as the
// real run stages it (DryRun: a `require` that refuses, a balance that moved since the plan, are
// rejections here too, with the real run's `payout:N: ID: reason`); on standard error what the rules
// would pay each party after fees, the skipped parties and the totals. Nothing is written. A rerun's
// withdrawals already in the ledger are duplicates: nothing new to print.
int dry_run(const Globals& g, const Query& q, PayoutPlan& plan) {
  auto session = DryRun::open(g.db_dir());
  if (!session) return fail(session.message());
  Appender& appender = (*session)->appender();
  PlanRecords records(std::move(plan.records));
  std::unordered_set<std::string> shared_seen;
  std::uint64_t duplicates = 0, rejected = 0;
  Totals totals;
  InputRecord rec;
  for (;;) {
    auto got = records.next(&rec);
    if (!got) return fail(got.message());
    if (!*got) break;
    std::string reason = rec.reason;
    const std::size_t before = appender.staged();
    const Disposition d = rec.reason.empty() ? stage_record(appender, rec, shared_seen, &reason, &duplicates)
                                             : Disposition::kRejected;
    if (d == Disposition::kFailed) return fail(reason);
    if (d == Disposition::kRejected) {
      ++rejected;
      std::cerr << escape_display(fmt::format("payout:{}: {}: {}", rec.line, rec.id, reason)) << "\n";
      continue;
    }
    if (appender.staged() == before) continue;  // stored by an earlier run
    const Event& e = rec.events.front();
    const Fen withdrawn = e.number(fields::withdrawal::kAmount);
    auto paid = paid_out((*session)->last_postings());
    if (!paid) return fail(paid.message());
    if (Status t = totals.add(withdrawn, *paid); !t.ok()) return fail(t.message());
    std::cout << event_to_json(e, q.offset) << "\n";
    std::cerr << escape_display(fmt::format("would pay {}: {} (withdrawn {}, fees {})",
                                            e.text(fields::kParty), format_money(*paid),
                                            format_money(withdrawn), format_money(withdrawn - *paid)))
              << "\n";
  }
  if (Status s = (*session)->finish(); !s.ok()) return fail(s.message());
  for (const Skip& s : plan.skipped) {
    std::cerr << escape_display(fmt::format("skipped {}:{}: {}", q.kind, s.party_id, s.why)) << "\n";
  }
  std::cerr << fmt::format(
      "dry run: payout {} {} at {}: {} part{}, withdrawn {}, paid {}, fees {}, rejected {} (nothing "
      "written)\n",
      q.kind, q.source, format_time(q.at_us, q.offset), totals.parties, totals.parties == 1 ? "y" : "ies",
      format_money(totals.withdrawn_fen), format_money(totals.paid_fen),
      format_money(totals.withdrawn_fen - totals.paid_fen), rejected);
  return rejected > 0 ? kExitRejected : kExitOk;
}

Result<Query> make_query(const PayoutArgs& a) {
  Query q{a.kind, a.source};
  auto at = parse_query_time(a.at);
  if (!at) return make_error("--at: " + at.message());
  q.at_us = *at;
  auto min = parse_money(a.min);
  if (!min) return make_error("--min: " + min.message());
  if (*min < 1) return make_error("--min: must be at least 0.01");
  q.min_fen = *min;
  return q;
}

int run(const Globals& g, const PayoutArgs& a) {
  auto q = make_query(a);
  if (!q) {
    std::cerr << "error: " << q.message() << "\n";
    return kExitUsage;
  }
  if (a.out.empty() && !a.dry_run) {
    std::cerr << "error: --out: required (the Alipay batch file to write)\n";
    return kExitUsage;
  }
  Result<PayoutPlan> plan = make_error("not planned");
  {
    auto ledger = engine::open_for_queries(g.db_dir());
    if (!ledger) return fail(ledger.message());
    q->offset = display_offset(**ledger);
    plan = make_plan(**ledger, *q);
  }
  if (!plan) return fail(plan.message());
  if (a.dry_run) return dry_run(g, *q, *plan);
  PlanRecords records(plan->records);
  boost::json::object append_summary;
  AppendExtras extras;
  extras.json_summary = &append_summary;
  const int exit_code = append_inputs(g, {AppendInput{"payout", nullptr, &records}}, AppendOptions{}, extras);
  if (exit_code != kExitOk && exit_code != kExitRejected) {
    if (g.format_name == "json" && !append_summary.empty())
      std::cout << boost::json::serialize(append_summary) << "\n";
    return exit_code;
  }
  return write_and_report(g, *q, *plan, a.out, exit_code, std::move(append_summary));
}

}  // namespace

void add_payout(CLI::App& app, Globals& g, std::vector<Command>& out) {
  auto args = std::make_shared<PayoutArgs>();
  CLI::App* sub = app.add_subcommand("payout", "withdrawals for every party due money, and the payment file");
  sub->require_subcommand(1);
  CLI::App* alipay = sub->add_subcommand(
      "alipay", "withdraw what each verified party may take and write the Alipay batch file");
  alipay->add_option("--kind", args->kind, "streamer or agency")
      ->required()
      ->check(CLI::IsMember({"streamer", "agency"}));
  alipay->add_option("--source", args->source, "cps or vtask")
      ->required()
      ->check(CLI::IsMember({"cps", "vtask"}));
  alipay->add_option("--at", args->at, "the withdrawals' time (RFC 3339, or YYYY-MM-DD for local midnight)")
      ->required()
      ->check(query_time_arg());
  alipay->add_option("--min", args->min, "pay only parties with at least this much available (default 1.00)")
      ->check(non_empty_arg());
  alipay->add_option("--out", args->out, "the Alipay batch file (FILE, FILE.2, ... for more than 3000 rows)")
      ->check(non_empty_arg());
  alipay->add_flag("--dry-run", args->dry_run, "print the withdrawal events (JSON Lines) and write nothing");
  out.push_back({alipay, [&g, args] { return run(g, *args); }});
}

}  // namespace fz::cli
