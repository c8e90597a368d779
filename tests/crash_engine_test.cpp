// Crash test with the engine (issue 7): a child process appends events with postings in pipelined
// batches and publishes rules versions that recompute the projection in place; the parent kills it with
// SIGKILL at random moments, reopens the ledger and checks that every acknowledged event is there, the
// log verifies, and the projection (after finishing an interrupted recomputation, as the next writer
// does) equals a replay of the log and balances to zero.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "engine/queries.hpp"
#include "engine/rebuild.hpp"
#include "store/ledger.hpp"
#include "store/verify.hpp"
#include "tests/child_process.hpp"
#include "tests/test_util.hpp"

using namespace fz;

namespace {

pid_t spawn_writer(const std::string& db, int* read_fd) {
  const pid_t pid = fz::test::spawn_with_stdout_pipe(
      {CRASH_ENGINE_WRITER_PATH, db, fz::test::source_dir() + "/rules/taobao-live.rules"}, read_fd);
  REQUIRE(pid > 0);
  return pid;
}

}  // namespace

TEST_CASE("SIGKILL during appends with postings and in-place recomputation: the projection equals a replay") {
  fz::test::TempDir dir;
  std::mt19937 rng(11);
  std::uint64_t acked = 0;
  int kills = 0, unfinished_rebuilds = 0;
  const std::string db = dir / "db";
  constexpr int kRounds = 30;
  for (int round = 0; round < kRounds; ++round) {
    CAPTURE(round);
    int ack_fd = -1;
    const pid_t pid = spawn_writer(db, &ack_fd);
    std::uint64_t ready = 0;
    REQUIRE(::read(ack_fd, &ready, sizeof ready) == static_cast<ssize_t>(sizeof ready));
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 400000));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) ++kills;
    REQUIRE_MESSAGE(!WIFEXITED(status),
                    "the writer stopped by itself with exit code " << WEXITSTATUS(status));
    acked = fz::test::drain_acks(ack_fd, acked);
    ::close(ack_fd);

    auto ledger = Ledger::open(db, Ledger::Access::kWrite);
    REQUIRE_MESSAGE(ledger.ok(), ledger.message());
    const std::uint64_t head = (*ledger)->head_seq();
    CHECK(head >= acked);
    auto report = verify_log(**ledger);
    REQUIRE_MESSAGE(report.ok(), report.message());
    CHECK(report->events == head);
    // A recomputation cut short, or a kill after the last checkpoint of a write-back append, leaves the
    // projection behind the log. Finish it as the next writer would.
    if (!engine::check_projection_current(**ledger).ok()) {
      ++unfinished_rebuilds;
      auto done = engine::catch_up_projection(**ledger, **ledger, head);
      REQUIRE_MESSAGE(done.ok(), done.message());
    }
    REQUIRE(engine::check_projection_current(**ledger).ok());
    Status book = engine::check_book(**ledger);
    CHECK_MESSAGE(book.ok(), book.message());
    Status same =
        engine::with_scratch_replay(**ledger, head, [&](Ledger& scratch, const engine::RebuildReport&) {
          return engine::compare_projections(**ledger, scratch);
        });
    CHECK_MESSAGE(same.ok(), same.message());
  }
  MESSAGE("kills: " << kills << ", head acknowledged: " << acked
                    << ", projections behind the log (recomputations or checkpoints cut short): "
                    << unfinished_rebuilds);
  CHECK(kills == kRounds);
  CHECK(acked > 0);
}
