// Issue 13: the defects found when the ledger was attacked as an attacker would, each through the real
// binary: a ledger wiped by a missing CURRENT, acknowledged batches lost with a truncated WAL, an abort
// on a full disk (on a real tmpfs), backdated withdrawals that overdrew, misleading errors on a damaged
// ledger, readers failing during a rebuild, times past year 9999, and a publish whose recomputation
// fails. Then the loops: SIGKILLs across append, publish recomputation and replay, and a real full disk
// at 20 sizes. Each test fails on the code before the fix (see docs/reliability.md).
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "store/head_witness.hpp"
#include "tests/test_util.hpp"
#include "tools/append_job.hpp"

extern char** environ;

using fz::test::run;
using fz::test::RunResult;
using fz::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::string fzc(const std::string& db, const std::string& args) {
  return fmt::format("{} --db {} {}", fz::test::bin(), db, args);
}
std::string rules_file() {
  return fz::test::source_dir() + "/rules/taobao-live.rules";
}
std::string sample() {
  return fz::test::source_dir() + "/examples/taobao-live-sample.jsonl";
}
void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}
std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
bool contains(const std::string& s, std::string_view what) {
  return s.find(what) != std::string::npos;
}

// The sample ledger: the default policy and the shipped events.
void make_sample(const std::string& db) {
  auto p = run(fzc(db, "rules publish " + rules_file()));
  REQUIRE_MESSAGE(p.exit_code == 0, p.out);
  auto a = run(fzc(db, "append " + sample()));
  REQUIRE_MESSAGE(a.exit_code == 0, a.out);
}

// Every account's total and available at a fixed time, as JSON text (no head: heads differ with the
// publish time).
std::string balances_at(const std::string& db, const std::string& at = "2027-06-01") {
  auto r = run(fzc(db, "--format json balance --at " + at));
  REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  auto v = boost::json::parse(r.out);
  return boost::json::serialize(v.as_object().at("accounts"));
}

std::string verify_head(const std::string& db) {
  auto r = run(fzc(db, "--format json verify"));
  REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  return std::string(boost::json::parse(r.out).as_object().at("head").as_string());
}

std::size_t count_files(const std::string& dir, std::string_view ext) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ext;
  return n;
}

// The largest write-ahead log file of a ledger directory.
std::string largest_wal(const std::string& dir) {
  std::string best;
  std::uintmax_t best_size = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".log") continue;
    if (best.empty() || e.file_size() > best_size) {
      best = e.path().string();
      best_size = e.file_size();
    }
  }
  return best;
}

// A child process with its standard input on a pipe (stdout and stderr to /dev/null).
struct Child {
  pid_t pid = -1;
  int stdin_fd = -1;
};
Child spawn_with_stdin(const std::vector<std::string>& argv) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  Child c;
  const int rc = ::posix_spawn(&c.pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[0]);
  REQUIRE(rc == 0);
  c.stdin_fd = fds[1];
  return c;
}
pid_t spawn_quiet(const std::vector<std::string>& argv) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(rc == 0);
  return pid;
}
void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    REQUIRE(n > 0);
    done += static_cast<std::size_t>(n);
  }
}
std::uint64_t witnessed_seq(const std::string& dir) {
  auto w = fz::HeadWitness::read(dir);
  return w.ok() && w->has_value() ? (*w)->seq : 0;
}

std::string generated(const TempDir& dir, int events, int seed) {
  const std::string path = dir / fmt::format("gen-{}-{}.jsonl", events, seed);
  auto r = run(fmt::format("{} gen --events {} --seed {} > {}", fz::test::bin(), events, seed, path));
  REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  return path;
}

}  // namespace

