// Issue 13 items 5, 6, 10 and 11 through the fenzhang binary: read errors, the bounded line reader,
// command-line validation and escaped output (SPEC sections 7 and 8).
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "model/event_json.hpp"
#include "store/ledger.hpp"
#include "tests/test_util.hpp"
#include "tools/append_job.hpp"

using fz::test::run;
using fz::test::TempDir;

namespace {

std::string fz_cmd(const TempDir& dir, const std::string& args) {
  return fmt::format("{} --db {} {}", fz::test::bin(), dir / "db", args);
}

std::string sample() {
  return fz::test::source_dir() + "/examples/taobao-live-sample.jsonl";
}

std::vector<std::string> sample_lines() {
  std::ifstream in(sample());
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Runs `sh -c command` and returns its exit code and the peak resident set size, in KiB, of the
// shell and every process it waited for (wait4 folds the children's peak into the shell's).
struct Measured {
  int exit_code = -1;
  long max_rss_kib = 0;
};
Measured run_measured(const std::string& command) {
  Measured m;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  struct rusage usage {};
  if (pid < 0 || ::wait4(pid, &status, 0, &usage) != pid) return m;
  m.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  m.max_rss_kib = usage.ru_maxrss;
  return m;
}

#ifdef FZ_SANITIZED
constexpr bool kMeasureMemory = false;
const char* const kAddressLimit = "";
#else
constexpr bool kMeasureMemory = true;
const char* const kAddressLimit = "ulimit -v 400000; ";
#endif

}  // namespace

TEST_CASE("issue 13 item 5: a read error is an error, not a silent end of input") {
  TempDir dir;
  const std::string a_directory = dir / "a-directory";
  std::filesystem::create_directories(a_directory);

  auto r = run(fz_cmd(dir, "append " + a_directory));
  CHECK(r.exit_code == 1);
  CHECK(r.out == fmt::format("error: cannot read {}: Is a directory (at line 1); nothing was appended\n",
                             a_directory));

  auto mem = run(fz_cmd(dir, "append /proc/self/mem"));
  CHECK(mem.exit_code == 1);
  CHECK(mem.out ==
        "error: cannot read /proc/self/mem: Input/output error (at line 1); nothing was appended\n");

  // Standard input that cannot be read is the same error.
  auto stdin_dir = run(fz_cmd(dir, "append - < " + a_directory));
  CHECK(stdin_dir.exit_code == 1);
  CHECK(stdin_dir.out == "error: cannot read -: Is a directory (at line 1); nothing was appended\n");

  // A file that reads, then one that does not: the first file's synced batch stays, and says so.
  auto both = run(fz_cmd(dir, "append " + sample() + " " + a_directory));
  CHECK(both.exit_code == 1);
  CHECK(both.out ==
        fmt::format("error: cannot read {}: Is a directory (at line 1); the append stopped there: "
                    "the 34 events of earlier synced batches stay appended, the batch being read "
                    "was not (re-running the append reports the ones that stayed as duplicates)\n",
                    a_directory));
  CHECK(run(fz_cmd(dir, "verify")).out.starts_with("ok: 34 events, head "));

  auto missing = run(fz_cmd(dir, "append " + (dir / "missing.jsonl")));
  CHECK(missing.exit_code == 1);
  CHECK(missing.out ==
        fmt::format("error: cannot read {}: No such file or directory\n", dir / "missing.jsonl"));
}

namespace {

// A stream that gives `text`, then fails as a disk does (read(2) returning EIO).
class FailingBuf : public std::streambuf {
 public:
  explicit FailingBuf(std::string text) : text_(std::move(text)) {
    setg(text_.data(), text_.data(), text_.data() + text_.size());
  }

 protected:
  int_type underflow() override {
    throw std::ios_base::failure("read", std::error_code(EIO, std::system_category()));
  }

