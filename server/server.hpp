// The HTTP server of `fenzhang serve` (SPEC section 11; docs/server.md), on Boost.Beast and Boost.Asio.
//
// What it is: HTTP/1.1 with keep-alive over plain TCP. POST /events and POST /rules go to the one
// GroupWriter (server/group_writer.hpp), which holds the ledger's write lock and group-commits the
// events of concurrent requests into shared synced batches; a request is answered only once its events
// are durable. GET queries (balances, journal, explain, statement, verify) run on a small pool of query
// threads, each on its own read-only Ledger (engine::open_for_queries), after the writer made the stored
// projection cover everything acknowledged before the query arrived (read-your-writes). The JSON
// answers are the command line's `--format json` (tools/query_json.hpp).
//
// Limits: request bodies over Options::body_limit get 413, headers over header_limit 431; a request must
// arrive whole within Options::timeout of the connection turning to it, each body read and each response
// write must progress within it, and an idle keep-alive connection is closed after it, so a slow or
// stalled client holds only its own connection. At most Options::max_connections connections are served
// at once: one more is answered 503 at once (Connection: close, Retry-After: 1) without reading its
// request, and closed. With a token, every request needs
// `Authorization: Bearer TOKEN` (compared in constant time), else 401. One JSON line per request is
// written to the access log. SIGTERM or SIGINT: stop accepting, close idle connections, answer every
// request already read (its events durable), write the projection's checkpoint, return 0.
//
// Ownership and threads: run_server owns everything it starts and returns only when all of it stopped.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>

#include "engine/engine.hpp"

namespace fz::server {

struct Options {
  std::string db_dir;
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: an ephemeral port (the bound address is announced)
  std::optional<std::string> token;
  std::chrono::milliseconds timeout{30000};
  std::size_t body_limit = std::size_t{64} << 20;
  std::size_t header_limit = std::size_t{16} << 10;
  std::size_t max_connections = 1024;  // served at once; one more gets 503 and is closed
  unsigned io_threads = 2;
  unsigned query_threads = 2;
  std::uint64_t checkpoint_events = engine::Engine::kDefaultCheckpointEvents;  // as append's
  // The writer engine's hot window (docs/storage.md).
  std::size_t hot_entries = engine::Engine::kDefaultHotEntries;
  std::uint64_t max_queued_events = std::uint64_t{1} << 21;
  std::FILE* access_log = stderr;  // borrowed; one JSON line per request
  // Called once the server listens, with "ADDRESS:PORT" as bound (stdout by fenzhang serve).
  std::function<void(const std::string&)> on_listening;
};

// Serves until SIGTERM or SIGINT. Returns 0 after a clean drain, 1 when the ledger could not be opened or
// written, with the reason in *error.
int run_server(const Options& options, std::string* error);

// The token in a token file: its first line without surrounding spaces, tabs and the line end; an
// error when the file cannot be read or holds no token.
struct TokenResult {
  std::optional<std::string> token;
  std::string error;
};
TokenResult read_token_file(const std::string& path);

// Constant-time comparison of a presented token against the expected one (SHA-256 of both, then
// CRYPTO_memcmp): the time taken tells nothing of how much of the token matched, nor of its length.
bool token_matches(const std::string& presented, const std::string& expected);

}  // namespace fz::server