TEST_CASE("issue 13 item 1: a missing CURRENT never makes append wipe the ledger") {
  TempDir dir;
  const std::string db = dir / "db";
  make_sample(db);
  const std::string head = verify_head(db);
  const std::string current = read_file(db + "/CURRENT");
  const std::size_t tables = count_files(db, ".sst");
  REQUIRE(tables > 0);

  // CURRENT gone, the empty WAL left in place: every command refuses, nothing is recreated.
  fs::remove(db + "/CURRENT");
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto a = run(fzc(db, "append " + sample()));
    CHECK(a.exit_code == 1);
    CHECK_MESSAGE(contains(a.out, "CURRENT"), a.out);
    CHECK_MESSAGE(contains(a.out, "does not create a new ledger"), a.out);
    CHECK_FALSE(fs::exists(db + "/CURRENT"));
  }
  auto v = run(fzc(db, "verify"));
  CHECK(v.exit_code == 1);
  CHECK_MESSAGE(contains(v.out, "CURRENT"), v.out);
  CHECK_FALSE(contains(v.out, "no ledger at"));
  auto p = run(fzc(db, "rules publish " + rules_file()));
  CHECK(p.exit_code == 1);
  CHECK(count_files(db, ".sst") == tables);

  // Restoring CURRENT gives back the whole ledger: nothing was deleted.
  write_file(db + "/CURRENT", current);
  CHECK(verify_head(db) == head);

  // CURRENT and the WAL gone (the attack of the issue): refused the same way, tables untouched.
  for (const auto& e : fs::directory_iterator(db)) {
    if (e.path().extension() == ".log") fs::remove(e.path());
  }
  fs::remove(db + "/CURRENT");
  auto again = run(fzc(db, "append " + sample()));
  CHECK(again.exit_code == 1);
  CHECK(count_files(db, ".sst") == tables);

  // A missing or empty directory is where a new ledger is made.
  const std::string empty = dir / "empty";
  fs::create_directories(empty);
  CHECK(run(fzc(empty, "append " + sample())).exit_code == 0);
  CHECK(run(fzc(dir / "missing", "append " + sample())).exit_code == 0);
  // A directory with something else in it is not.
  const std::string other = dir / "other";
  fs::create_directories(other);
  write_file(other + "/notes.txt", "not a ledger\n");
  auto o = run(fzc(other, "append " + sample()));
  CHECK(o.exit_code == 1);
  CHECK(read_file(other + "/notes.txt") == "not a ledger\n");
}

