// A small blocking HTTP/1.1 client over Boost.Beast, for the tests and tools of `fenzhang serve`: one
// keep-alive connection, reopened when the server closed it. Not thread-safe: one client per thread.
#pragma once

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace fz::server {

struct HttpResponse {
  int status = 0;  // 0: no response (error says why: refused, reset, timeout)
  std::string body;
  std::string error;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : std::string(it->value());
  }
  boost::beast::http::fields headers;
};

class HttpClient {
 public:
  HttpClient(std::string host, std::uint16_t port, std::string token = {})
      : host_(std::move(host)), port_(port), token_(std::move(token)) {}

  void set_port(std::uint16_t port) {
    if (port != port_) close();
    port_ = port;
  }

  HttpResponse request(boost::beast::http::verb verb, const std::string& target, const std::string& body = {},
                       std::chrono::milliseconds timeout = std::chrono::seconds(30),
                       std::optional<std::string> token = std::nullopt) {
    namespace beast = boost::beast;
    namespace http = beast::http;
    HttpResponse out;
    for (int attempt = 0; attempt < 2; ++attempt) {
      beast::error_code ec;
      const bool fresh = !stream_;
      if (!stream_) {
        stream_.emplace(ioc_);
        stream_->expires_after(timeout);
        stream_->connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address(host_), port_), ec);
        if (ec) {
          out.error = ec.message();
          close();
          return out;
        }
        stream_->socket().set_option(boost::asio::ip::tcp::no_delay(true), ec);
      }
      http::request<http::string_body> req{verb, target, 11};
      req.set(http::field::host, host_);
      const std::string& t = token ? *token : token_;
      if (!t.empty()) req.set(http::field::authorization, "Bearer " + t);
      if (verb == http::verb::post || !body.empty()) req.body() = body;
      req.keep_alive(true);
      req.prepare_payload();
      stream_->expires_after(timeout);
      http::write(*stream_, req, ec);
      http::response_parser<http::string_body> parser;
      parser.body_limit(std::uint64_t{1} << 32);
      if (!ec) http::read(*stream_, buffer_, parser, ec);
      if (ec) {
        out.error = ec.message();
        close();
        // A kept-alive connection the server closed meanwhile: try once more on a new one.
        if (!fresh && (ec == http::error::end_of_stream || ec == boost::asio::error::connection_reset ||
                       ec == boost::asio::error::broken_pipe)) {
          continue;
        }
        return out;
      }
      auto res = parser.release();
      out.status = static_cast<int>(res.result_int());
      out.body = std::move(res.body());
      out.headers = res.base();
      out.error.clear();
      if (!res.keep_alive()) close();
      return out;
    }
    return out;
  }

  HttpResponse get(const std::string& target) { return request(boost::beast::http::verb::get, target); }
  HttpResponse post(const std::string& target, const std::string& body) {
    return request(boost::beast::http::verb::post, target, body);
  }

  void close() {
    if (stream_) {
      boost::beast::error_code ec;
      stream_->socket().close(ec);
    }
    stream_.reset();
    buffer_.clear();
  }

 private:
  std::string host_;
  std::uint16_t port_;
  std::string token_;
  boost::asio::io_context ioc_;
  std::optional<boost::beast::tcp_stream> stream_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace fz::server
