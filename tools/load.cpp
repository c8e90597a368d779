// fenzhang-load: the load generator of `fenzhang serve` (docs/server.md, scripts/bench_serve.sh).
//
// N clients, each on its own keep-alive connection, post the synthetic stream of tools/load_events.hpp
// (K events a request) as fast as the server acknowledges them, and optionally query a balance every Q
// requests. All clients run on one Asio thread (--threads for more). A request that fails (connection
// refused or reset, a 5xx) is retried with the same body: the ids make it idempotent. Prints one JSON
// object: events acknowledged per second, requests, and latency percentiles.
//
// --write FILE writes the setup and every client's events (client after client) as JSON Lines and exits:
// the same events for `fenzhang append`, to compare with the server.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "server/http_client.hpp"
#include "server/server.hpp"
#include "tools/load_events.hpp"

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  std::string connect;
  std::uint32_t clients = 64;
  std::uint64_t events_per_client = 2000;
  std::uint64_t per_request = 1;
  std::string token_file;
  std::uint64_t query_every = 0;
  unsigned threads = 1;
  std::string write_file;
  bool no_setup = false;
  fz::load::StreamOptions stream;
};

struct Stats {
  std::vector<double> post_ms, query_ms;
  std::uint64_t appended = 0, duplicates = 0, rejected = 0, retries = 0, errors = 0;
};

class Client : public std::enable_shared_from_this<Client> {
 public:
  Client(net::io_context& ioc, const Args& a, tcp::endpoint ep, std::string token, std::uint32_t id,
         Stats& stats)
      : ioc_(ioc), a_(a), ep_(ep), token_(std::move(token)), id_(id), stats_(stats) {}

  void start() { next(); }

 private:
  void next() {
    if (k_ >= a_.events_per_client) return;
    if (a_.query_every > 0 && posts_ > 0 && posts_ % a_.query_every == 0 && !queried_) {
      queried_ = true;
      const std::uint32_t s = (id_ * 7 + static_cast<std::uint32_t>(posts_)) % a_.stream.streamers;
      send(http::verb::get, fmt::format("/balances?pattern=@streamer:{}-s{}:*", a_.stream.prefix, s), "",
           true);
      return;
    }
    queried_ = false;
    std::string body;
    const std::uint64_t end = std::min(a_.events_per_client, k_ + a_.per_request);
    for (std::uint64_t k = k_; k < end; ++k) {
      body += fz::load::client_event(a_.stream, id_, k);
      body += '\n';
    }
    batch_end_ = end;
    send(http::verb::post, "/events", std::move(body), false);
  }

  void send(http::verb verb, std::string target, std::string body, bool query) {
    req_ = {verb, target, 11};
    req_.set(http::field::host, "fenzhang");
    if (!token_.empty()) req_.set(http::field::authorization, "Bearer " + token_);
    req_.body() = std::move(body);
    req_.keep_alive(true);
    req_.prepare_payload();
    query_ = query;
    issue();
  }

  void issue() {
    started_ = Clock::now();
    if (!stream_) {
      stream_.emplace(ioc_);
      stream_->expires_after(std::chrono::seconds(60));
      stream_->async_connect(ep_, [self = shared_from_this()](beast::error_code ec) {
        if (ec) return self->retry();
        beast::error_code ignored;
        self->stream_->socket().set_option(tcp::no_delay(true), ignored);
        self->write();
      });
      return;
    }
    write();
  }

