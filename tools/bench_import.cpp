// fenzhang-bench-import REPORT MAP: the import's read, decode, parse and map alone (no ledger), for
// scripts/bench_import.sh. Prints rows, events and rows/s of each stage; not installed, not a test.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>

#include "import/import.hpp"

int main(int argc, char** argv) {
  namespace im = fz::imports;
  if (argc != 3) {
    std::fprintf(stderr, "usage: fenzhang-bench-import REPORT MAP\n");
    return 2;
  }
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  auto map_bytes = im::read_report_file(argv[2]);
  if (!map_bytes) return std::fprintf(stderr, "%s\n", map_bytes.message().c_str()), 1;
  auto map = im::parse_import_map(*map_bytes, argv[2]);
  if (!map) return std::fprintf(stderr, "%s\n", map.message().c_str()), 1;
  auto bytes = im::read_report_file(argv[1]);
  if (!bytes) return std::fprintf(stderr, "%s\n", bytes.message().c_str()), 1;
  const auto t1 = Clock::now();
  auto table = im::open_table(std::move(*bytes));  // decoding to UTF-8 happens here
  if (!table) return std::fprintf(stderr, "%s\n", table.message().c_str()), 1;
  const auto t2 = Clock::now();
  auto report = im::order_report(std::move(*table), *map, {});
  std::uint64_t rows = 0, events = 0, rejected = 0;
  im::MappedRow row;
  for (;;) {
    auto got = report->next(&row);
    if (!got) return std::fprintf(stderr, "%s\n", got.message().c_str()), 1;
    if (!*got) break;
    ++rows;
    events += row.events.size();
    rejected += row.reason.empty() ? 0 : 1;
  }
  const auto t3 = Clock::now();
  auto s = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
  fmt::print("rows={} events={} rejected={}\n", rows, events, rejected);
  fmt::print("read_s={:.3f} decode_s={:.3f} parse_map_s={:.3f}\n", s(t0, t1), s(t1, t2), s(t2, t3));
  fmt::print("parse_map_rows_per_s={:.0f} (decode+parse+map: {:.0f})\n", rows / s(t2, t3), rows / s(t1, t3));
  return 0;
}
