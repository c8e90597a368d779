// Helpers shared by the hardening tests (tests/hardening/): a small ledger with the engine attached,
// appends through the real append path (fz::run_append with an engine::Engine projector), and a
// snapshot of everything a user or an auditor can observe of a ledger's state.
#pragma once

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "engine/rebuild.hpp"
#include "store/codec.hpp"
#include "store/ledger.hpp"
#include "store/verify.hpp"
#include "tests/test_util.hpp"
#include "tools/append_job.hpp"

namespace fz::hardening {

// Events every hardening ledger starts with: an agency, a signed streamer, an operator adjustment (which
// posts), so the log, the id index and every projection column family hold something.
inline const char* const kBaseEvents[] = {
    R"({"id":"base-1","type":"agency.contracted","at":"2026-09-01T10:00:00+08:00","agency":"a1"})",
    R"({"id":"base-2","type":"streamer.signed","at":"2026-09-02T10:00:00+08:00","streamer":"s1","agency":"a1"})",
    R"({"id":"base-3","type":"adjustment","at":"2026-09-03T10:00:00+08:00","from":"@platform:fees","to":"@agency:a1:cps","amount":"1.50","reason":"goodwill"})",
};

inline std::string base_text() {
  std::string s;
  for (const char* l : kBaseEvents) s += std::string(l) + "\n";
  return s;
}

// More events, each with postings: `n` adjustments between a few accounts, ids "adj-<k>".
inline std::string adjustments(int first, int n) {
  std::string s;
  for (int k = first; k < first + n; ++k) {
    s += fmt::format(
        R"({{"id":"adj-{}","type":"adjustment","at":"2026-10-{:02}T10:00:00+08:00","from":"@agency:a1:cps","to":"@streamer:s{}:cps","amount":"{}.{:02}","reason":"bonus {}"}})"
        "\n",
        k, 1 + k % 28, k % 3, 1 + k % 50, k % 100, k);
  }
  return s;
}

struct AppendOutcome {
  Result<AppendReport> report = make_error("not run");
  std::vector<LineRejection> rejections;
};

// Appends `text` (named `name`) through run_append with a fresh Engine, as `fenzhang append` does.
inline AppendOutcome append(Ledger& ledger, const std::string& text, const std::string& name = "in.jsonl",
                            std::size_t batch_events = 4096) {
  engine::Engine eng(ledger);
  std::istringstream in(text);
  AppendOptions opts;
  opts.batch_events = batch_events;
  AppendOutcome out;
  out.report = run_append(ledger, &eng, {{name, &in}}, opts,
                          [&](const LineRejection& r) { out.rejections.push_back(r); });
  return out;
}

// Appends text that must be accepted whole.
inline void append_ok(Ledger& ledger, const std::string& text) {
  AppendOutcome o = append(ledger, text);
  REQUIRE_MESSAGE(o.report.ok(), o.report.message());
  if (!o.rejections.empty()) FAIL(o.rejections[0].line << ": " << o.rejections[0].reason);
}

// What can be observed of a ledger: head, every stored event value, the projection digest.
struct Snapshot {
  std::uint64_t head_seq = 0;
  std::string head_hash;
  std::vector<std::string> values;  // events 1..head_seq, record ‖ hash
  std::string projection;
  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

inline Snapshot snapshot(const Ledger& ledger) {
  Snapshot s;
  s.head_seq = ledger.head_seq();
  s.head_hash = hash_hex(ledger.head_hash());
  for (std::uint64_t seq = 1; seq <= ledger.head_seq(); ++seq) {
    auto v = ledger.raw_event(seq);
    REQUIRE_MESSAGE(v.ok(), v.message());
    REQUIRE(v->has_value());
    s.values.push_back(**v);
  }
  auto d = engine::projection_digest(ledger);
  REQUIRE_MESSAGE(d.ok(), d.message());
  s.projection = hash_hex(*d);
  return s;
}

// The whole check `fenzhang verify` makes, as a Status: log, book, projection = replay.
inline Status verify_all(const Ledger& ledger) {
  auto log = verify_log(ledger);
  if (!log) return log.error();
  FZ_TRY(engine::check_book(ledger));
  return engine::with_scratch_replay(ledger, ledger.head_seq(),
                                     [&](Ledger& scratch, const engine::RebuildReport&) {
                                       return engine::compare_projections(ledger, scratch);
                                     });
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace fz::hardening