  void write() {
    stream_->expires_after(std::chrono::seconds(60));
    http::async_write(*stream_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->retry();
      self->res_ = {};
      http::async_read(*self->stream_, self->buf_, self->res_, [self](beast::error_code ec2, std::size_t) {
        if (ec2) return self->retry();
        self->done();
      });
    });
  }

  void retry() {
    ++stats_.retries;
    stream_.reset();
    buf_.clear();
    auto t = std::make_shared<net::steady_timer>(ioc_, std::chrono::milliseconds(20));
    t->async_wait([self = shared_from_this(), t](beast::error_code) { self->issue(); });
  }

  void done() {
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
    const int status = static_cast<int>(res_.result_int());
    if (!res_.keep_alive()) stream_.reset();
    if (status >= 500) {
      ++stats_.errors;
      return retry();
    }
    if (query_) {
      stats_.query_ms.push_back(ms);
      return next();
    }
    stats_.post_ms.push_back(ms);
    ++posts_;
    if (status == 200 || status == 422) {
      boost::system::error_code ec;
      auto v = boost::json::parse(res_.body(), ec);
      if (!ec && v.is_object()) {
        stats_.appended += v.at("appended").to_number<std::uint64_t>();
        stats_.duplicates += v.at("duplicates").to_number<std::uint64_t>();
        stats_.rejected += v.at("rejected").to_number<std::uint64_t>();
      }
    } else {
      ++stats_.errors;
    }
    k_ = batch_end_;
    next();
  }

  net::io_context& ioc_;
  const Args& a_;
  tcp::endpoint ep_;
  std::string token_;
  std::uint32_t id_;
  Stats& stats_;
  std::optional<beast::tcp_stream> stream_;
  beast::flat_buffer buf_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  std::uint64_t k_ = 0, batch_end_ = 0, posts_ = 0;
  bool query_ = false, queried_ = false;
  Clock::time_point started_;
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  CLI::App app{"fenzhang-load: N concurrent clients posting events to fenzhang serve"};
  app.add_option("--connect", a.connect, "HOST:PORT of the server");
  app.add_option("--clients", a.clients, "concurrent clients")
      ->capture_default_str()
      ->check(CLI::Range(1U, 4096U));
  app.add_option("--events-per-client", a.events_per_client,
                 "events each client posts (orders paid, then confirmed)")
      ->capture_default_str();
  app.add_option("--per-request", a.per_request, "events in one request body")
      ->capture_default_str()
      ->check(CLI::Range(1ULL, 1ULL << 20));
  app.add_option("--token-file", a.token_file, "bearer token file");
  app.add_option("--query-every", a.query_every,
                 "each client also asks GET /balances every Q posts (0: never)");
  app.add_option("--threads", a.threads, "client threads")->capture_default_str()->check(CLI::Range(1U, 64U));
  app.add_option("--prefix", a.stream.prefix, "id prefix (a new one for each run into the same ledger)")
      ->capture_default_str();
  app.add_option("--streamers", a.stream.streamers, "streamers in the setup")
      ->capture_default_str()
      ->check(CLI::Range(1U, 100000U));
  app.add_option("--write", a.write_file, "write the setup and all events as JSON Lines to FILE and exit");
  app.add_flag("--no-setup", a.no_setup, "do not post the setup events first");
  CLI11_PARSE(app, argc, argv);

  if (!a.write_file.empty()) {
    std::ofstream out(a.write_file, std::ios::binary);
    for (const auto& line : fz::load::setup_events(a.stream)) out << line << '\n';
    for (std::uint32_t c = 0; c < a.clients; ++c)
      for (std::uint64_t k = 0; k < a.events_per_client; ++k)
        out << fz::load::client_event(a.stream, c, k) << '\n';
    return out ? 0 : 1;
  }
  const auto colon = a.connect.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "error: --connect HOST:PORT is required\n";
    return 2;
  }
  const std::string host = a.connect.substr(0, colon);
  const auto port = static_cast<std::uint16_t>(std::stoul(a.connect.substr(colon + 1)));
  std::string token;
  if (!a.token_file.empty()) {
    auto t = fz::server::read_token_file(a.token_file);
    if (!t.token) {
      std::cerr << "error: " << t.error << "\n";
      return 1;
    }
    token = *t.token;
  }
  if (!a.no_setup) {
    fz::server::HttpClient setup(host, port, token);
    std::string body;
    for (const auto& line : fz::load::setup_events(a.stream)) body += line + "\n";
    auto r = setup.post("/events", body);
    if (r.status != 200) {
      std::cerr << "error: the setup was refused: " << r.status << " " << r.error << " " << r.body << "\n";
      return 1;
    }
  }
  const tcp::endpoint ep(net::ip::make_address(host), port);
  std::vector<Stats> stats(a.threads);
  std::vector<std::unique_ptr<net::io_context>> iocs;
  for (unsigned t = 0; t < a.threads; ++t) iocs.push_back(std::make_unique<net::io_context>());
  for (std::uint32_t c = 0; c < a.clients; ++c) {
    const unsigned t = c % a.threads;
    std::make_shared<Client>(*iocs[t], a, ep, token, c, stats[t])->start();
  }
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < a.threads; ++t) threads.emplace_back([&, t] { iocs[t]->run(); });
  for (auto& th : threads) th.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  Stats all;
  for (auto& s : stats) {
    all.post_ms.insert(all.post_ms.end(), s.post_ms.begin(), s.post_ms.end());
    all.query_ms.insert(all.query_ms.end(), s.query_ms.begin(), s.query_ms.end());
    all.appended += s.appended;
    all.duplicates += s.duplicates;
    all.rejected += s.rejected;
    all.retries += s.retries;
    all.errors += s.errors;
  }
  const std::uint64_t acked = all.appended + all.duplicates;
  std::cout << fmt::format(
      "{{\"clients\":{},\"per_request\":{},\"seconds\":{:.3f},\"events_acknowledged\":{},\"appended\":{},"
      "\"duplicates\":{},\"rejected\":{},\"events_per_second\":{:.0f},\"posts\":{},\"post_p50_ms\":{:.3f},"
      "\"post_p99_ms\":{:.3f},\"post_max_ms\":{:.3f},\"queries\":{},\"query_p50_ms\":{:.3f},\"query_p99_ms\":"
      "{:.3f},"
      "\"retries\":{},\"errors\":{}}}\n",
      a.clients, a.per_request, seconds, acked, all.appended, all.duplicates, all.rejected,
      static_cast<double>(acked) / seconds, all.post_ms.size(), percentile(all.post_ms, 50),
      percentile(all.post_ms, 99), percentile(all.post_ms, 100), all.query_ms.size(),
      percentile(all.query_ms, 50), percentile(all.query_ms, 99), all.retries, all.errors);
  return all.rejected > 0 || all.errors > 0 ? 1 : 0;
}
