// fenzhang-bench-loopback: the machine's ceiling for `fenzhang serve`'s single-event load, for
// scripts/bench_serve.sh (issue 16; docs/performance.md).
//
// N clients on keep-alive TCP connections to 127.0.0.1, each sending a request of --request-bytes and
// waiting for an answer of --answer-bytes before sending again (as fenzhang-load's single-event clients
// do); the server answers each request at once: no HTTP, no parsing, no ledger, no disk. The server runs
// on --server-threads Asio threads, the clients on --client-threads, all in this process. What it
// measures is what the kernel's loopback TCP and Asio cost on both ends: the round trips per second no
// request/response server can beat here, and the CPU (user + system, both ends) each round trip takes.
// Prints one JSON object.
#include <fmt/format.h>
#include <sys/resource.h>
#include <CLI/CLI.hpp>

#include <boost/asio.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  std::uint32_t clients = 64;
  std::size_t request_bytes = 400;
  std::size_t answer_bytes = 200;
  unsigned server_threads = 2;
  unsigned client_threads = 1;
  std::uint32_t seconds = 3;
};

// One server connection: reads whole requests (the stream is cut into request_bytes pieces) and writes
// one answer for each.
class Echo : public std::enable_shared_from_this<Echo> {
 public:
  Echo(tcp::socket socket, const Args& a) : socket_(std::move(socket)), a_(a), answer_(a.answer_bytes, 'a') {
    socket_.set_option(tcp::no_delay(true));
  }
  void read() {
    socket_.async_read_some(net::buffer(buf_),
                            [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                              if (ec) return;
                              self->pending_bytes_ += n;
                              if (self->pending_bytes_ < self->a_.request_bytes) return self->read();
                              self->pending_bytes_ -= self->a_.request_bytes;
                              net::async_write(self->socket_, net::buffer(self->answer_),
                                               [self](boost::system::error_code wec, std::size_t) {
                                                 if (!wec) self->read();
                                               });
                            });
  }

 private:
  tcp::socket socket_;
  const Args& a_;
  std::string answer_;
  std::array<char, 8192> buf_{};
  std::size_t pending_bytes_ = 0;
};

void accept(tcp::acceptor& acceptor, const Args& a) {
  acceptor.async_accept([&acceptor, &a](boost::system::error_code ec, tcp::socket socket) {
    if (!ec) std::make_shared<Echo>(std::move(socket), a)->read();
    accept(acceptor, a);
  });
}

// One client: sends a request, waits for the whole answer, counts a round trip, again until stopped.
class Client {
 public:
  Client(net::io_context& ioc, const Args& a, std::atomic<std::uint64_t>& trips,
         const std::atomic<bool>& stop)
      : socket_(ioc), request_(a.request_bytes, 'q'), answer_(a.answer_bytes), trips_(trips), stop_(stop) {}
  void connect(const tcp::endpoint& ep) {
    socket_.connect(ep);
    socket_.set_option(tcp::no_delay(true));
  }
  void go() {
    if (stop_.load(std::memory_order_relaxed)) return;
    net::async_write(socket_, net::buffer(request_), [this](boost::system::error_code ec, std::size_t) {
      if (ec) return;
      net::async_read(socket_, net::buffer(answer_), [this](boost::system::error_code rec, std::size_t) {
        if (rec) return;
        trips_.fetch_add(1, std::memory_order_relaxed);
        go();
      });
    });
  }

 private:
  tcp::socket socket_;
  std::string request_;
  std::vector<char> answer_;
  std::atomic<std::uint64_t>& trips_;
  const std::atomic<bool>& stop_;
};

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return s(u.ru_utime) + s(u.ru_stime);
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  CLI::App app{
      "fenzhang-bench-loopback: round trips/s of an echo server on 127.0.0.1 (the ceiling of serve)"};
  app.add_option("--clients", a.clients, "concurrent clients")->check(CLI::Range(1, 4096));
  app.add_option("--request-bytes", a.request_bytes, "bytes a client sends")->check(CLI::Range(1, 1 << 20));
  app.add_option("--answer-bytes", a.answer_bytes, "bytes the server answers")->check(CLI::Range(1, 1 << 20));
  app.add_option("--server-threads", a.server_threads, "server threads")->check(CLI::Range(1, 64));
  app.add_option("--client-threads", a.client_threads, "client threads")->check(CLI::Range(1, 64));
  app.add_option("--seconds", a.seconds, "measured seconds (after half a second of warm-up)")
      ->check(CLI::Range(1, 600));
  CLI11_PARSE(app, argc, argv);

  net::io_context server_ioc;
  tcp::acceptor acceptor(server_ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  const tcp::endpoint ep = acceptor.local_endpoint();
  accept(acceptor, a);
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < a.server_threads; ++i) threads.emplace_back([&] { server_ioc.run(); });

  std::atomic<std::uint64_t> trips{0};
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<net::io_context>> client_iocs;
  std::vector<std::unique_ptr<Client>> clients;
  for (unsigned t = 0; t < a.client_threads; ++t) client_iocs.push_back(std::make_unique<net::io_context>());
  for (std::uint32_t i = 0; i < a.clients; ++i) {
    clients.push_back(std::make_unique<Client>(*client_iocs[i % a.client_threads], a, trips, stop));
    clients.back()->connect(ep);
  }
  for (auto& c : clients) c->go();
  for (auto& ioc : client_iocs) threads.emplace_back([&ioc] { ioc->run(); });

  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const std::uint64_t trips0 = trips.load();
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(a.seconds));
  const std::uint64_t n = trips.load() - trips0;
  const double cpu = cpu_seconds() - cpu0;
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();

  stop = true;
  server_ioc.stop();
  for (auto& ioc : client_iocs) ioc->stop();
  for (auto& t : threads) t.join();
  if (n == 0) {
    fmt::print(stderr, "fenzhang-bench-loopback: no round trip completed\n");
    return 1;
  }
  fmt::print(
      "{{\"clients\":{},\"request_bytes\":{},\"answer_bytes\":{},\"server_threads\":{},\"client_threads\":{},"
      "\"seconds\":{:.3f},\"round_trips\":{},\"round_trips_per_second\":{:.0f},\"cpu_us_per_round_trip\":{:."
      "1f}}}\n",
      a.clients, a.request_bytes, a.answer_bytes, a.server_threads, a.client_threads, wall, n,
      static_cast<double>(n) / wall, cpu * 1e6 / static_cast<double>(n));
  return 0;
}
