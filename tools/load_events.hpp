// The synthetic event stream of the server's load generator (tools/load.cpp) and tests: a setup (one
// agency, its streamers, one general plan) and, per client, orders paid then confirmed. Unlike
// `fenzhang gen`, whose events each depend on the ones before them, no client's events depend on another
// client's, so N clients posting concurrently in any interleaving end with the same balances as one
// `fenzhang append` of the same lines (under rules/taobao-live.rules: commission on every confirmed order).
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fz::load {

struct StreamOptions {
  std::string prefix = "L";  // id prefix, so several runs can share a ledger
  std::uint32_t streamers = 100;
};

// JSON Lines of the setup, in order (post them before the clients start).
inline std::vector<std::string> setup_events(const StreamOptions& o) {
  std::vector<std::string> out;
  out.push_back(fmt::format(
      R"({{"id":"{0}-agency","type":"agency.contracted","at":"2026-01-02T10:00:00+08:00","agency":"{0}-a1"}})",
      o.prefix));
  for (std::uint32_t s = 0; s < o.streamers; ++s) {
    out.push_back(fmt::format(
        R"({{"id":"{0}-sign-{1}","type":"streamer.signed","at":"2026-01-03T10:00:00+08:00","streamer":"{0}-s{1}","agency":"{0}-a1"}})",
        o.prefix, s));
  }
  out.push_back(fmt::format(
      R"({{"id":"{0}-plan","type":"plan.created","at":"2026-01-04T10:00:00+08:00","plan":"{0}-p1","merchant":"{0}-m1","kind":"general","rate":"20%"}})",
      o.prefix));
  return out;
}

// The k-th event (k = 0, 1, …) of client c: order k/2 paid (k even) or confirmed (k odd).
inline std::string client_event(const StreamOptions& o, std::uint32_t c, std::uint64_t k) {
  const std::uint64_t n = k / 2;
  // A spread of amounts and streamers, the same on every run.
  const std::uint64_t h = (c + 1) * 0x9E3779B97F4A7C15ULL ^ (n + 1) * 0xC2B2AE3D27D4EB4FULL;
  const std::uint32_t s = static_cast<std::uint32_t>((h >> 17) % o.streamers);
  const std::uint64_t fen = 100 + (h >> 29) % 99900;  // 1.00 .. 999.99
  const std::uint64_t minute = n % (28 * 24 * 60);
  const std::uint64_t day = 1 + minute / (24 * 60), hh = (minute / 60) % 24, mm = minute % 60;
  if (k % 2 == 0) {
    return fmt::format(
        R"({{"id":"{0}-c{1}-o{2}-paid","type":"order.paid","at":"2026-03-{3:02}T{4:02}:{5:02}:00+08:00","order":"{0}-c{1}-o{2}","merchant":"{0}-m1","streamer":"{0}-s{6}","plan":"{0}-p1","amount":"{7}.{8:02}","via_link":true}})",
        o.prefix, c, n, day, hh, mm, s, fen / 100, fen % 100);
  }
  return fmt::format(
      R"({{"id":"{0}-c{1}-o{2}-confirmed","type":"order.confirmed","at":"2026-04-{3:02}T{4:02}:{5:02}:00+08:00","order":"{0}-c{1}-o{2}"}})",
      o.prefix, c, n, day, hh, mm);
}

}  // namespace fz::load
