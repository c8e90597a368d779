#include "server/server.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <fmt/format.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <array>
#include <atomic>
#include <csignal>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <streambuf>
#include <thread>
#include <unordered_map>

#include "core/time.hpp"
#include "engine/explain.hpp"
#include "engine/queries.hpp"
#include "engine/reader.hpp"
#include "engine/statement.hpp"
#include "server/group_writer.hpp"
#include "store/codec.hpp"
#include "tools/arguments.hpp"
#include "tools/cli.hpp"
#include "tools/query_json.hpp"

namespace fz::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

TokenResult read_token_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {std::nullopt, fmt::format("cannot read the token file {}", path)};
  std::string line;
  std::getline(in, line);
  const auto first = line.find_first_not_of(" \t\r");
  const auto last = line.find_last_not_of(" \t\r");
  if (first == std::string::npos)
    return {std::nullopt, fmt::format("the token file {} holds no token", path)};
  return {line.substr(first, last - first + 1), ""};
}

bool token_matches(const std::string& presented, const std::string& expected) {
  unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(presented.data()), presented.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(expected.data()), expected.size(), b);
  return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

namespace {

using Request = http::request<http::string_body>;

// Lines (events) in one POST /events: each is held parsed until its batch is durable, so a 64 MiB body of
// tiny lines must not become tens of millions of records (real events are ~250 bytes: 64 MiB is ~270k).
constexpr std::size_t kMaxRecordsPerRequest = std::size_t{1} << 20;

// How long a connection turned away with 503 (over Options::max_connections) is read and dropped, at
// most, before it is closed.
constexpr std::chrono::milliseconds kTurnedAwayLinger{2000};

struct Reply {
  http::status status = http::status::ok;
  std::string body;
  std::string content_type = "application/json";
  bool close = false;             // close the connection after it
  bool retry_after = false;       // 503: Retry-After: 1
  bool www_authenticate = false;  // 401
  std::string allow;              // 405
};

Reply json_reply(http::status status, const boost::json::value& v) {
  Reply r;
  r.status = status;
  r.body = boost::json::serialize(v);
  r.body += '\n';
  return r;
}

Reply error_reply(http::status status, const std::string& message) {
  return json_reply(status, boost::json::object{{"error", message}});
}

// A read-only stream buffer over bytes held elsewhere (a request body), so the body is read as
// `fenzhang append -` reads standard input, without a copy.
class ViewBuf : public std::streambuf {
 public:
  ViewBuf(const char* data, std::size_t size) {
    char* p = const_cast<char*>(data);
    setg(p, p, p + size);
  }
};

// Percent-decoding (RFC 3986). '+' is a plus sign (times carry offsets such as +08:00), not a space.
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

struct Target {
  std::string path;                          // decoded
  std::map<std::string, std::string> query;  // decoded
  std::string error;                         // a malformed target: 400
};

Target parse_target(std::string_view target) {
  Target t;
  const auto q = target.find('?');
  auto path = percent_decode(target.substr(0, q));
  if (!path) {
    t.error = "the path has a malformed %-escape";
    return t;
  }
  t.path = std::move(*path);
  if (q == std::string_view::npos) return t;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq));
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!name || !value) {
      t.error = "the query string has a malformed %-escape";
      return t;
    }
    if (t.query.contains(*name)) {
      t.error = fmt::format("the query parameter '{}' is given twice", *name);
      return t;
    }
    t.query.emplace(std::move(*name), std::move(*value));
  }
  return t;
}

// "" when every query parameter is one of `known`; else the 400 message.
std::string unknown_parameters(const Target& t, std::initializer_list<std::string_view> known) {
  for (const auto& [name, _] : t.query) {
    bool ok = false;
    for (auto k : known) ok = ok || k == name;
    if (!ok) {
      std::string list;
      for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return fmt::format("unknown query parameter '{}' (this route takes {})", name,
                         list.empty() ? std::string("none") : list);
    }
  }
  return "";
}

// The command line's validation of a value (tools/arguments.hpp): "" or why it is refused.
std::string check_value(const CLI::Validator& v, const std::string& value) {
  std::string copy = value;
  return v(copy);
}

