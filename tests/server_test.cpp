// fenzhang serve (SPEC section 11, issue 16), through real sockets on 127.0.0.1 against the real binary:
// every route and its equality with the command line's --format json, 401, 413, 400, 422 with append's
// rejections, a stalled half request, the connection limit (503), group commit with per-client rejections,
// SIGTERM's drain, and the fault test: SIGKILL during a multi-client load, again and again.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "server/http_client.hpp"
#include "store/ledger.hpp"
#include "tests/child_process.hpp"
#include "tests/test_util.hpp"
#include "tools/load_events.hpp"

namespace {

using fz::server::HttpClient;
using fz::server::HttpResponse;
using fz::test::TempDir;
namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

#if defined(__SANITIZE_ADDRESS__)
constexpr int kKillRounds = 12;
#else
constexpr int kKillRounds = 60;
#endif

std::string rules_path() {
  return fz::test::source_dir() + "/rules/taobao-live.rules";
}
std::string sample_path() {
  return fz::test::source_dir() + "/examples/taobao-live-sample.jsonl";
}

fz::test::RunResult cli(const std::string& db, const std::string& args) {
  return fz::test::run(fmt::format("'{}' --db '{}' {}", fz::test::bin(), db, args));
}

// stdout only (the CLI's JSON), stderr dropped.
std::string cli_out(const std::string& db, const std::string& args, int* code = nullptr) {
  auto r = fz::test::run(fmt::format("'{}' --db '{}' {} 2>/dev/null", fz::test::bin(), db, args));
  if (code != nullptr) *code = r.exit_code;
  return r.out;
}

// A running `fenzhang serve` on an ephemeral port of 127.0.0.1, its access log in a file.
class Server {
 public:
  explicit Server(const std::string& db, std::vector<std::string> extra = {}, std::string log = "") {
    std::vector<std::string> argv{fz::test::bin(), "--db", db, "serve", "--listen", "127.0.0.1:0"};
    if (log.empty()) log = db + ".access.log";
    argv.push_back("--access-log");
    argv.push_back(log);
    for (auto& e : extra) argv.push_back(e);
    pid_ = fz::test::spawn_with_stdout_pipe(argv, &fd_);
    REQUIRE(pid_ > 0);
    std::string line;
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (line.find('\n') == std::string::npos && Clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char c = 0;
      if (::read(fd_, &c, 1) != 1) break;
      line += c;
    }
    const auto colon = line.rfind(':');
    REQUIRE_MESSAGE(line.starts_with("listening on 127.0.0.1:"), "serve said: " << line);
    port_ = static_cast<std::uint16_t>(std::stoul(line.substr(colon + 1)));
  }
  ~Server() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
    if (fd_ >= 0) ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  // Sends `sig` and waits for the exit; the exit code, or 128 + the signal.
  int stop(int sig) {
    ::kill(pid_, sig);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

std::string lines(const std::vector<std::string>& v) {
  std::string s;
  for (auto& l : v) s += l + "\n";
  return s;
}

// Sends raw bytes on a new connection and reads what comes back until the server closes it or `wait`.
std::string raw_exchange(std::uint16_t port, const std::string& bytes, std::chrono::milliseconds wait,
                         bool* closed = nullptr) {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket s(ioc);
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  boost::asio::write(s, boost::asio::buffer(bytes));
  std::string out;
  const auto deadline = Clock::now() + wait;
  if (closed != nullptr) *closed = false;
  while (Clock::now() < deadline) {
    pollfd p{s.native_handle(), POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (::poll(&p, 1, static_cast<int>(std::max<long>(1, left))) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(s.native_handle(), buf, sizeof buf);
    if (n <= 0) {
      if (closed != nullptr) *closed = true;
      break;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

boost::json::value json(const std::string& s) {
  return boost::json::parse(s);
}

}  // namespace

TEST_CASE("serve answers every route as the command line does on the same ledger") {
  TempDir dir;
  const std::string db = dir / "ledger";
  REQUIRE(cli(db, "append '" + sample_path() + "'").exit_code == 0);
  // POST /rules?dry_run=1 equals rules publish --dry-run, before the server holds the ledger.
  int code = 0;
  const std::string dry_cli =
      cli_out(db, "--format json rules publish --dry-run '" + rules_path() + "'", &code);
  REQUIRE(code == 0);
  Server server(db);
  HttpClient c("127.0.0.1", server.port());
  const std::string rules = fz::test::read_all(rules_path());
  auto dry = c.post("/rules?dry_run=1", rules);
  CHECK(dry.status == 200);
  CHECK(json(dry.body) == json(dry_cli));
  auto pub = c.post("/rules", rules);
  REQUIRE(pub.status == 200);
  CHECK(json(pub.body).at("written").as_bool());
  auto again = c.post("/rules", rules);
  CHECK(again.status == 200);
  CHECK(json(again.body).at("duplicate").as_bool());
  auto bad_rules =
      c.post("/rules", "ruleset x version 1 effective 2026-01-01\nrule r on order.paid { nonsense }\n");
  CHECK(bad_rules.status == 422);
  CHECK(json(bad_rules.body).as_object().contains("diagnostics"));

  // Every GET route, then the CLI on the same ledger (a reader alongside the server's writer).
  const std::vector<std::pair<std::string, std::string>> routes{
      {"/balances", "balance"},
      {"/balances?at=2026-11-21", "balance --at 2026-11-21"},
      {"/balances?pattern=%40streamer%3A*%3Acps&at=2026-12-31T00:00:00+08:00",
       "balance '@streamer:*:cps' --at 2026-12-31T00:00:00+08:00"},
      {"/journal", "journal"},
      {"/journal?account=@agency:*&from=2026-10-01&to=2026-11-30",
       "journal --account '@agency:*' --from 2026-10-01 --to 2026-11-30"},
      {"/journal?event=ev-0019", "journal --event ev-0019"},
      {"/journal?rule=adjustment", "journal --rule adjustment"},
      {"/explain/ev-0019", "explain ev-0019"},
      {"/explain/ev-0001", "explain ev-0001"},
      {"/statement/streamer:s1?month=2026-10", "statement streamer:s1 --month 2026-10"},
      {"/statement/agency:a1?month=2026-11", "statement agency:a1 --month 2026-11"},
      {"/verify", "verify"},
  };
  for (const auto& [target, args] : routes) {
    CAPTURE(target);
    auto r = c.get(target);
    REQUIRE(r.status == 200);
    const std::string expected = cli_out(db, "--format json " + args, &code);
    CHECK(code == 0);
    CHECK(r.body == expected);
  }
  auto journal = c.get("/journal");
  CHECK(journal.header("Content-Type") == "application/x-ndjson");
  auto health = c.get("/health");
  CHECK(health.status == 200);
  CHECK(json(health.body).at("ok").as_bool());
  // verify with the head an auditor wrote down.
  const std::string head = std::string(json(c.get("/verify").body).at("head").as_string());
  auto expect = c.get("/verify?expect_head=" + head);
  CHECK(expect.status == 200);
  CHECK(json(expect.body).at("expected_head_seq").to_number<int>() > 0);
  auto wrong = c.get("/verify?expect_head=" + std::string(64, 'a'));
  CHECK(wrong.status == 409);
  CHECK_FALSE(json(wrong.body).at("ok").as_bool());
  CHECK(c.get("/explain/no-such-event").status == 404);
  CHECK(server.stop(SIGTERM) == 0);
}

TEST_CASE("POST /events answers as append does with 200 or 422 and the same rejections") {
  TempDir dir;
  const std::string a = dir / "server", b = dir / "cli";
  for (const auto& db : {a, b}) REQUIRE(cli(db, "rules publish '" + rules_path() + "'").exit_code == 0);
  const std::string sample = fz::test::read_all(sample_path());
  // A duplicate, a conflict, a malformed line, a failed precondition, a too long line and a good line.
  const std::string bad =
      sample.substr(0, sample.find('\n') + 1) +
      R"({"id":"ev-0002","type":"agency.contracted","at":"2026-09-01T10:00:00+08:00","agency":"a9"})"
      "\n{not json\n"
      R"({"id":"x-1","type":"order.confirmed","at":"2026-10-10T10:00:00+08:00","order":"nope"})"
      "\n" +
      std::string(70000, ' ') + "x\n" +
      R"({"id":"x-2","type":"adjustment","at":"2026-10-10T10:00:00+08:00","from":"@agency:a1:cps","to":"@streamer:s1:cps","amount":"1.00","reason":"test"})"
      "\n";
  fz::test::write_file(dir / "sample.jsonl", sample);
  fz::test::write_file(dir / "bad.jsonl", bad);
  int code = 0;
  const std::string cli_first = cli_out(b, "--format json append - < '" + dir / "sample.jsonl" + "'", &code);
  CHECK(code == 0);
  const std::string cli_bad = cli_out(b, "--format json append - < '" + dir / "bad.jsonl" + "'", &code);
  CHECK(code == 1);
  Server server(a);
  HttpClient c("127.0.0.1", server.port());
  auto first = c.post("/events", sample);
  CHECK(first.status == 200);
  CHECK(first.body == cli_first);
  auto second = c.post("/events", bad);
  CHECK(second.status == 422);
  CHECK(second.body == cli_bad);
  CHECK(json(second.body).at("rejected").to_number<int>() == 4);
  // Everything again: all duplicates, 200.
  auto dup = c.post("/events", sample);
  CHECK(dup.status == 200);
  CHECK(json(dup.body).at("duplicates").to_number<int>() == 34);
  CHECK(c.post("/events", "").status == 200);
  // An exported rules.published line is refused (publish with POST /rules); the other lines are duplicates.
  const std::string exported = cli_out(b, "export events");
  REQUIRE(exported.find("rules.published") != std::string::npos);
  auto ex = c.post("/events", exported);
  CHECK(ex.status == 422);
  const auto exj = json(ex.body);
  CHECK(exj.at("rejected").to_number<int>() == 1);
  CHECK(std::string(exj.at("rejections").at(0).at("reason").as_string()).find("rules publish") !=
        std::string::npos);
  CHECK(server.stop(SIGTERM) == 0);
  // Both ledgers hold the same events (their rules were published at other times): the same balances.
  CHECK(json(cli_out(a, "--format json balance --at 2027-01-01")).at("accounts") ==
        json(cli_out(b, "--format json balance --at 2027-01-01")).at("accounts"));
}

TEST_CASE("serve needs the bearer token when given a token file and answers 401 otherwise") {
  TempDir dir;
  const std::string db = dir / "ledger";
  fz::test::write_file(dir / "token", "s3cret-token\n");
  Server server(db, {"--token-file", dir / "token"});
  HttpClient none("127.0.0.1", server.port());
  for (const char* target : {"/health", "/balances", "/verify"}) {
    auto r = none.get(target);
    CHECK(r.status == 401);
    CHECK(r.header("WWW-Authenticate") == "Bearer");
  }
  CHECK(none.post("/events", "{}\n").status == 401);
  HttpClient wrong("127.0.0.1", server.port(), "s3cret-tokem");
  CHECK(wrong.get("/health").status == 401);
  HttpClient longer("127.0.0.1", server.port(), "s3cret-token-and-more");
  CHECK(longer.get("/health").status == 401);
  CHECK(none.request(http::verb::get, "/health", "", std::chrono::seconds(5), std::string("")).status == 401);
  HttpClient right("127.0.0.1", server.port(), "s3cret-token");
  CHECK(right.get("/health").status == 200);
  CHECK(right.get("/balances").status == 200);
  // A body is not read without the token: 401 at once, and the connection is closed.
  bool closed = false;
  const std::string res =
      raw_exchange(server.port(), "POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n{",
                   std::chrono::seconds(5), &closed);
  CHECK(res.starts_with("HTTP/1.1 401"));
  CHECK(closed);
  CHECK(server.stop(SIGTERM) == 0);
}

TEST_CASE("serve answers 413 to a body over 64 MiB and 431 to an oversize header") {
  TempDir dir;
  Server server(dir / "ledger");
  bool closed = false;
  const std::string res =
      raw_exchange(server.port(), "POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 67108865\r\n\r\n",
                   std::chrono::seconds(5), &closed);
  CHECK(res.starts_with("HTTP/1.1 413"));
  CHECK(closed);
  // A chunked body whose chunk goes past the limit.
  const std::string chunked = raw_exchange(
      server.port(), "POST /events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4000001\r\n\n\n",
      std::chrono::seconds(5), &closed);
  CHECK(chunked.starts_with("HTTP/1.1 413"));
  std::string big;
  // A body of exactly 64 MiB (blank lines) is taken.
  big.assign(std::size_t{64} << 20, '\n');
  HttpClient c2("127.0.0.1", server.port());
  CHECK(c2.post("/events", big).status == 200);
  // More lines than one request may hold (2 bytes a line).
  std::string tiny;
  for (int i = 0; i < (1 << 20) + 1; ++i) tiny += "x\n";
  HttpClient c3("127.0.0.1", server.port());
  auto many = c3.post("/events", tiny);
  CHECK(many.status == 413);
  CHECK(json(many.body).at("error").as_string().find("more than 1048576 events") != std::string::npos);
  const std::string huge_header =
      "GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(20000, 'a') + "\r\n\r\n";
  CHECK(raw_exchange(server.port(), huge_header, std::chrono::seconds(5)).starts_with("HTTP/1.1 431"));
  CHECK(server.stop(SIGTERM) == 0);
}

TEST_CASE("serve answers 400 to malformed query parameters and 404 or 405 to unknown routes") {
  TempDir dir;
  Server server(dir / "ledger");
  HttpClient c("127.0.0.1", server.port());
  for (const char* target : {"/balances?at=",
                             "/balances?at=2026-13-01",
                             "/balances?at=yesterday",
                             "/balances?pattern=",
                             "/balances?pattern=%40a%5B",
                             "/balances?colour=red",
                             "/balances?at=2026-01-01&at=2026-01-02",
                             "/balances?at=%zz",
                             "/journal?from=x",
                             "/journal?from=2026-02-01&to=2026-01-01",
                             "/journal?event=a%20b",
                             "/journal?rule=",
                             "/journal?account=[",
                             "/statement/streamer:s1",
                             "/statement/streamer:s1?month=2026-13",
                             "/statement/streamer:*?month=2026-10",
                             "/statement/nobody?month=2026-10",
                             "/explain/a%3Ab",
                             "/verify?expect_head=abc",
                             "/health?x=1"}) {
    CAPTURE(target);
    auto r = c.get(target);
    CHECK(r.status == 400);
    CHECK(json(r.body).as_object().contains("error"));
  }
  CHECK(c.post("/rules?dry_run=maybe", "x").status == 400);
  CHECK(c.post("/events?atomic=1", "").status == 400);
  CHECK(c.get("/nothing").status == 404);
  CHECK(c.get("/events").status == 405);
  CHECK(c.post("/balances", "").status == 405);
  CHECK(raw_exchange(server.port(), "GARBAGE\r\n\r\n", std::chrono::seconds(5)).starts_with("HTTP/1.1 400"));
  CHECK(server.stop(SIGTERM) == 0);
}

TEST_CASE("a client that sends half a request and stalls does not delay others beyond the timeout") {
  TempDir dir;
  const std::string db = dir / "ledger";
  REQUIRE(cli(db, "rules publish '" + rules_path() + "'").exit_code == 0);
  Server server(db, {"--timeout", "1"});
  {
    HttpClient c("127.0.0.1", server.port());
    REQUIRE(c.post("/events", lines(fz::load::setup_events({}))).status == 200);
  }
  // Two stalled clients: one in the header, one in the body.
  std::atomic<bool> header_closed{false}, body_closed{false};
  std::atomic<long> header_ms{0};
  std::thread stall_header([&] {
    const auto t0 = Clock::now();
    bool closed = false;
    raw_exchange(server.port(), "POST /events HTTP/1.1\r\nHost: x\r\nContent-Le", std::chrono::seconds(10),
                 &closed);
    header_closed = closed;
    header_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  });
  std::thread stall_body([&] {
    bool closed = false;
    raw_exchange(server.port(),
                 "POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{\"id\":\"half",
                 std::chrono::seconds(10), &closed);
    body_closed = closed;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  HttpClient c("127.0.0.1", server.port());
  for (int i = 0; i < 20; ++i) {
    const auto t0 = Clock::now();
    auto r = c.post("/events", fz::load::client_event({}, 0, static_cast<std::uint64_t>(i)) + "\n");
    CHECK(r.status == 200);
    auto b = c.get("/balances");
    CHECK(b.status == 200);
    CHECK(Clock::now() - t0 < std::chrono::milliseconds(700));
  }
  stall_header.join();
  stall_body.join();
  CHECK(header_closed);
  CHECK(body_closed);
  CHECK(header_ms >= 900);
  CHECK(header_ms < 5000);
  // Beast closes a timed-out stream before the server's handler logs it, so the client may see the
  // close a moment before the line is written: wait for it (bounded).
  std::string log;
  for (int i = 0; i < 100 && log.find("timeout") == std::string::npos; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    log = fz::test::read_all(db + ".access.log");
  }
  CHECK(log.find("timeout") != std::string::npos);
  CHECK(server.stop(SIGTERM) == 0);
}

TEST_CASE("over --max-connections a connection gets 503 and is closed, and closing one makes room") {
  TempDir dir;
  const std::string db = dir / "ledger";
  Server server(db, {"--max-connections", "3"});
  // Three kept-alive connections, each answered once (so the server has accepted them), then idle.
  std::vector<std::unique_ptr<HttpClient>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<HttpClient>("127.0.0.1", server.port()));
    REQUIRE(idle.back()->get("/health").status == 200);
  }
  HttpClient fourth("127.0.0.1", server.port());
  const HttpResponse busy = fourth.get("/health");
  CHECK(busy.status == 503);
  CHECK(busy.header("Connection") == "close");
  CHECK(busy.header("Retry-After") == "1");
  CHECK(busy.header("Content-Type") == "application/json");
  const auto body = boost::json::parse(busy.body);
  REQUIRE(body.is_object());
  CHECK(body.as_object().size() == 1);
  CHECK(std::string(body.at("error").as_string()).find("limit of 3 connections") != std::string::npos);
  // On a raw connection too: the 503 arrives whole although the request is never read, then the server
  // closes the connection (after at most a 2-second linger).
  bool closed = false;
  const auto t0 = Clock::now();
  const std::string raw = raw_exchange(server.port(), "GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
                                       std::chrono::seconds(10), &closed);
  CHECK(raw.starts_with("HTTP/1.1 503"));
  CHECK(raw.find("\"error\"") != std::string::npos);
  CHECK(closed);
  CHECK(Clock::now() - t0 < std::chrono::seconds(5));
  // The connections being served are not disturbed by those turned away.
  for (auto& c : idle) CHECK(c->get("/health").status == 200);

  // Closing one makes room for one more (as soon as the server has seen the close).
  idle.front()->close();
  int status = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  std::unique_ptr<HttpClient> next;
  while (status != 200 && Clock::now() < deadline) {
    next = std::make_unique<HttpClient>("127.0.0.1", server.port());
    status = next->get("/health").status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(status == 200);
  // ... and only one: the limit is full again.
  HttpClient fifth("127.0.0.1", server.port());
  CHECK(fifth.get("/health").status == 503);
  const std::string log = fz::test::read_all(db + ".access.log");
  CHECK(log.find("\"status\":503") != std::string::npos);
  CHECK(server.stop(SIGTERM) == 0);
}

TEST_CASE("group commit acknowledges concurrent clients each with its own rejections") {
  TempDir dir;
  const std::string db = dir / "ledger";
  REQUIRE(cli(db, "rules publish '" + rules_path() + "'").exit_code == 0);
  Server server(db);
  fz::load::StreamOptions so;
  so.streamers = 10;
  {
    HttpClient c("127.0.0.1", server.port());
    REQUIRE(c.post("/events", lines(fz::load::setup_events(so))).status == 200);
  }
  constexpr int kClients = 16, kRequests = 20;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      HttpClient c("127.0.0.1", server.port());
      for (int i = 0; i < kRequests; ++i) {
        // Two good events and, every other request, one bad one whose id names this client.
        std::string body = fz::load::client_event(so, static_cast<std::uint32_t>(t), 2u * i) + "\n" +
                           fz::load::client_event(so, static_cast<std::uint32_t>(t), 2u * i + 1) + "\n";
        const std::string bad_id = fmt::format("bad-{}-{}", t, i);
        if (i % 2 == 1) {
          body +=
              fmt::format(
                  R"({{"id":"{}","type":"order.confirmed","at":"2026-05-01T00:00:00+08:00","order":"none-{}"}})",
                  bad_id, t) +
              "\n";
        }
        auto r = c.post("/events", body);
        const auto v = json(r.body);
        bool ok = r.status == (i % 2 == 1 ? 422 : 200) && v.at("appended").to_number<int>() == 2;
        if (i % 2 == 1) {
          ok = ok && v.at("rejections").as_array().size() == 1 &&
               v.at("rejections").at(0).at("id").as_string() == bad_id &&
               v.at("rejections").at(0).at("line").to_number<int>() == 3;
        }
        // Read-your-writes: the order just confirmed is explained at once.
        const std::string order_id = fmt::format("L-c{}-o{}-confirmed", t, i);
        ok = ok && c.get("/explain/" + order_id).status == 200;
        if (!ok) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  HttpClient c("127.0.0.1", server.port());
  const auto h = json(c.get("/health").body);
  const auto seq = h.at("acknowledged_seq").to_number<std::uint64_t>();
  CHECK(seq == 1 + 10 + 1 + 1 + kClients * kRequests * 2);
  // Fewer synced batches than requests: they were grouped.
  CHECK(h.at("batches").to_number<int>() < kClients * kRequests);
  CHECK(server.stop(SIGTERM) == 0);
  CHECK(cli(db, "verify").exit_code == 0);
}

TEST_CASE("SIGTERM finishes the requests in progress and exits 0") {
  TempDir dir;
  const std::string db = dir / "ledger";
  REQUIRE(cli(db, "rules publish '" + rules_path() + "'").exit_code == 0);
  Server server(db);
  fz::load::StreamOptions so;
  {
    HttpClient c("127.0.0.1", server.port());
    REQUIRE(c.post("/events", lines(fz::load::setup_events(so))).status == 200);
  }
  std::atomic<bool> stop{false};
  std::atomic<int> acked{0}, bad{0};
  std::vector<std::thread> threads;
  std::mutex mu;
  std::vector<std::string> acked_ids;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      HttpClient c("127.0.0.1", server.port());
      for (std::uint64_t k = 0; !stop; ++k) {
        const std::string e = fz::load::client_event(so, static_cast<std::uint32_t>(t), k);
        auto r = c.post("/events", e + "\n");
        if (r.status == 0 || r.status == 503) break;  // the server stopped taking requests
        if (r.status != 200) ++bad;
        ++acked;
        std::lock_guard lock(mu);
        acked_ids.push_back(std::string(json(e).at("id").as_string()));
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(server.stop(SIGTERM) == 0);
  stop = true;
  for (auto& th : threads) th.join();
  CHECK(bad == 0);
  CHECK(acked > 0);
  auto ledger = fz::Ledger::open(db, fz::Ledger::Access::kRead);
  REQUIRE(ledger);
  for (const auto& id : acked_ids) {
    auto seq = (*ledger)->seq_of(id);
    REQUIRE(seq);
    CHECK_MESSAGE(seq->has_value(), id);
  }
  ledger->reset();
  // The drain wrote the projection's checkpoint: verify sees no projection behind the log.
  const auto v = json(cli_out(db, "--format json verify"));
  CHECK(v.at("ok").as_bool());
  CHECK_FALSE(v.as_object().contains("projection_seq"));
}

TEST_CASE("SIGKILL during a multi-client load loses no acknowledged event and retries end as a clean run") {
  TempDir dir;
  const std::string db = dir / "ledger";
  REQUIRE(cli(db, "rules publish '" + rules_path() + "'").exit_code == 0);
  fz::load::StreamOptions so;
  so.streamers = 20;
  constexpr int kClients = 8;
  constexpr std::uint64_t kEvents = 400;  // per client; requests of 1 to 3 events
  // Each client's requests, fixed in advance so that a retry sends the same body (the same ids).
  std::vector<std::vector<std::string>> requests(kClients);
  std::mt19937 rng(7);
  for (int c = 0; c < kClients; ++c) {
    for (std::uint64_t k = 0; k < kEvents;) {
      const std::uint64_t n = std::min<std::uint64_t>(kEvents - k, 1 + rng() % 3);
      std::string body;
      for (std::uint64_t j = 0; j < n; ++j)
        body += fz::load::client_event(so, static_cast<std::uint32_t>(c), k + j) + "\n";
      requests[static_cast<std::size_t>(c)].push_back(body);
      k += n;
    }
  }
  std::atomic<std::uint16_t> port{0};  // 0 while no server runs
  std::atomic<bool> quit{false};
  std::mutex mu;
  std::vector<std::string> acked_bodies;
  std::atomic<int> wrong{0};
  std::vector<std::size_t> next(kClients, 0);
  std::vector<std::thread> clients;
  {
    Server setup(db);
    HttpClient c("127.0.0.1", setup.port());
    REQUIRE(c.post("/events", lines(fz::load::setup_events(so))).status == 200);
    setup.stop(SIGKILL);
  }
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      HttpClient http("127.0.0.1", 1);
      auto& mine = requests[static_cast<std::size_t>(c)];
      std::size_t& i = next[static_cast<std::size_t>(c)];
      while (i < mine.size() && !quit) {
        const std::uint16_t p = port.load();
        if (p == 0) {
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
          continue;
        }
        http.set_port(p);
        auto r = http.request(http::verb::post, "/events", mine[i], std::chrono::seconds(10));
        if (r.status == 200) {
          std::lock_guard lock(mu);
          acked_bodies.push_back(mine[i]);
          ++i;
        } else if (r.status != 0 && r.status != 503) {
          ++wrong;  // a retry is a duplicate or new: never a rejection
          ++i;
        } else {
          http.close();
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
      }
    });
  }
  std::mt19937 delays(11);
  for (int round = 0; round < kKillRounds; ++round) {
    Server s(db);
    port = s.port();
    std::this_thread::sleep_for(std::chrono::milliseconds(10 + delays() % 60));
    port = 0;
    CHECK(s.stop(SIGKILL) == 128 + SIGKILL);
  }
  {
    // A last run: every client finishes, retrying what was not acknowledged.
    Server s(db);
    port = s.port();
    for (auto& t : clients) t.join();
    CHECK(s.stop(SIGTERM) == 0);
  }
  CHECK(wrong == 0);
  for (int c = 0; c < kClients; ++c)
    CHECK(next[static_cast<std::size_t>(c)] == requests[static_cast<std::size_t>(c)].size());
  // Every acknowledged event is in the ledger.
  {
    auto ledger = fz::Ledger::open(db, fz::Ledger::Access::kRead);
    REQUIRE(ledger);
    std::size_t checked = 0;
    for (const auto& body : acked_bodies) {
      std::size_t pos = 0;
      while (pos < body.size()) {
        const auto end = body.find('\n', pos);
        const std::string id(json(body.substr(pos, end - pos)).at("id").as_string());
        auto seq = (*ledger)->seq_of(id);
        REQUIRE(seq);
        CHECK_MESSAGE(seq->has_value(), id);
        ++checked;
        pos = end + 1;
      }
    }
    CHECK(checked == kClients * kEvents);
    // Nothing twice: the log holds exactly the setup and every client event.
    CHECK((*ledger)->head_seq() == 1 + 1 + so.streamers + 1 + kClients * kEvents);
  }
  // The same balances as a clean run: one append of the same events.
  const std::string clean = dir / "clean";
  REQUIRE(cli(clean, "rules publish '" + rules_path() + "'").exit_code == 0);
  std::string all = lines(fz::load::setup_events(so));
  for (auto& r : requests)
    for (auto& b : r) all += b;
  fz::test::write_file(dir / "all.jsonl", all);
  REQUIRE(cli(clean, "append '" + dir / "all.jsonl" + "'").exit_code == 0);
  const auto got = json(cli_out(db, "--format json balance --at 2027-01-01"));
  const auto want = json(cli_out(clean, "--format json balance --at 2027-01-01"));
  CHECK(got.at("accounts") == want.at("accounts"));
  CHECK(got.at("accounts").as_array().size() > 10);
  CHECK(cli(db, "verify").exit_code == 0);
}
