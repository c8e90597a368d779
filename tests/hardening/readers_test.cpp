// Readers alongside a writer (SPEC 7: "readers may run alongside"; every query "runs while a writer is
// appending"). The writer appends, flushes and compacts without pause, so table files, WAL files and
// MANIFESTs are created and deleted under the readers; every reader's open and queries must answer.
#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "engine/queries.hpp"
#include "tests/hardening/hardening.hpp"

namespace fz::hardening {
namespace {

TEST_CASE("readers alongside a writer that flushes and compacts: every open and query answers") {
  test::TempDir dir;
  auto writer = Ledger::open(dir / "db", Ledger::Access::kWrite);
  REQUIRE(writer.ok());
  append_ok(**writer, base_text());

  std::atomic<bool> done{false};
  std::mutex mu;
  std::vector<std::string> writer_errors;
  std::thread w([&] {
    constexpr int kRounds = 60, kPerRound = 500;
    for (int round = 0; round < kRounds; ++round) {
      AppendOutcome o = append(**writer, adjustments(round * kPerRound, kPerRound));
      rocksdb::Status s = fz::LedgerInternals::db(**writer)->Flush(
          rocksdb::FlushOptions(), std::vector<rocksdb::ColumnFamilyHandle*>{
                                       fz::LedgerInternals::cf(**writer, Cf::kEvents),
                                       fz::LedgerInternals::cf(**writer, Cf::kIds),
                                       fz::LedgerInternals::cf(**writer, Cf::kPostings),
                                       fz::LedgerInternals::cf(**writer, Cf::kAccounts),
                                       fz::LedgerInternals::cf(**writer, Cf::kMeta),
                                   });
      // Every few rounds the files just flushed are compacted away.
      if (s.ok() && round % 3 == 2) {
        for (Cf cf : {Cf::kEvents, Cf::kIds, Cf::kPostings, Cf::kAccounts, Cf::kMeta}) {
          if (s.ok())
            s = fz::LedgerInternals::db(**writer)->CompactRange(
                rocksdb::CompactRangeOptions(), fz::LedgerInternals::cf(**writer, cf), nullptr, nullptr);
        }
      }
      if (!o.report.ok() || !o.rejections.empty() || !s.ok()) {
        std::lock_guard lock(mu);
        writer_errors.push_back(!o.report.ok()          ? o.report.message()
                                : !o.rejections.empty() ? o.rejections[0].reason
                                                        : s.ToString());
        break;
      }
    }
    done = true;
  });

  int rounds = 0;
  std::vector<std::string> failures;
  std::uint64_t last_head = 0;
  while (!done.load() || rounds < 5) {
    ++rounds;  // counted before the open, so a reader that can never open still ends the loop
    auto reader = Ledger::open(dir / "db", Ledger::Access::kRead);
    if (!reader) {
      failures.push_back("open: " + reader.message());
      continue;
    }
    // A reader sees a consistent prefix: the head never goes back between opens.
    CHECK((*reader)->head_seq() >= last_head);
    last_head = (*reader)->head_seq();
    auto all = engine::balances(**reader, "", std::nullopt, 0);
    if (!all) failures.push_back("balance: " + all.message());
    engine::JournalFilter jf;
    jf.account_pattern = "@streamer:s1:cps";
    auto j = engine::journal(**reader, jf);
    if (!j) failures.push_back("journal: " + j.message());
    Fen sum = 0;
    if (all) {
      for (const auto& row : *all) sum += row.total_fen;
    }
    CHECK(sum == 0);  // every snapshot a reader opens is a whole ledger: it sums to zero
  }
  w.join();
  CHECK(writer_errors.empty());
  INFO("first failure: " << (failures.empty() ? std::string("none") : failures[0]));
  CHECK(failures.empty());
  CHECK(rounds >= 5);
  MESSAGE(rounds << " reader opens, each with a balance of every account and a journal query");
}

}  // namespace
}  // namespace fz::hardening