TEST_CASE("issue 13 item 2: a truncated or deleted WAL is refused, naming the missing range") {
  TempDir dir;
  const std::string db = dir / "db";
  REQUIRE(run(fzc(db, "rules publish " + rules_file())).exit_code == 0);
  // More events than one append batch, sent without closing the pipe: a writer that has acknowledged its
  // first batch (witnessed) and is killed with the WAL still holding it.
  const std::uint64_t batch = fz::AppendOptions{}.batch_events;
  const std::uint64_t kFirstBatchHead = batch + 1;  // the rules.published event, then the batch
  const std::string events = read_file(generated(dir, static_cast<int>(batch + batch / 4), 11));
  Child c = spawn_with_stdin({fz::test::bin(), "--db", db, "append", "-"});
  write_all(c.stdin_fd, events);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (witnessed_seq(db) < kFirstBatchHead && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const std::uint64_t acked = witnessed_seq(db);
  ::kill(c.pid, SIGKILL);
  int status = 0;
  ::waitpid(c.pid, &status, 0);
  ::close(c.stdin_fd);
  REQUIRE(acked >= kFirstBatchHead);
  auto ok = run(fzc(db, "verify"));
  REQUIRE_MESSAGE(ok.exit_code == 0, ok.out);
  const std::string wal = largest_wal(db);
  REQUIRE(!wal.empty());

  const std::string copy = dir / "copy";
  fs::copy(db, copy, fs::copy_options::recursive);
  // One byte off the live WAL: the acknowledged batch at its end is gone.
  fs::resize_file(wal, fs::file_size(wal) - 1);
  for (const char* cmd : {"verify", "balance", "append /dev/null"}) {
    auto r = run(fzc(db, cmd));
    CAPTURE(cmd);
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(contains(r.out, fmt::format("seq {} was acknowledged", acked)), r.out);
    CHECK_MESSAGE(contains(r.out, "are missing"), r.out);
  }
  // The WAL deleted: the same.
  fs::remove(copy + "/" + fs::path(wal).filename().string());
  auto r = run(fzc(copy, "verify"));
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(contains(r.out, fmt::format("events 2-{} are missing", acked)), r.out);
}

TEST_CASE("issue 13 item 2: verify --expect-head fails unless the chain reaches that hash") {
  TempDir dir;
  const std::string db = dir / "db";
  REQUIRE(run(fzc(db, "rules publish " + rules_file())).exit_code == 0);
  const std::string early = verify_head(db);
  REQUIRE(run(fzc(db, "append " + sample())).exit_code == 0);
  const std::string head = verify_head(db);
  auto at_head = run(fzc(db, "verify --expect-head " + head));
  CHECK_MESSAGE(at_head.exit_code == 0, at_head.out);
  CHECK(contains(at_head.out, "reaches the expected head at seq 35"));
  auto earlier = run(fzc(db, "verify --expect-head " + early));
  CHECK_MESSAGE(earlier.exit_code == 0, earlier.out);
  CHECK(contains(earlier.out, "at seq 1"));
  std::string other = head;
  other[0] = other[0] == '0' ? '1' : '0';
  auto wrong = run(fzc(db, "verify --expect-head " + other));
  CHECK(wrong.exit_code == 1);
  CHECK_MESSAGE(contains(wrong.out, "never reaches the expected head"), wrong.out);
  CHECK(run(fzc(db, "verify --expect-head xyz")).exit_code == 2);
  CHECK(run(fzc(db, "verify --expect-head ''")).exit_code == 2);
}

namespace {

// A real tmpfs of `mb` MiB at `dir`; false (with the reason printed) where mounting is not permitted.
bool mount_tmpfs(const std::string& dir, int mb) {
  fs::create_directories(dir);
  const std::string opts = fmt::format("size={}m", mb);
  if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, opts.c_str()) != 0) {
    MESSAGE("skipped: cannot mount a tmpfs at " << dir << ": " << std::strerror(errno)
                                                << " (the disk-full tests need root)");
    return false;
  }
  return true;
}
bool grow_tmpfs(const std::string& dir, int mb) {
  const std::string opts = fmt::format("size={}m", mb);
  return ::mount("tmpfs", dir.c_str(), "tmpfs", MS_REMOUNT, opts.c_str()) == 0;
}

}  // namespace