 private:
  std::string text_;
};

}  // namespace

TEST_CASE("issue 13 item 5: a read error mid-file keeps the synced batches and drops the batch being read") {
  TempDir dir;
  auto ledger = fz::Ledger::open(dir / "db", fz::Ledger::Access::kWrite);
  REQUIRE(ledger.ok());
  std::string text;
  for (const std::string& l : sample_lines()) text += l + "\n";
  FailingBuf buf(text);
  std::istream in(&buf);
  fz::AppendOptions options;
  options.batch_events = 10;  // three synced batches of 10, then 4 staged events when the read fails
  auto r =
      fz::run_append(**ledger, nullptr, {{"failing.jsonl", &in}}, options, [](const fz::LineRejection&) {});
  REQUIRE_FALSE(r.ok());
  CHECK(
      r.message() ==
      "cannot read failing.jsonl: Input/output error (at line 35); the append stopped there: the 30 events "
      "of "
      "earlier synced batches stay appended, the batch being read was not (re-running the append reports the "
      "ones that stayed as duplicates)");
  CHECK((*ledger)->head_seq() == 30);
}

TEST_CASE("issue 13 item 6: a line longer than 64 KiB is refused without holding it, in bounded memory") {
  TempDir dir;
  const auto lines = sample_lines();
  REQUIRE(lines.size() >= 6);
  const std::string first3 = dir / "first3.jsonl", next3 = dir / "next3.jsonl";
  write_file(first3, lines[0] + "\n" + lines[1] + "\n" + lines[2] + "\n");
  write_file(next3, "\n" + lines[3] + "\n" + lines[4] + "\n" + lines[5] + "\n");

  // 3 events, a 200 MB line through a pipe, 3 more: the long line is one rejection, the reading goes on,
  // and the process stays small (before: it held the whole line, and under ulimit -v 400000 a 600 MB
  // line ended the input silently: "appended 3, rejected 0", exit 0).
  const std::string command =
      fmt::format("{}(cat {}; head -c 200000000 /dev/zero | tr '\\0' x; cat {}) | timeout 120 {} > {} 2>&1",
                  kAddressLimit, first3, next3, fz_cmd(dir, "append -"), dir / "out.txt");
  const Measured m = run_measured(command);
  std::ifstream out_file(dir / "out.txt");
  std::stringstream out;
  out << out_file.rdbuf();
  CHECK(m.exit_code == 1);
  CHECK(out.str() ==
        "-:4: -: line is 200000000 bytes; an event line has at most 65536\n"
        "appended 6, duplicates 0, rejected 1\n");
  INFO("peak RSS KiB: " << m.max_rss_kib);
  if (kMeasureMemory) CHECK(m.max_rss_kib < 64 * 1024);

  // NUL bytes without end (as `cat /dev/zero | fenzhang append -`, cut at 300 MB): a rejection, not a kill.
  TempDir other;
  const Measured zeros = run_measured(fmt::format("head -c 300000000 /dev/zero | timeout 120 {} > {} 2>&1",
                                                  fz_cmd(other, "append -"), other / "out.txt"));
  std::ifstream zeros_file(other / "out.txt");
  std::stringstream zeros_out;
  zeros_out << zeros_file.rdbuf();
  CHECK(zeros.exit_code == 1);
  CHECK(zeros_out.str() ==
        "-:1: -: line is 300000000 bytes; an event line has at most 65536\n"
        "appended 0, duplicates 0, rejected 1\n");
  INFO("peak RSS KiB: " << zeros.max_rss_kib);
  if (kMeasureMemory) CHECK(zeros.max_rss_kib < 64 * 1024);
}

TEST_CASE("issue 13 item 6: the line limit is exact, CRLF included, and a long blank line is blank") {
  TempDir dir;
  const auto lines = sample_lines();
  // An event line of exactly 64 KiB, ended by CRLF: accepted.
  std::string exact =
      R"({"id":"pad","type":"agency.contracted","at":"2026-09-04T10:00:00+08:00","agency":"a2","meta":{"pad":")";
  const std::string tail = R"("}})";
  exact += std::string(fz::kMaxEventLineBytes - exact.size() - tail.size(), 'p') + tail;
  REQUIRE(exact.size() == fz::kMaxEventLineBytes);
  const std::string file = dir / "limits.jsonl";
  write_file(file, lines[0] + "\n" + exact + "\r\n" + exact + "q\r\n" + exact + "qq\n" +
                       std::string(100'000, ' ') + "\n" + std::string(100'000, 'y') + "\r\n" + lines[1]);
  auto r = run(fz_cmd(dir, "append " + file));
  CHECK(r.exit_code == 1);
  CHECK(r.out == fmt::format("{0}:3: -: line is 65537 bytes; an event line has at most 65536\n"
                             "{0}:4: -: line is 65538 bytes; an event line has at most 65536\n"
                             "{0}:6: -: line is 100000 bytes; an event line has at most 65536\n"
                             "appended 3, duplicates 0, rejected 3\n",
                             file));
}

