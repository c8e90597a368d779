// fenzhang-bench-query --db DIR [--account A] [--runs N]: the latency of the balance query itself, for
// scripts/bench.sh (issue 6: "balance of one account < 1 ms").
//
// `fenzhang balance` as a command also pays for starting a process and opening RocksDB (about 20 ms on
// the benchmark machine). This program opens the ledger once, read-only, then times `runs` calls of the
// query `fenzhang balance` makes (engine::balances) for one account and for every account, and prints
// the open time and the median and slowest call in microseconds as key=value lines. Every call's result
// is checked against the first, so a query that answers differently under repetition is an error.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <vector>

#include "engine/queries.hpp"

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t micros_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
}

bool same(const std::vector<fz::engine::BalanceRow>& a, const std::vector<fz::engine::BalanceRow>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.account == y.account && x.total_fen == y.total_fen && x.available_fen == y.available_fen;
  });
}

// Times `runs` calls of balances(pattern); prints NAME_median_us, NAME_max_us and NAME_rows.
int time_query(const fz::Ledger& ledger, const std::string& name, const std::string& pattern, int runs,
               fz::TimeUs now_us) {
  std::vector<std::int64_t> took_us;
  took_us.reserve(static_cast<std::size_t>(runs));
  std::vector<fz::engine::BalanceRow> first;
  for (int i = 0; i < runs; ++i) {
    const auto start = Clock::now();
    auto rows = fz::engine::balances(ledger, pattern, std::nullopt, now_us);
    took_us.push_back(micros_since(start));
    if (!rows) {
      fmt::print(stderr, "error: {}\n", rows.message());
      return 1;
    }
    if (i == 0) {
      first = std::move(*rows);
    } else if (!same(first, *rows)) {
      fmt::print(stderr, "error: run {} of {} answered differently from the first\n", i + 1, name);
      return 1;
    }
  }
  std::sort(took_us.begin(), took_us.end());
  fmt::print("{}_median_us={} {}_max_us={} {}_rows={}\n", name, took_us[took_us.size() / 2], name,
             took_us.back(), name, first.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"time the balance query in one process (scripts/bench.sh)"};
  std::string db;
  std::string account = "@streamer:s1:cps";
  int runs = 1000;
  app.add_option("--db", db, "the ledger directory")->required();
  app.add_option("--account", account, "the one account to query");
  app.add_option("--runs", runs, "calls per query")->check(CLI::Range(1, 1'000'000));
  CLI11_PARSE(app, argc, argv);

  const auto open_start = Clock::now();
  auto ledger = fz::Ledger::open(db, fz::Ledger::Access::kRead);
  if (!ledger) {
    fmt::print(stderr, "error: {}\n", ledger.message());
    return 1;
  }
  fmt::print("open_us={}\n", micros_since(open_start));
  const fz::TimeUs now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
  if (int rc = time_query(**ledger, "balance_one", account, runs, now_us); rc != 0) return rc;
  // Every account: fewer runs, each reads the whole accounts column family.
  return time_query(**ledger, "balance_all", "", std::max(1, runs / 20), now_us);
}