// Issue 13 item 3 and the disk-full loop: on a real, small tmpfs, an append that fills the disk fails
// with a clear error and exit 1 (it aborted with SIGABRT, exit 134, in RocksDB's info LOG writer), so
// do the commands after it while the disk stays full; the ledger verifies; once the space grows the
// re-run completes to exactly the balances of a ledger that never saw a full disk.
TEST_CASE("issue 13 item 3: a full disk is a clear error, exit 1, never an abort (20 sizes, real tmpfs)") {
#if defined(__SANITIZE_ADDRESS__)
  constexpr int kEvents = 5000;  // several times slower there
#else
  constexpr int kEvents = 20000;
#endif
  constexpr int kFullAtLeast = 5;
  TempDir dir;
  const std::string events = generated(dir, kEvents, 5);
  const std::string clean = dir / "clean";
  REQUIRE(run(fzc(clean, "rules publish " + rules_file())).exit_code == 0);
  REQUIRE(run(fzc(clean, "append " + events)).exit_code == 0);
  const std::string expected = balances_at(clean);
  // The sizes tried go from a third of the finished ledger's size to 2.5 times it: an append peaks at 1.2
  // (ASan's 5,000 events) to 2 times (20,000) its final size, the WAL and the table files flushed from it
  // side by side, so about half or more of the sizes fill up (8 and 17 of 20 when this was written).
  std::uintmax_t clean_bytes = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(clean)) {
    if (entry.is_regular_file()) clean_bytes += entry.file_size();
  }
  const int clean_kb = static_cast<int>(clean_bytes / 1024);
  REQUIRE(clean_kb > 64);
  const std::string mnt = dir / "mnt";
  if (!mount_tmpfs(mnt, 1)) return;
  ::umount(mnt.c_str());
  int full_seen = 0;
  for (int i = 0; i < 20; ++i) {
    const int kb = clean_kb / 3 + i * (5 * clean_kb / 2 - clean_kb / 3) / 19;
    CAPTURE(kb);
    REQUIRE(::mount("tmpfs", mnt.c_str(), "tmpfs", 0, fmt::format("size={}k", kb).c_str()) == 0);
    const std::string db = mnt + "/db";
    auto p = run(fzc(db, "rules publish " + rules_file()));
    auto a = run(fzc(db, "append " + events));
    auto again = run(fzc(db, "append " + events));
    for (const RunResult* r : {&p, &a, &again}) {
      CHECK_MESSAGE((r->exit_code == 0 || r->exit_code == 1), r->out);
      if (r->exit_code == 1) CHECK_MESSAGE(contains(r->out, "No space left on device"), r->out);
      CHECK_FALSE(contains(r->out, "Assertion"));
    }
    full_seen += a.exit_code == 1;
    if (p.exit_code == 0) {
      auto v = run(fzc(db, "verify"));
      CHECK_MESSAGE(v.exit_code == 0, v.out);
    }
    REQUIRE(grow_tmpfs(mnt, 64));
    auto p2 = run(fzc(db, "rules publish " + rules_file()));
    CHECK_MESSAGE(p2.exit_code == 0, p2.out);
    auto a2 = run(fzc(db, "append " + events));
    CHECK_MESSAGE(a2.exit_code == 0, a2.out);
    auto v2 = run(fzc(db, "verify"));
    CHECK_MESSAGE(v2.exit_code == 0, v2.out);
    CHECK(balances_at(db) == expected);
    ::umount(mnt.c_str());
  }
  MESSAGE(fmt::format("ledger of {} events: {} KiB; {} of 20 sizes ({}-{} KiB) were full", kEvents, clean_kb,
                      full_seen, clean_kb / 3, 5 * clean_kb / 2));
  CHECK(full_seen >= kFullAtLeast);  // the small sizes really were full
}

TEST_CASE("issue 13 item 4: backdated withdrawals cannot overdraw (available = least future balance)") {
  TempDir dir;
  const std::string db = dir / "db";
  make_sample(db);
  const std::string before = balances_at(db);
  // s1 shows 23.84 available now, but a claw-back of 16.00 becomes due on 12-20: only 7.84 can be
  // spent from any moment before it without overdrawing later.
  const std::string w = dir / "w.jsonl";
  write_file(
      w,
      R"({"id":"w-a","type":"withdrawal.requested","at":"2026-11-28T10:00:00+08:00","party":"streamer:s1","source":"cps","amount":"23.84"})"
      "\n"
      R"({"id":"w-b","type":"withdrawal.requested","at":"2026-11-22T10:00:00+08:00","party":"streamer:s1","source":"cps","amount":"23.84"})"
      "\n"
      R"({"id":"w-c","type":"withdrawal.requested","at":"2026-11-21T11:00:00+08:00","party":"streamer:s1","source":"cps","amount":"23.84"})"
      "\n");
  auto r = run(fzc(db, "append " + w));
  CHECK(r.exit_code == 1);
  CHECK(contains(r.out, "appended 0, duplicates 0, rejected 3"));
  CHECK(balances_at(db) == before);

  const std::string w2 = dir / "w2.jsonl";
  write_file(
      w2,
      R"({"id":"w-d","type":"withdrawal.requested","at":"2026-11-28T10:00:00+08:00","party":"streamer:s1","source":"cps","amount":"7.84"})"
      "\n"
      R"({"id":"w-e","type":"withdrawal.requested","at":"2026-11-22T10:00:00+08:00","party":"streamer:s1","source":"cps","amount":"0.01"})"
      "\n");
  auto r2 = run(fzc(db, "append " + w2));
  CHECK(contains(r2.out, "appended 1, duplicates 0, rejected 1"));
  CHECK(contains(r2.out, "w-e: rule withdrawal"));
  auto b = run(fzc(db, "--format json balance '@*:s1:cps' --at 2027-01-01"));
  CHECK_MESSAGE(contains(b.out, R"("account":"@streamer:s1:cps","total":"0.00","available":"0.00")"), b.out);
  auto pay = run(fzc(db, "--format json balance '@payout:streamer:s1'"));
  CHECK_MESSAGE(contains(pay.out, R"("total":"41.86")"), pay.out);  // 35.00 + 6.86, never 97.58
  auto x = run(fzc(db, "--format table explain w-d"));
  CHECK_MESSAGE(contains(x.out,
                         "available(@streamer:s1:cps) = 7.84: 23.84 available at 2026-11-28T10:00:00+08:00, "
                         "but only 7.84 from 2026-12-20T00:00:00+08:00 on"),
                x.out);
}