std::optional<bool> parse_flag(const std::string& v) {
  if (v == "1" || v == "true" || v.empty()) return true;
  if (v == "0" || v == "false") return false;
  return std::nullopt;
}

std::string now_utc() {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return format_time(us, 0);
}

TimeUs now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Session;

class Server {
 public:
  Server(const Options& o, GroupWriter& writer)
      : opts_(o),
        writer_(writer),
        ioc_(static_cast<int>(std::max(1u, o.io_threads))),
        acceptor_(ioc_),
        signals_(ioc_, SIGTERM, SIGINT),
        work_(net::make_work_guard(ioc_)),
        queries_(std::max(1u, o.query_threads)) {}

  Status listen();
  std::string bound() const {
    beast::error_code ec;
    const auto ep = acceptor_.local_endpoint(ec);
    return fmt::format("{}:{}", ep.address().to_string(), ep.port());
  }
  void run();
  const Options& opts() const { return opts_; }
  GroupWriter& writer() { return writer_; }
  net::thread_pool& queries() { return queries_; }
  bool draining() const { return draining_.load(); }
  // Connections being served (not those turned away with 503): at most opts().max_connections.
  void release_connection() { serving_.fetch_sub(1); }
  void add(const std::shared_ptr<Session>& s);
  void remove(Session* s);
  void log(const std::string& line);

  // Calls done with a read-only Ledger that answers as of every batch acknowledged before this call
  // (read-your-writes), or with an error. One reader is shared by the query threads (its reads are
  // const) until a newer acknowledged head needs a newer one: then the writer writes the projection's
  // checkpoint and one new reader serves every query that waited for it.
  using ReaderDone = std::function<void(std::shared_ptr<const Ledger>, std::string)>;
  void with_reader(ReaderDone done);

 private:
  void refresh_reader();
  void accept();
  void begin_drain();
  void finish_if_drained();

