// fenzhang reconcile tbk FILE…: the ledger against the platform's order reports (SPEC section 10).
#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <tuple>

#include "engine/queries.hpp"
#include "engine/reader.hpp"
#include "import/import.hpp"
#include "store/ledger.hpp"
#include "tools/arguments.hpp"
#include "tools/cli.hpp"
#include "tools/output.hpp"

namespace fz::cli {
namespace {

struct ReconcileArgs {
  std::vector<std::string> files;
};

struct LedgerOrder {
  std::string merchant;
  Fen amount = 0, refunded = 0;
  bool confirmed = false;
  std::vector<std::string> event_ids;
  Fen commission = 0;  // what its merchant account was charged for it
};

struct Difference {
  std::string order, kind, report, ledger;
  Fen delta = 0;  // commission: report − ledger
};

std::string ledger_status(const LedgerOrder& o) {
  if (o.refunded >= o.amount) return "refunded";
  if (o.confirmed) return o.refunded > 0 ? "confirmed, partly refunded" : "confirmed";
  return o.refunded > 0 ? "paid, partly refunded" : "paid";
}

// The ledger's tbk orders: every order whose order.paid id starts with "tbk-", with its later events.
Result<std::map<std::string, LedgerOrder>> ledger_orders(const Ledger& ledger) {
  std::map<std::string, LedgerOrder> orders;
  std::map<std::string, std::string> order_of_event;
  Status s = ledger.scan(1, ledger.head_seq(), [&](const StoredEvent& se) -> Status {
    const Event& e = se.event;
    if (e.type == EventType::kOrderPaid && e.id.starts_with("tbk-")) {
      LedgerOrder& o = orders[e.text(fields::kOrder)];
      o.merchant = e.text(fields::order_paid::kMerchant);
      o.amount = e.number(fields::order_paid::kAmount);
      o.event_ids.push_back(e.id);
    } else if (e.type == EventType::kOrderConfirmed) {
      if (auto it = orders.find(e.text(fields::kOrder)); it != orders.end()) {
        it->second.confirmed = true;
        it->second.event_ids.push_back(e.id);
      }
    } else if (e.type == EventType::kOrderRefunded) {
      if (auto it = orders.find(e.text(fields::kOrder)); it != orders.end()) {
        it->second.refunded += e.number(fields::order_refunded::kAmount);
        it->second.event_ids.push_back(e.id);
      }
    }
    return Status::Ok();
  });
  if (!s.ok()) return s.error();
  for (auto& [id, o] : orders) {
    for (const std::string& ev : o.event_ids) order_of_event[ev] = id;
  }
  // Commission: the postings of the order's events to its merchant's accounts.
  engine::JournalFilter filter;
  filter.account_pattern = "@merchant:*";
  auto postings = engine::journal(ledger, filter);
  if (!postings) return postings.error();
  for (const auto& p : *postings) {
    auto it = order_of_event.find(p.event_id);
    if (it == order_of_event.end()) continue;
    LedgerOrder& o = orders[it->second];
    if (!p.account.starts_with("@merchant:" + o.merchant + ":")) continue;
    if (!accumulate_fen(o.commission, -p.amount_fen)) return make_error("commission overflow");
  }
  return orders;
}

int run(const Globals& g, const ReconcileArgs& a) {
  // The reports: the last row of an order (over all files, in order) is the platform's current word.
  std::map<std::string, imports::OrderLine> report;
  std::uint64_t rejected = 0;
  const bool json = g.format() == Format::kJson;
  boost::json::array rejections;
  for (const std::string& f : a.files) {
    auto reject = [&](std::uint64_t line, const std::string& id, const std::string& why) {
      ++rejected;
      if (json) {
        rejections.push_back(boost::json::object{{"file", f}, {"line", line}, {"id", id}, {"reason", why}});
      } else {
        std::cerr << escape_display(fmt::format("{}:{}: {}: {}", f, line, id, why)) << "\n";
      }
    };
    auto bytes = imports::read_report_file(f);
    if (!bytes) return fail(bytes.message());
    auto table = imports::open_table(std::move(*bytes));
    if (!table) {
      reject(1, "-", table.message());
      continue;
    }
    auto lines = imports::order_lines(std::move(*table));
    imports::ReconcileRow row;
    for (;;) {
      auto got = lines->next(&row);
      if (!got) return fail(got.message());
      if (!*got) break;
      if (!row.reason.empty()) {
        reject(row.line, row.id, row.reason);
        continue;
      }
      report[row.order.order] = row.order;
    }
  }
  auto ledger = engine::open_for_queries(g.db_dir());
  if (!ledger) return fail(ledger.message());
  if (Status s = engine::check_projection_current(**ledger); !s.ok()) return fail(s.message());
  auto orders = ledger_orders(**ledger);
  if (!orders) return fail(orders.message());

  std::vector<Difference> diffs;
  for (const auto& [id, r] : report) {
    const std::string rs(imports::status_name(r.status));
    auto it = orders->find(id);
    if (it == orders->end()) {
      diffs.push_back({id, "missing in ledger", rs, "-"});
      continue;
    }
    const LedgerOrder& o = it->second;
    if (r.status == imports::OrderStatus::kSettled && !o.confirmed) {
      diffs.push_back({id, "status", rs, ledger_status(o)});
    } else if (r.status == imports::OrderStatus::kClosed && o.refunded < o.amount) {
      diffs.push_back({id, "status", rs, ledger_status(o)});
    } else if (r.status == imports::OrderStatus::kSettled && r.commission && *r.commission != o.commission) {
      diffs.push_back({id, "commission", format_money(*r.commission), format_money(o.commission),
                       *r.commission - o.commission});
    }
  }
  for (const auto& [id, o] : *orders) {
    if (!report.contains(id)) diffs.push_back({id, "missing in report", "-", ledger_status(o)});
  }
  std::sort(diffs.begin(), diffs.end(), [](const Difference& x, const Difference& y) {
    return std::tie(x.order, x.kind) < std::tie(y.order, y.kind);
  });
  std::map<std::string, std::uint64_t> counts{
      {"missing in ledger", 0}, {"missing in report", 0}, {"status", 0}, {"commission", 0}};
  Fen delta = 0;
  for (const Difference& d : diffs) {
    ++counts[d.kind];
    if (!accumulate_fen(delta, d.delta)) return fail("commission difference overflows");
  }
  const std::string summary = fmt::format(
      "{} order{} in the report{}, {} tbk order{} in the ledger: {} difference{} (missing in ledger {}, "
      "missing in "
      "report {}, status {}, commission {}); commission difference {} (report - ledger)",
      report.size(), report.size() == 1 ? "" : "s", a.files.size() == 1 ? "" : "s", orders->size(),
      orders->size() == 1 ? "" : "s", diffs.size(), diffs.size() == 1 ? "" : "s", counts["missing in ledger"],
      counts["missing in report"], counts["status"], counts["commission"], format_money(delta));
  if (json) {
    boost::json::array rows;
    for (const Difference& d : diffs) {
      rows.push_back(boost::json::object{
          {"order", d.order}, {"kind", d.kind}, {"report", d.report}, {"ledger", d.ledger}});
    }
    boost::json::object o{{"differences", std::move(rows)},
                          {"orders_in_report", report.size()},
                          {"orders_in_ledger", orders->size()},
                          {"commission_difference", format_money(delta)},
                          {"rejected", rejected},
                          {"rejections", std::move(rejections)}};
    for (const auto& [k, n] : counts) o[k] = n;
    std::cout << boost::json::serialize(o) << "\n";
  } else {
    TextTable t({{"order"}, {"kind"}, {"report"}, {"ledger"}});
    for (const Difference& d : diffs) t.add_row({d.order, d.kind, d.report, d.ledger});
    if (g.format() == Format::kCsv) {
      t.print_csv(std::cout);
      std::cerr << summary << "\n";
    } else {
      if (!diffs.empty()) t.print(std::cout);
      std::cout << summary << "\n";
    }
  }
  return diffs.empty() && rejected == 0 ? kExitOk : kExitRejected;
}

}  // namespace

void add_reconcile(CLI::App& app, Globals& g, std::vector<Command>& out) {
  CLI::App* rec = app.add_subcommand("reconcile", "compare the ledger with a platform's reports");
  rec->require_subcommand(1);
  auto args = std::make_shared<ReconcileArgs>();
  CLI::App* sub = rec->add_subcommand("tbk", "the ledger's tbk- orders against Taobao Union order reports");
  sub->add_option("files", args->files, "order reports: CSV (UTF-8, UTF-16 with BOM, GB18030) or XLSX")
      ->required()
      ->check(non_empty_arg());
  out.push_back({sub, [&g, args] { return run(g, *args); }});
}

}  // namespace fz::cli