TEST_CASE("issue 13 item 7: a damaged CURRENT or MANIFEST is reported as what RocksDB found, exit 1") {
  TempDir dir;
  const std::string base = dir / "base";
  make_sample(base);
  auto damage = [&](const std::string& name, const std::function<void(const std::string&)>& how) {
    const std::string db = dir / name;
    fs::copy(base, db, fs::copy_options::recursive);
    how(db);
    for (const char* cmd : {"verify", "balance", "journal", "append /dev/null"}) {
      CAPTURE(name);
      CAPTURE(cmd);
      auto r = run(fzc(db, cmd));
      CHECK(r.exit_code == 1);
      CHECK_MESSAGE(contains(r.out, "cannot open ledger"), r.out);
      CHECK_FALSE(contains(r.out, "not fully created"));
      CHECK_FALSE(contains(r.out, "no ledger at"));
    }
  };
  auto manifest_of = [](const std::string& db) {
    for (const auto& e : fs::directory_iterator(db)) {
      if (e.path().filename().string().starts_with("MANIFEST-")) return e.path().string();
    }
    return std::string();
  };
  auto flip = [](const std::string& path, std::size_t at) {
    std::string bytes = read_file(path);
    REQUIRE(at < bytes.size());
    bytes[at] = static_cast<char>(bytes[at] ^ 0x20);
    write_file(path, bytes);
  };
  damage("current-flipped", [&](const std::string& db) { flip(db + "/CURRENT", 3); });
  damage("manifest-flipped", [&](const std::string& db) { flip(manifest_of(db), 20); });
  damage("manifest-deleted", [&](const std::string& db) { fs::remove(manifest_of(db)); });
}

TEST_CASE("issue 13 item 8: readers never fail while a rebuild or a publish recomputation runs") {
  TempDir dir;
  const std::string db = dir / "db";
  REQUIRE(run(fzc(db, "rules publish " + rules_file())).exit_code == 0);
  REQUIRE(run(fzc(db, "append " + generated(dir, 60000, 9))).exit_code == 0);
  std::string v2 = read_file(rules_file());
  const auto pos = v2.find("version 1");
  REQUIRE(pos != std::string::npos);
  v2.replace(pos, 9, "version 2");
  write_file(dir / "v2.rules", v2);

  int readers = 0, during = 0;
  for (const std::vector<std::string>& writer :
       {std::vector<std::string>{fz::test::bin(), "--db", db, "replay"},
        std::vector<std::string>{fz::test::bin(), "--db", db, "rules", "publish", dir / "v2.rules"}}) {
    const pid_t pid = spawn_quiet(writer);
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      const bool rebuilding = fs::exists(db + "/fenzhang.snapshot");
      auto r = run(fzc(db, "--format json balance '@platform:*'"));
      ++readers;
      during += rebuilding;
      CHECK_MESSAGE(r.exit_code == 0, r.out);
      CHECK_FALSE(contains(r.out, "rebuild was interrupted"));
    }
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  MESSAGE(readers << " readers, " << during << " while a rebuild was under way");
  CHECK(during > 0);
  auto v = run(fzc(db, "verify"));
  CHECK_MESSAGE(v.exit_code == 0, v.out);
  CHECK_FALSE(fs::exists(db + "/fenzhang.snapshot"));
}