TEST_CASE("issue 13 item 10: command-line values that were ignored or wrapped are usage errors") {
  TempDir dir;
  REQUIRE(run(fz_cmd(dir, "append " + sample())).exit_code == 0);
  struct Case {
    std::string args;
    std::string message;  // a part of what is printed
  };
  const std::vector<Case> cases = {
      {"replay --until 0", "--until: must be at least 1"},
      {"replay --until -1", "--until: \"-1\" is not a whole number written in digits"},
      {"replay --until 18446744073709551616", "--until: 18446744073709551616 is too large"},
      {"replay --until ''", "--until: is empty; give a whole number"},
      {"replay --rules ''", "--rules: is empty"},
      {"balance --at ''", "--at: is empty; give a time such as 2026-11-20 or 2026-11-20T12:00:00+08:00"},
      {"balance --at 2026-11-31", "--at: \"2026-11-31\" is not a valid date"},
      {"balance ''", "is empty; give an account glob such as '@streamer:*:cps' or leave it out"},
      {"balance '['", "'[' is not a valid glob: the '[' at position 1 is not closed by ']'"},
      {"balance '[a-'", "'[a-' is not a valid glob: the '[' at position 1 is not closed by ']'"},
      {"balance '@streamer:\\'", "'@streamer:\\' ends with a lone '\\'"},
      {"journal --from ''", "--from: is empty"},
      {"journal --to ''", "--to: is empty"},
      {"journal --from '' --to ''", "--from: is empty"},
      {"journal --account ''", "--account: is empty"},
      {"journal --account '@streamer:[s'", "is not a valid glob"},
      {"journal --event ''", "--event: is empty; identifiers have 1-128 characters"},
      {"journal --event 'a b'", "--event: "},
      {"journal --rule ''", "--rule: is empty"},
      {"journal --from 2026-12-01 --to 2026-11-01", "--from 2026-12-01 is later than --to 2026-11-01"},
      {"explain ''", "is empty; identifiers have 1-128 characters"},
      {"statement '' --month 2026-11", "\"\" is not a party such as streamer:s1 or agency:a1"},
      {"statement merchant:m1 --month 2026-11", "\"merchant:m1\" is not a party such as streamer:s1"},
      {"statement streamer:s1 --month ''", "--month: \"\" is not a month such as 2026-11"},
      {"statement streamer:s1 --month 2026-13", "--month: \"2026-13\" is not a month such as 2026-11"},
      {"gen --events 0 --seed 1", "--events: must be at least 1"},
      {"gen --events -1 --seed 1", "--events: \"-1\" is not a whole number"},
      {"gen --events 1 --seed -1", "--seed: \"-1\" is not a whole number"},
      {"gen --events 1 --seed 1 --streamers 0", "--streamers: must be at least 1"},
      {"gen --events 1 --seed 1 --streamers -5", "--streamers: \"-5\" is not a whole number"},
      {"append ''", "is empty"},
      {"rules check ''", "is empty"},
      {"rules publish ''", "is empty"},
  };
  for (const Case& c : cases) {
    INFO(c.args);
    auto r = run(fz_cmd(dir, c.args));
    INFO(r.out);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.out, c.message));
  }
  auto db = run(fmt::format("{} --db '' balance", fz::test::bin()));
  CHECK(db.exit_code == 2);
  CHECK(contains(db.out, "error: --db: is empty"));
  CHECK(run(fz_cmd(dir, "replay --until 0")).out ==
        "error: --until: must be at least 1\nRun with --help for more information.\n");

  // What is valid still works.
  CHECK(run(fz_cmd(dir, "replay --until 1")).exit_code == 0);
  CHECK(run(fz_cmd(dir, "--format csv balance '[@]agency:*'")).out ==
        "account,total,available,pending\n'@agency:a1:vtask,-50.00,-50.00,0.00\n");
  CHECK(run(fz_cmd(dir, "balance '@streamer:s[!1]:*' --at 2026-12-01")).exit_code == 0);
  CHECK(run(fz_cmd(dir, "journal --from 2026-09-01 --to 2026-12-01 --account '@streamer:[[:alnum:]]*'"))
            .exit_code == 0);
  CHECK(
      run(fz_cmd(dir, "journal --from 2026-11-21T10:00:00+08:00 --to 2026-11-21T10:00:00+08:00")).exit_code ==
      0);  // one instant is a range
  CHECK(run(fz_cmd(dir, "statement streamer:s3 --month 2026-11")).exit_code == 0);
}

