// fenzhang serve --listen ADDR:PORT [--token-file F]: the HTTP API (SPEC section 11, docs/server.md).
#include <fmt/format.h>

#include <charconv>
#include <cstdio>

#include "server/server.hpp"
#include "tools/arguments.hpp"
#include "tools/cli.hpp"

namespace fz::cli {
namespace {

struct ServeArgs {
  std::string listen;
  std::string token_file;
  std::string access_log;
  double timeout_s = 30;
  unsigned io_threads = 2;
  unsigned query_threads = 2;
  std::size_t max_connections = server::Options{}.max_connections;
  std::uint64_t checkpoint_events = server::Options{}.checkpoint_events;
  std::size_t hot_entries = server::Options{}.hot_entries;
};

// "HOST:PORT" or "[V6]:PORT"; false when malformed.
bool split_listen(const std::string& text, std::string* host, std::uint16_t* port) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  *host = text.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']')
    *host = host->substr(1, host->size() - 2);
  const std::string p = text.substr(colon + 1);
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
  if (ec != std::errc() || end != p.data() + p.size() || v > 65535) return false;
  *port = static_cast<std::uint16_t>(v);
  return true;
}

int run(const Globals& g, const ServeArgs& a) {
  server::Options o;
  o.db_dir = g.db_dir();
  if (!split_listen(a.listen, &o.address, &o.port)) {
    std::cerr << "error: --listen: \"" << a.listen << "\" is not ADDRESS:PORT (such as 127.0.0.1:8080)\n";
    return kExitUsage;
  }
  if (!a.token_file.empty()) {
    auto t = server::read_token_file(a.token_file);
    if (!t.token) return fail(t.error);
    o.token = std::move(t.token);
  }
  std::FILE* log = stderr;
  if (!a.access_log.empty() && a.access_log != "-") {
    log = std::fopen(a.access_log.c_str(), "a");
    if (log == nullptr) return fail(fmt::format("cannot open the access log {}", a.access_log));
  }
  o.access_log = log;
  o.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(a.timeout_s * 1000));
  o.io_threads = a.io_threads;
  o.query_threads = a.query_threads;
  o.max_connections = a.max_connections;
  o.checkpoint_events = a.checkpoint_events;
  o.hot_entries = a.hot_entries;
  o.on_listening = [](const std::string& address) {
    // The first line on standard output: where to connect (the port, when --listen gave 0).
    std::fprintf(stdout, "listening on %s\n", address.c_str());
    std::fflush(stdout);
  };
  std::string error;
  const int code = server::run_server(o, &error);
  if (log != stderr) std::fclose(log);
  if (code != 0) return fail(error);
  return kExitOk;
}

}  // namespace

void add_serve(CLI::App& app, Globals& g, std::vector<Command>& out) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* sub =
      app.add_subcommand("serve", "the HTTP API: append, publish and query over HTTP (docs/server.md)");
  sub->add_option("--listen", args->listen,
                  "ADDRESS:PORT to listen on, such as 127.0.0.1:8080 (port 0: any free one)")
      ->required()
      ->check(non_empty_arg());
  sub->add_option("--token-file", args->token_file,
                  "file whose first line is the bearer token every request must present")
      ->check(non_empty_arg());
  sub->add_option("--access-log", args->access_log,
                  "append the access log (one JSON line per request) to FILE "
                  "instead of standard error")
      ->check(non_empty_arg());
  sub->add_option(
         "--timeout", args->timeout_s,
         "seconds a client has to send a request's header, to make progress with its body or to read "
         "a response, and that an idle connection is kept")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 3600.0));
  sub->add_option("--io-threads", args->io_threads, "threads serving connections")
      ->capture_default_str()
      ->check(CLI::Range(1U, 64U));
  sub->add_option("--query-threads", args->query_threads, "threads answering queries")
      ->capture_default_str()
      ->check(CLI::Range(1U, 64U));
  sub->add_option("--max-connections", args->max_connections,
                  "connections served at once; one more is answered 503 and closed")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  sub->add_option("--checkpoint-every", args->checkpoint_events,
                  "write the projection every N accepted events (0: with every batch), as append does")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{0}, engine::Engine::kMaxCheckpointEvents));
  sub->add_option("--hot-entities", args->hot_entries,
                  "the writer's hot window: entities of each kind, keyed targets and accounts kept in memory "
                  "once durable, as append's --hot-entities")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, engine::Engine::kMaxHotEntries));
  out.push_back({sub, [&g, args] { return run(g, *args); }});
}

}  // namespace fz::cli