TEST_CASE("issue 13 item 9: times past 9999 are evaluation errors, never clamped") {
  TempDir dir;
  const std::string db = dir / "db";
  make_sample(db);
  const std::string head = verify_head(db);
  const std::string e = dir / "late.jsonl";
  write_file(
      e,
      R"({"id":"o9-paid","type":"order.paid","at":"9999-12-29T09:00:00+08:00","order":"o9","merchant":"m1","streamer":"s1","plan":"p1","amount":"10.00","via_link":true})"
      "\n"
      R"({"id":"o9-confirmed","type":"order.confirmed","at":"9999-12-30T09:00:00+08:00","order":"o9"})"
      "\n");
  auto r = run(fzc(db, "append " + e));
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(contains(r.out, "appended 1, duplicates 0, rejected 1"), r.out);
  CHECK_MESSAGE(contains(r.out, "o9-confirmed: rule"), r.out);
  CHECK_MESSAGE(contains(r.out, "outside the supported times (0001-01-02 to 9999-12-30 UTC)"), r.out);
  auto j = run(fzc(db, "--format json journal"));
  CHECK_FALSE(contains(j.out, "10000-"));

  // A rule that computes a time past the range rejects the event with its rule and line.
  const std::string db2 = dir / "db2";
  write_file(
      dir / "far.rules",
      "ruleset far version 1 effective 2026-01-01\n"
      "rule bonus on agency.contracted {\n"
      "  move 1.00 from @platform:bonus to @agency:{event.agency}:bonus available event.at + 99999999d\n"
      "}\n");
  REQUIRE(run(fzc(db2, "rules publish " + dir / "far.rules")).exit_code == 0);
  write_file(dir / "a.jsonl",
             R"({"id":"a1","type":"agency.contracted","at":"2026-10-01T10:00:00+08:00","agency":"a1"})"
             "\n");
  auto r2 = run(fzc(db2, "append " + dir / "a.jsonl"));
  CHECK(r2.exit_code == 1);
  CHECK_MESSAGE(contains(r2.out, "a1: rule bonus (line 3)"), r2.out);
  CHECK_MESSAGE(contains(r2.out, "outside the supported times"), r2.out);
  CHECK(run(fzc(db, "verify")).exit_code == 0);
  CHECK(verify_head(db) != head);  // o9-paid was appended; nothing of o9-confirmed was
}

TEST_CASE("issue 13 item 12: rules publish refuses a version whose recomputation fails, unless --force") {
  TempDir dir;
  const std::string db = dir / "db";
  make_sample(db);
  const std::string head = verify_head(db);
  const std::string before = balances_at(db);
  std::string bad = read_file(rules_file());
  const auto pos = bad.find("version 1");
  REQUIRE(pos != std::string::npos);
  bad.replace(pos, 9, "version 2");
  // The CPS rule now divides by zero: every commission fails to evaluate.
  const auto cps = bad.find("round(order.net * order.rate)");
  REQUIRE(cps != std::string::npos);
  bad.replace(cps, 29, "round(order.net * order.rate / (order.rate - order.rate))");
  write_file(dir / "bad.rules", bad);
  REQUIRE(run(fzc(db, "rules check " + dir / "bad.rules")).exit_code == 0);

  auto refused = run(fzc(db, "rules publish " + dir / "bad.rules"));
  CHECK(refused.exit_code == 1);
  CHECK_MESSAGE(contains(refused.out, "would now fail"), refused.out);
  CHECK_MESSAGE(contains(refused.out, "nothing was published"), refused.out);
  CHECK(verify_head(db) == head);
  CHECK(balances_at(db) == before);

  auto dry = run(fzc(db, "rules publish --dry-run " + dir / "bad.rules"));
  CHECK(dry.exit_code == 1);
  CHECK_MESSAGE(contains(dry.out, "@streamer:s1:cps  total"), dry.out);
  CHECK_MESSAGE(contains(dry.out, "division by zero"), dry.out);
  CHECK(verify_head(db) == head);

  auto forced = run(fzc(db, "rules publish --force " + dir / "bad.rules"));
  CHECK_MESSAGE(forced.exit_code == 0, forced.out);
  CHECK(contains(forced.out, "published taobao_live v2"));
  CHECK(verify_head(db) != head);
  auto v = run(fzc(db, "verify"));
  CHECK_MESSAGE(v.exit_code == 0, v.out);
}