  Options opts_;
  GroupWriter& writer_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  net::signal_set signals_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  net::thread_pool queries_;
  std::atomic<bool> draining_{false};
  std::atomic<std::size_t> serving_{0};
  std::mutex sessions_mu_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
  bool finished_ = false;
  std::mutex log_mu_;
  std::mutex reader_mu_;
  std::shared_ptr<const Ledger> reader_;
  std::vector<ReaderDone> reader_waiters_;
  bool refreshing_ = false;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server& server) : stream_(std::move(socket)), server_(server) {
    beast::error_code ec;
    const auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = fmt::format("{}:{}", ep.address().to_string(), ep.port());
  }
  ~Session() {
    if (served_) server_.release_connection();
    server_.remove(this);
  }

  // `served`: counted against Options::max_connections (released when the session ends).
  void start() {
    served_ = true;
    read_header();
  }

  // Over Options::max_connections: 503 at once, without reading the request, then closed. What the
  // client sent is read and dropped until it closes (for at most kTurnedAwayLinger), so that closing with
  // unread bytes does not reset the connection before the client has read the 503.
  void turn_away() {
    Reply r =
        error_reply(http::status::service_unavailable,
                    fmt::format("the server is serving its limit of {} connections; try again in a moment",
                                opts().max_connections));
    r.retry_after = true;
    r.close = true;
    send(std::move(r));
  }

  // SIGTERM: a connection waiting for its next request is closed; one reading or being answered
  // finishes that request first (its response says Connection: close).
  void close_if_idle() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->idle_) self->stream_.socket().close();
    });
  }

 private:
  const Options& opts() const { return server_.opts(); }

  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(opts().header_limit));
    parser_->body_limit(opts().body_limit);
    idle_ = buffer_.size() == 0;
    if (server_.draining() && idle_) {
      stream_.socket().close();
      return;
    }
    stream_.expires_after(opts().timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    idle_ = false;
    started_ = Clock::now();
    in_bytes_ = 0;
    if (ec) return on_read_error(ec, true);
    const Request& req = parser_->get();
    method_ = std::string(req.method_string());
    target_ = std::string(req.target());
    if (opts().token) {
      const auto auth = req[http::field::authorization];
      const bool ok =
          auth.starts_with("Bearer ") && token_matches(std::string(auth.substr(7)), *opts().token);
      if (!ok) {
        Reply r = error_reply(http::status::unauthorized,
                              "a valid 'Authorization: Bearer TOKEN' header is required");
        r.www_authenticate = true;
        r.close = !parser_->is_done();  // the body is not read
        return send(std::move(r));
      }
    }
    if (!parser_->is_done() && beast::iequals(req[http::field::expect], "100-continue")) {
      continue_.emplace(http::status::continue_, 11);
      stream_.expires_after(opts().timeout);
      return http::async_write(stream_, *continue_,
                               [self = shared_from_this()](beast::error_code e, std::size_t) {
                                 if (e) return self->on_read_error(e, false);
                                 self->read_body();
                               });
    }
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) return on_request();
    stream_.expires_after(opts().timeout);  // each read must make progress within the timeout
    http::async_read_some(stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            if (ec) return self->on_read_error(ec, false);
                            self->read_body();
                          });
  }

  void on_read_error(beast::error_code ec, bool in_header) {
    if (ec == http::error::body_limit) {
      Reply r = error_reply(http::status::payload_too_large,
                            fmt::format("the request body is over the limit of {} bytes", opts().body_limit));
      r.close = true;
      return send(std::move(r));
    }
    if (ec == http::error::header_limit) {
      Reply r =
          error_reply(http::status::request_header_fields_too_large,
                      fmt::format("the request header is over the limit of {} bytes", opts().header_limit));
      r.close = true;
      return send(std::move(r));
    }
    const bool nothing_read = in_header && !parser_->got_some();
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted || ec == net::error::eof ||
        ec == net::error::connection_reset) {
      if (!nothing_read) log_line(std::nullopt, 0, ec.message());
      return close();
    }
    if (ec == beast::error::timeout) {
      // A client that sent part of a request and stalled (or an idle keep-alive connection): dropped.
      if (!nothing_read) log_line(std::nullopt, 0, "timeout: the request did not arrive in time");
      return;  // the stream is closed already
    }
    // A malformed request.
    Reply r = error_reply(http::status::bad_request, "malformed HTTP request: " + ec.message());
    r.close = true;
    send(std::move(r));
  }

  void on_request();
  void handle_events(Request& req);
  void handle_rules(Request& req, const Target& t);
  void handle_query(const Target& t);

  // Runs `work` on a query thread with a read-only Ledger current as of every acknowledged batch, and
  // sends its reply.
  void run_query(std::function<Reply(const Ledger&)> work) {
    auto self = shared_from_this();
    server_.with_reader([self, work = std::move(work)](std::shared_ptr<const Ledger> ledger,
                                                       std::string error) {
      net::post(self->server_.queries(), [self, work, ledger = std::move(ledger), error = std::move(error)] {
        Reply r = ledger ? work(*ledger) : error_reply(http::status::internal_server_error, error);
        net::post(self->stream_.get_executor(),
                  [self, r = std::move(r)]() mutable { self->send(std::move(r)); });
      });
    });
  }

  void send(Reply r) {
    auto res = std::make_shared<http::response<http::string_body>>(r.status, 11);
    res->set(http::field::server, "fenzhang");
    res->set(http::field::content_type, r.content_type);
    if (r.retry_after) res->set(http::field::retry_after, "1");
    if (r.www_authenticate) res->set(http::field::www_authenticate, "Bearer");
    if (!r.allow.empty()) res->set(http::field::allow, r.allow);
    const bool keep =
        !r.close && !server_.draining() && parser_ && parser_->is_done() && parser_->get().keep_alive();
    res->keep_alive(keep);
    res->body() = std::move(r.body);
    res->prepare_payload();
    const int status = static_cast<int>(r.status);
    const std::size_t out_bytes = res->body().size();
    stream_.expires_after(opts().timeout);
    http::async_write(
        stream_, *res,
        [self = shared_from_this(), res, keep, status, out_bytes](beast::error_code ec, std::size_t) {
          self->log_line(status, out_bytes, ec ? ec.message() : "");
          if (!ec && !self->served_) return self->drain_and_close();
          if (ec || !keep) return self->close();
          self->read_header();
        });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  void drain_and_close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    drain_ = std::make_shared<std::array<char, 4096>>();
    // One deadline for the whole drain: a turned-away connection lives a moment, not a --timeout.
    stream_.expires_after(std::min<std::chrono::milliseconds>(opts().timeout, kTurnedAwayLinger));
    drain_some();
  }
  void drain_some() {
    stream_.async_read_some(net::buffer(*drain_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->close();  // the client closed, or the timeout
                              self->drain_some();
                            });
  }

  void log_line(std::optional<int> status, std::size_t out_bytes, const std::string& error) {
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
    boost::json::object o{{"time", now_utc()},
                          {"remote", remote_},
                          {"method", method_},
                          {"target", target_},
                          {"status", status ? boost::json::value(*status) : boost::json::value(nullptr)},
                          {"request_bytes", in_bytes_},
                          {"response_bytes", out_bytes}};
    if (!error.empty()) o["error"] = error;
    std::string line = boost::json::serialize(o);
    line.pop_back();  // the closing brace: the latency in plain decimals (Boost.JSON writes 2.5E-1)
    line += fmt::format(",\"latency_ms\":{:.3f}}}", ms);
    server_.log(line);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  Server& server_;
  std::string remote_ = "-";
  std::string method_ = "-", target_ = "-";
  Clock::time_point started_ = Clock::now();
  bool idle_ = true;
  bool served_ = false;
  std::shared_ptr<std::array<char, 4096>> drain_;  // turn_away(): what the client sends, dropped
  std::size_t in_bytes_ = 0;
};