TEST_CASE(
    "issue 13 item 11: output escapes control and bidirectional characters and neutralizes CSV formulas") {
  TempDir dir;
  const std::string file = dir / "hostile.jsonl";
  // An id a spreadsheet would run as a formula; a reason and a meta value with U+202E (right-to-left
  // override), U+2066 and U+200F, which would make a terminal show "exe.gnp" as "png.exe".
  write_file(
      file,
      R"({"id":"=cmd|'/Ccalc'!A0","type":"adjustment","at":"2026-11-21T10:00:00+08:00","from":"@platform:fees","to":"@agency:a1:cps","amount":"4","reason":"refund \u202egnp.exe","meta":{"note":"x\u2066y\u200fz"}})"
      "\n");
  REQUIRE(run(fz_cmd(dir, "append " + file)).exit_code == 0);
  const std::string rlo = "\xe2\x80\xae";

  auto csv = run(fz_cmd(dir, "--format csv journal"));
  CHECK(csv.exit_code == 0);
  CHECK(csv.out ==
        "seq,event,account,amount,available_at,version,rule,line,key\n"
        "1,'=cmd|'/Ccalc'!A0,'@platform:fees,-4.00,2026-11-21T10:00:00+08:00,'-,adjustment,'-,\n"
        "1,'=cmd|'/Ccalc'!A0,'@agency:a1:cps,4.00,2026-11-21T10:00:00+08:00,'-,adjustment,'-,\n");
  auto balance_csv = run(fz_cmd(dir, "--format csv balance"));
  CHECK(
      balance_csv.out ==
      "account,total,available,pending\n'@agency:a1:cps,4.00,4.00,0.00\n'@platform:fees,-4.00,-4.00,0.00\n");

  auto explain = run(fz_cmd(dir, "explain '=cmd|'\\''/Ccalc'\\''!A0'"));
  CHECK(explain.exit_code == 0);
  CHECK_FALSE(contains(explain.out, rlo));
  CHECK_FALSE(contains(explain.out, "\xe2\x81\xa6"));  // U+2066
  CHECK_FALSE(contains(explain.out, "\xe2\x80\x8f"));  // U+200F
  CHECK(contains(explain.out, R"("reason":"refund \u{202E}gnp.exe")"));
  CHECK(contains(explain.out, R"("meta":{"note":"x\u{2066}y\u{200F}z"})"));
  // JSON keeps the text as it is: JSON readers do not run it.
  auto json = run(fz_cmd(dir, "--format json explain '=cmd|'\\''/Ccalc'\\''!A0'"));
  CHECK(contains(json.out, rlo));

  auto table = run(fz_cmd(dir, "--format table journal"));
  CHECK(contains(table.out, "=cmd|'/Ccalc'!A0"));  // a terminal does not run formulas: no quote
  CHECK_FALSE(contains(table.out, rlo));

  // A rejection quotes the bad value: escaped too.
  const std::string bad = dir / "bad.jsonl";
  write_file(
      bad,
      R"({"id":"y","type":"adjustment","at":"2026-11-21T10:00:00+08:00","from":"@a:b\u202e","to":"@a:c","amount":"1","reason":"r"})"
      "\n");
  auto rejected = run(fz_cmd(dir, "--format table append " + bad));
  CHECK(rejected.exit_code == 1);
  CHECK(rejected.out ==
        fmt::format("{}:1: y: from: \"@a:b\\u{{202E}}\" is not an account such as \"@agency:a1:cps\"\n"
                    "appended 0, duplicates 0, rejected 1\n",
                    bad));
}