// The kill loop of issue 13: the real binary killed with SIGKILL at random moments while it appends,
// publishes a version (recomputing the projection) or replays, ≥ 200 times in the optimised build.
// After every kill `verify` passes (an interrupted rebuild answers from the reader snapshot); at the end
// re-running what was interrupted gives exactly the balances of a run that was never killed.
TEST_CASE("issue 13: kill loop: SIGKILL during append, publish recomputation and replay") {
#if defined(__SANITIZE_ADDRESS__)
  constexpr int kRounds = 45;  // the sanitizer build is several times slower; the release build does 210
  constexpr int kMaxDelayMs = 1500;
#else
  constexpr int kRounds = 210;
  constexpr int kMaxDelayMs = 400;
#endif
  TempDir dir;
  const std::string db = dir / "db";
  const std::string events = generated(dir, 6000, 21);
  const std::string source = read_file(rules_file());
  auto version_file = [&](int v) {
    const std::string path = dir / fmt::format("v{}.rules", v);
    if (!fs::exists(path)) {
      std::string text = source;
      text.replace(text.find("version 1"), 9, fmt::format("version {}", v));
      write_file(path, text);
    }
    return path;
  };
  REQUIRE(run(fzc(db, "rules publish " + rules_file())).exit_code == 0);
  std::mt19937 rng(20261201);
  int next_version = 2, kills = 0;
  for (int round = 0; round < kRounds; ++round) {
    CAPTURE(round);
    std::vector<std::string> argv{fz::test::bin(), "--db", db};
    switch (round % 3) {
      case 0:
        argv.insert(argv.end(), {"append", events});
        break;
      case 1:
        argv.insert(argv.end(), {"rules", "publish", version_file(next_version++)});
        break;
      default:
        argv.push_back("replay");
        break;
    }
    const pid_t pid = spawn_quiet(argv);
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % kMaxDelayMs));
    kills += ::kill(pid, SIGKILL) == 0;
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFEXITED(status)) CHECK_MESSAGE(WEXITSTATUS(status) <= 1, argv[3]);  // finished before the kill
    if (WIFSIGNALED(status)) CHECK(WTERMSIG(status) == SIGKILL);              // never SIGABRT
    auto v = run(fzc(db, "verify"));
    REQUIRE_MESSAGE(v.exit_code == 0, v.out);
  }
  MESSAGE(kills << " of " << kRounds << " processes killed while running");
  CHECK(kills >= kRounds / 2);
  // Finish what was interrupted: the events, then every version in order (published ones are
  // duplicates), then a replay.
  auto a = run(fzc(db, "append " + events));
  REQUIRE_MESSAGE(a.exit_code == 0, a.out);
  for (int v = 2; v < next_version; ++v) {
    auto p = run(fzc(db, "rules publish " + version_file(v)));
    REQUIRE_MESSAGE(p.exit_code == 0, p.out);
  }
  REQUIRE(run(fzc(db, "replay")).exit_code == 0);
  auto v = run(fzc(db, "verify"));
  REQUIRE_MESSAGE(v.exit_code == 0, v.out);

  const std::string clean = dir / "clean";
  REQUIRE(run(fzc(clean, "rules publish " + rules_file())).exit_code == 0);
  REQUIRE(run(fzc(clean, "append " + events)).exit_code == 0);
  CHECK(balances_at(db) == balances_at(clean));
  CHECK(balances_at(db, "2026-11-20") == balances_at(clean, "2026-11-20"));
}