void Session::on_request() {
  Request& req = parser_->get();
  in_bytes_ = req.body().size();
  const Target t = parse_target(req.target());
  if (!t.error.empty()) return send(error_reply(http::status::bad_request, t.error));
  const bool get = req.method() == http::verb::get;
  const bool post = req.method() == http::verb::post;
  auto wrong_method = [&](const char* allow) {
    Reply r = error_reply(http::status::method_not_allowed, fmt::format("{} takes {} only", t.path, allow));
    r.allow = allow;
    send(std::move(r));
  };
  if (t.path == "/events") {
    if (!post) return wrong_method("POST");
    if (auto bad = unknown_parameters(t, {}); !bad.empty())
      return send(error_reply(http::status::bad_request, bad));
    return handle_events(req);
  }
  if (t.path == "/rules") {
    if (!post) return wrong_method("POST");
    return handle_rules(req, t);
  }
  const bool query_route = t.path == "/balances" || t.path == "/journal" || t.path == "/verify" ||
                           t.path == "/health" || t.path.starts_with("/explain/") ||
                           t.path.starts_with("/statement/");
  if (!query_route) return send(error_reply(http::status::not_found, fmt::format("no route {}", t.path)));
  if (!get) return wrong_method("GET");
  handle_query(t);
}

void Session::handle_events(Request& req) {
  // Parsed here, on the connection's thread, exactly as `fenzhang append -` reads its input.
  ViewBuf buf(req.body().data(), req.body().size());
  std::istream in(&buf);
  std::vector<InputRecord> records;
  std::uint64_t last_line = 0;
  bool too_many = false;
  const Status read = read_jsonl_records(
      in,
      [&](InputRecord&& r, std::size_t) {
        if (records.size() < kMaxRecordsPerRequest) {
          records.push_back(std::move(r));
        } else {
          too_many = true;
        }
      },
      &last_line);
  if (!read.ok()) return send(error_reply(http::status::bad_request, read.message()));
  if (too_many) {
    return send(
        error_reply(http::status::payload_too_large,
                    fmt::format("the request holds more than {} events; nothing was appended (split it)",
                                kMaxRecordsPerRequest)));
  }
  std::string().swap(req.body());  // the records hold what is needed
  auto self = shared_from_this();
  server_.writer().submit_events(std::move(records), "-", [self](EventsOutcome out) {
    // On the writer's thread: the JSON is made on the connection's.
    net::post(self->stream_.get_executor(), [self, out = std::move(out)]() mutable {
      if (out.failure_status != 0) {
        Reply r = error_reply(static_cast<http::status>(out.failure_status), out.error);
        r.retry_after = out.failure_status == 503;
        return self->send(std::move(r));
      }
      boost::json::array rejections;
      for (const LineRejection& r : out.rejections) rejections.push_back(cli::rejection_json(r));
      const auto status = out.report.rejected > 0 ? http::status::unprocessable_entity : http::status::ok;
      self->send(json_reply(status, cli::append_json(out.report, std::move(rejections), {}, false)));
    });
  });
}

