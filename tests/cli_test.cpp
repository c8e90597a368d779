// End-to-end tests of the fenzhang binary: exit codes, output formats, the writer lock across
// processes, and verify on a damaged ledger.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "store/ledger.hpp"
#include "tests/test_util.hpp"

using fz::test::run;
using fz::test::TempDir;

namespace {

std::string fz_cmd(const TempDir& dir, const std::string& args) {
  return fmt::format("{} --db {} {}", fz::test::bin(), dir / "db", args);
}

std::string sample() {
  return fz::test::source_dir() + "/examples/taobao-live-sample.jsonl";
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

}  // namespace

TEST_CASE("append reports every rejection as FILE:LINE: ID: reason and exits 1") {
  TempDir dir;
  const std::string file = dir / "bad.jsonl";
  write_file(
      file,
      R"({"id":"a1","type":"agency.contracted","at":"2026-09-01T10:00:00+08:00","agency":"a1"})"
      "\n"
      R"({"id":"o1","type":"order.paid","at":"2026-10-06T09:00:00+08:00","order":"o1","merchant":"m1","streamer":"s1","plan":"p1","amount":"12.345","via_link":true})"
      "\n\n"
      "garbage\n");
  auto r = run(fz_cmd(dir, "append " + file));
  CHECK(r.exit_code == 1);
  CHECK(r.out == fmt::format("{0}:2: o1: amount: \"12.345\" has 3 decimals; at most 2\n"
                             "{0}:4: -: not valid JSON: syntax error at byte 1\n"
                             "appended 1, duplicates 0, rejected 2\n",
                             file));
  TempDir other;
  auto again = run(fz_cmd(other, "append " + sample() + " " + sample()));
  CHECK(again.exit_code == 0);
  CHECK(again.out == "appended 34, duplicates 34, rejected 0\n");
}

TEST_CASE("append reads standard input and reports JSON") {
  TempDir dir;
  auto r = run(fmt::format("cat {} | {}", sample(), fz_cmd(dir, "--format json append -")));
  CHECK(r.exit_code == 0);
  CHECK(r.out == "{\"appended\":34,\"duplicates\":0,\"rejected\":0,\"rejections\":[],\"notes\":[]}\n");
}

TEST_CASE("usage errors exit 2") {
  TempDir dir;
  CHECK(run(fz_cmd(dir, "append")).exit_code == 2);
  const auto unknown = run(fz_cmd(dir, "--format json balanc"));
  CHECK(unknown.exit_code == 2);
  CHECK(
      unknown.out.find("error: unknown command 'balanc' (the commands are rules, append, verify, balance,") !=
      std::string::npos);
  CHECK(run(fz_cmd(dir, "--format xml balance")).exit_code == 2);
  CHECK(run(fz_cmd(dir, "balance --at yesterday")).exit_code == 2);
  CHECK(run(fmt::format("{} --help", fz::test::bin())).exit_code == 0);
}

TEST_CASE("a second writer process is refused while the first holds the ledger") {
  TempDir dir;
  REQUIRE(run(fz_cmd(dir, "append " + sample())).exit_code == 0);
  // This test process is the first writer: it holds the lock while the binary tries to write.
  auto holder = fz::Ledger::open(dir / "db", fz::Ledger::Access::kWrite);
  REQUIRE(holder.ok());
  auto second = run(fz_cmd(dir, "append " + sample()));
  CHECK(second.exit_code == 1);
  CHECK(second.out == fmt::format("error: ledger {} is locked by another fenzhang process (pid {})\n",
                                  dir / "db", ::getpid()));
  // Readers run alongside the writer.
  auto reader = run(fz_cmd(dir, "verify"));
  CHECK(reader.exit_code == 0);
  CHECK(reader.out.rfind("ok: 34 events, head ", 0) == 0);
  holder->reset();
  CHECK(run(fz_cmd(dir, "append " + sample())).exit_code == 0);  // the lock is released with the ledger
}

TEST_CASE("verify prints the head and the projection digest") {
  TempDir dir;
  REQUIRE(run(fz_cmd(dir, "append " + sample())).exit_code == 0);
  auto r = run(fz_cmd(dir, "verify"));
  CHECK(r.exit_code == 0);
  const auto first_line = r.out.substr(0, r.out.find('\n'));
  CHECK(first_line.size() == std::string("ok: 34 events, head ").size() + 64);
  CHECK(r.out.find("\nprojection digest ") != std::string::npos);
  auto missing = run(fmt::format("{} --db {} verify", fz::test::bin(), dir / "nowhere"));
  CHECK(missing.exit_code == 1);
  CHECK(missing.out == fmt::format("error: no ledger at {} (append events or publish rules to create one)\n",
                                   dir / "nowhere"));
}

TEST_CASE("balance prints a right-aligned table, CSV and the JSON of SPEC section 8") {
  TempDir dir;
  REQUIRE(run(fz_cmd(dir, "append " + sample())).exit_code == 0);
  auto table = run(fz_cmd(dir, "--format table balance"));
  CHECK(table.out ==
        "account              total  available  pending\n"
        "------------------  ------  ---------  -------\n"
        "@agency:a1:vtask    -50.00     -50.00     0.00\n"
        "@streamer:s3:vtask   50.00      50.00     0.00\n");
  auto csv = run(fz_cmd(dir, "--format csv balance '@streamer:*'"));
  // Account names are text starting with '@': CSV quotes them against formula injection (SPEC 8).
  CHECK(csv.out == "account,total,available,pending\n'@streamer:s3:vtask,50.00,50.00,0.00\n");
  auto json = run(fz_cmd(dir, "--format json balance --at 2026-11-26T10:00:00+08:00 '@agency:*'"));
  CHECK(json.out.find("\"at\":\"2026-11-26T10:00:00+08:00\",\"accounts\":[{\"account\":\"@agency:a1:vtask\","
                      "\"total\":\"-50.00\",\"available\":\"-50.00\",\"pending\":\"0.00\"}]}") !=
        std::string::npos);
}

TEST_CASE("replay rebuilds the projection to the digest verify reports, and --until works on the side") {
  TempDir dir;
  REQUIRE(run(fz_cmd(dir, "append " + sample())).exit_code == 0);
  auto verify = run(fz_cmd(dir, "verify"));
  const std::string digest = verify.out.substr(verify.out.find("projection digest ") + 18, 64);
  auto replay = run(fz_cmd(dir, "replay"));
  CHECK(replay.exit_code == 0);
  CHECK(replay.out.find("replayed 34 events (2 postings)") == 0);
  CHECK(replay.out.find("projection digest " + digest + " (equal to the stored projection)") !=
        std::string::npos);
  auto until = run(fz_cmd(dir, "--format json replay --until 20"));
  CHECK(until.exit_code == 0);
  CHECK(until.out.find("\"events\":20,\"postings\":0,") != std::string::npos);
  CHECK(run(fz_cmd(dir, "replay --until 99")).out == "error: --until 99: the log ends at seq 34\n");
  CHECK(run(fz_cmd(dir, "verify")).out == verify.out);
}
