// Crash test (SPEC section 7): a child process appends batches in a loop and acknowledges each one
// after commit() returns; the parent kills it with SIGKILL at random moments, reopens the ledger and
// checks that every acknowledged event is there, the log is a gapless prefix of what was sent with no
// partial batch, and verify passes.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "store/appender.hpp"
#include "store/ledger.hpp"
#include "store/verify.hpp"
#include "tests/child_process.hpp"
#include "tests/crash_common.hpp"
#include "tests/test_util.hpp"

using namespace fz;

namespace {

pid_t spawn_writer(const std::string& db, int* read_fd) {
  const pid_t pid = fz::test::spawn_with_stdout_pipe({CRASH_WRITER_PATH, db}, read_fd);
  REQUIRE(pid > 0);
  return pid;
}

}  // namespace

TEST_CASE("SIGKILL during appends never loses an acknowledged batch nor leaves a partial one") {
  fz::test::TempDir dir;
  std::mt19937 rng(7);
  std::uint64_t acked = 0, total_acked = 0;
  int kills = 0;
  std::string db;
  for (int round = 0; round < 60; ++round) {
    if (round % 10 == 0) {  // a fresh ledger now and then keeps each verify short
      db = dir / fmt::format("db{}", round);
      total_acked += acked;
      acked = 0;
    }
    int ack_fd = -1;
    const pid_t pid = spawn_writer(db, &ack_fd);
    // Wait until the writer has opened the ledger, then kill it at a random moment of its appends.
    std::uint64_t ready = 0;
    REQUIRE(::read(ack_fd, &ready, sizeof ready) == static_cast<ssize_t>(sizeof ready));
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 40000));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) ++kills;
    acked = fz::test::drain_acks(ack_fd, acked);
    ::close(ack_fd);

    auto ledger = Ledger::open(db, Ledger::Access::kWrite);
    REQUIRE_MESSAGE(ledger.ok(), ledger.message());
    const std::uint64_t head = (*ledger)->head_seq();
    CAPTURE(round);
    if (std::getenv("CRASH_DEBUG")) fmt::print(stderr, "round {} head {} acked {}\n", round, head, acked);
    CHECK(head >= acked);
    CHECK(head % crash::kBatch == 0);  // whole batches only
    auto report = verify_log(**ledger);
    REQUIRE_MESSAGE(report.ok(), report.message());
    CHECK(report->events == head);
    // The log is exactly what was sent, in order.
    Status s = (*ledger)->scan(1, head, [](const StoredEvent& se) -> Status {
      if (se.event.id != fmt::format("c-{}", se.seq))
        return make_error(fmt::format("seq {} holds {}", se.seq, se.event.id));
      return Status::Ok();
    });
    CHECK_MESSAGE(s.ok(), s.message());
  }
  total_acked += acked;
  MESSAGE("kills: " << kills << ", events acknowledged: " << total_acked);
  CHECK(kills >= 50);
  CHECK(total_acked > 0);
}