void Session::handle_rules(Request& req, const Target& t) {
  if (auto bad = unknown_parameters(t, {"dry_run", "force"}); !bad.empty())
    return send(error_reply(http::status::bad_request, bad));
  engine::PublishOptions options;
  for (auto [name, slot] : {std::pair{"dry_run", &options.dry_run}, std::pair{"force", &options.force}}) {
    if (auto it = t.query.find(name); it != t.query.end()) {
      auto v = parse_flag(it->second);
      if (!v) return send(error_reply(http::status::bad_request, fmt::format("{}: give 1 or 0", name)));
      *slot = *v;
    }
  }
  auto self = shared_from_this();
  server_.writer().submit_publish(std::move(req.body()), "-", options, [self](PublishOutcome out) {
    net::post(self->stream_.get_executor(), [self, out = std::move(out)]() mutable {
      if (out.failure_status != 0) {
        boost::json::object o{{"error", out.error}};
        if (!out.diagnostics.empty()) o["diagnostics"] = out.diagnostics;
        Reply r = json_reply(static_cast<http::status>(out.failure_status), o);
        r.retry_after = out.failure_status == 503;
        return self->send(std::move(r));
      }
      const auto status = out.report->refused ? http::status::unprocessable_entity : http::status::ok;
      self->send(json_reply(status, cli::publish_json(*out.report)));
    });
  });
}

void Session::handle_query(const Target& t) {
  auto bad = [&](const std::string& m) { send(error_reply(http::status::bad_request, m)); };
  auto param = [&](const char* name) -> std::optional<std::string> {
    auto it = t.query.find(name);
    if (it == t.query.end()) return std::nullopt;
    return it->second;
  };
  // A time parameter as the command line's --at/--from/--to.
  auto time_param = [&](const char* name, std::optional<TimeUs>* out) -> bool {
    auto v = param(name);
    if (!v) return true;
    if (auto p = check_value(cli::query_time_arg(), *v); !p.empty()) {
      bad(fmt::format("{}: {}", name, p));
      return false;
    }
    auto parsed = cli::parse_query_time(*v);
    if (!parsed) {
      bad(fmt::format("{}: {}", name, parsed.message()));
      return false;
    }
    *out = *parsed;
    return true;
  };

  if (t.path == "/health") {
    if (auto b = unknown_parameters(t, {}); !b.empty()) return bad(b);
    const WriterHealth h = server_.writer().health();
    boost::json::object o{{"ok", !h.failed && !h.stopping}, {"acknowledged_seq", h.acked_seq},
                          {"projection_seq", h.stored_seq}, {"queued_events", h.queued_events},
                          {"batches", h.batches},           {"draining", h.stopping || server_.draining()}};
    if (h.failed) o["error"] = *h.failed;
    return send(json_reply(h.failed || h.stopping ? http::status::service_unavailable : http::status::ok, o));
  }
  if (t.path == "/balances") {
    if (auto b = unknown_parameters(t, {"pattern", "at"}); !b.empty()) return bad(b);
    std::string pattern;
    if (auto p = param("pattern")) {
      if (auto problem = cli::glob_problem(*p); !problem.empty()) return bad("pattern: " + problem);
      pattern = *p;
    }
    std::optional<TimeUs> at;
    if (!time_param("at", &at)) return;
    return run_query([pattern, at](const Ledger& ledger) {
      auto rows = engine::balances(ledger, pattern, at, now_us());
      if (!rows) return error_reply(http::status::internal_server_error, rows.message());
      return json_reply(http::status::ok, cli::balance_json(ledger, *rows, at));
    });
  }
  if (t.path == "/journal") {
    if (auto b = unknown_parameters(t, {"account", "event", "from", "to", "rule"}); !b.empty()) return bad(b);
    engine::JournalFilter f;
    if (auto a = param("account")) {
      if (auto problem = cli::glob_problem(*a); !problem.empty()) return bad("account: " + problem);
      f.account_pattern = *a;
    }
    if (auto e = param("event")) {
      if (auto problem = check_value(cli::identifier_arg(), *e); !problem.empty())
        return bad("event: " + problem);
      f.event = *e;
    }
    if (auto r = param("rule")) {
      if (r->empty()) return bad("rule: is empty; give a rule name or leave it out");
      f.rule = *r;
    }
    if (!time_param("from", &f.from) || !time_param("to", &f.to)) return;
    if (f.from && f.to && *f.from > *f.to) {
      return bad(fmt::format("from {} is later than to {}", *param("from"), *param("to")));
    }
    return run_query([f](const Ledger& ledger) {
      auto rows = engine::journal(ledger, f);
      if (!rows) return error_reply(http::status::internal_server_error, rows.message());
      Reply r;
      r.body = cli::journal_jsonl(*rows, cli::display_offset(ledger));
      r.content_type = "application/x-ndjson";
      return r;
    });
  }
  if (t.path.starts_with("/explain/")) {
    if (auto b = unknown_parameters(t, {}); !b.empty()) return bad(b);
    const std::string id = t.path.substr(9);
    if (auto problem = check_value(cli::identifier_arg(), id); !problem.empty())
      return bad("event id: " + problem);
    return run_query([id](const Ledger& ledger) {
      auto x = engine::explain(ledger, id);
      if (!x) {
        return error_reply(x.error().fatal() ? http::status::internal_server_error : http::status::not_found,
                           x.message());
      }
      return json_reply(http::status::ok, cli::explain_json(*x));
    });
  }
  if (t.path.starts_with("/statement/")) {
    if (auto b = unknown_parameters(t, {"month"}); !b.empty()) return bad(b);
    const std::string party = t.path.substr(11);
    if (auto problem = check_value(cli::party_arg(), party); !problem.empty())
      return bad("party: " + problem);
    auto month = param("month");
    if (!month) return bad("month: is required (YYYY-MM)");
    if (auto problem = check_value(cli::month_arg(), *month); !problem.empty())
      return bad("month: " + problem);
    return run_query([party, m = *month](const Ledger& ledger) {
      auto st = engine::statement(ledger, party, m);
      if (!st) {
        return error_reply(
            st.error().fatal() ? http::status::internal_server_error : http::status::bad_request,
            st.message());
      }
      return json_reply(http::status::ok, cli::statement_json(*st));
    });
  }
  if (t.path == "/verify") {
    if (auto b = unknown_parameters(t, {"expect_head"}); !b.empty()) return bad(b);
    std::optional<format::Hash> expected;
    std::string expected_text;
    if (auto e = param("expect_head")) {
      expected = cli::parse_hash_hex(*e);
      if (!expected) return bad(fmt::format("expect_head: \"{}\" is not a SHA-256 hash (64 hex digits)", *e));
      expected_text = *e;
    }
    return run_query([expected, expected_text](const Ledger& ledger) {
      bool ok = false;
      auto o = cli::verify_json(ledger, expected, expected_text, &ok);
      return json_reply(ok ? http::status::ok : http::status::conflict, o);
    });
  }
  send(error_reply(http::status::not_found, fmt::format("no route {}", t.path)));
}

Status Server::listen() {
  beast::error_code ec;
  const auto address = net::ip::make_address(opts_.address, ec);
  if (ec) return make_error(fmt::format("--listen: '{}' is not an IP address", opts_.address));
  const tcp::endpoint ep(address, opts_.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error(fmt::format("cannot listen on {}:{}: {}", opts_.address, opts_.port, ec.message()));
  return Status::Ok();
}

void Server::add(const std::shared_ptr<Session>& s) {
  std::lock_guard lock(sessions_mu_);
  sessions_.emplace(s.get(), s);
}

void Server::remove(Session* s) {
  {
    std::lock_guard lock(sessions_mu_);
    sessions_.erase(s);
  }
  if (draining_) finish_if_drained();
}

void Server::log(const std::string& line) {
  if (opts_.access_log == nullptr) return;
  std::lock_guard lock(log_mu_);
  std::fwrite(line.data(), 1, line.size(), opts_.access_log);
  std::fputc('\n', opts_.access_log);
  std::fflush(opts_.access_log);
}

void Server::with_reader(ReaderDone done) {
  const std::uint64_t target = writer_.acked_seq();
  std::unique_lock lock(reader_mu_);
  if (reader_ && reader_->head_seq() >= target) {
    auto r = reader_;
    lock.unlock();
    done(std::move(r), "");
    return;
  }
  reader_waiters_.push_back(std::move(done));
  if (refreshing_) return;
  refreshing_ = true;
  lock.unlock();
  refresh_reader();
}

// Serves the queries waiting now with a new reader; those that arrive meanwhile wait for the next one
// (their writes may be newer than what this one covers).
void Server::refresh_reader() {
  std::vector<ReaderDone> batch;
  {
    std::lock_guard lock(reader_mu_);
    batch.swap(reader_waiters_);
  }
  writer_.sync_reads([this, batch = std::move(batch)](std::string) mutable {
    net::post(queries_, [this, batch = std::move(batch)] {
      auto opened = engine::open_for_queries(opts_.db_dir);
      std::shared_ptr<const Ledger> reader;
      std::string error;
      if (opened) {
        reader = std::shared_ptr<const Ledger>(std::move(*opened));
      } else {
        error = opened.message();
      }
      bool again = false;
      {
        std::lock_guard lock(reader_mu_);
        if (reader) reader_ = reader;
        again = !reader_waiters_.empty();
        if (!again) refreshing_ = false;
      }
      for (auto& done : batch) done(reader, error);
      if (again) refresh_reader();
    });
  });
}

void Server::accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      auto s = std::make_shared<Session>(std::move(socket), *this);
      add(s);
      // Only this handler adds to serving_ (one accept at a time); sessions ending only lower it.
      if (serving_.load() < opts_.max_connections) {
        serving_.fetch_add(1);
        s->start();
      } else {
        s->turn_away();
      }
    }
    accept();
  });
}

void Server::begin_drain() {
  if (draining_.exchange(true)) return;
  beast::error_code ec;
  acceptor_.close(ec);
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(sessions_mu_);
    for (auto& [_, w] : sessions_) {
      if (auto s = w.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->close_if_idle();
  live.clear();
  finish_if_drained();
}

void Server::finish_if_drained() {
  std::lock_guard lock(sessions_mu_);
  if (!sessions_.empty() || finished_) return;
  finished_ = true;
  net::post(ioc_, [this] {
    signals_.cancel();
    work_.reset();
  });
}

void Server::run() {
  signals_.async_wait([this](beast::error_code ec, int) {
    if (!ec) begin_drain();
  });
  accept();
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < std::max(1u, opts_.io_threads); ++i) threads.emplace_back([this] { ioc_.run(); });
  ioc_.run();
  for (auto& t : threads) t.join();
  queries_.join();
}

}  // namespace

int run_server(const Options& options, std::string* error) {
  std::signal(SIGPIPE, SIG_IGN);
  auto writer = GroupWriter::open(options.db_dir, options.checkpoint_events, options.hot_entries,
                                  options.max_queued_events);
  if (!writer) {
    *error = writer.message();
    return 1;
  }
  Server server(options, **writer);
  if (Status s = server.listen(); !s.ok()) {
    *error = s.message();
    return 1;
  }
  if (options.on_listening) options.on_listening(server.bound());
  server.run();
  if (Status s = (*writer)->stop(); !s.ok()) {
    *error = s.message();
    return 1;
  }
  return 0;
}

}  // namespace fz::server
