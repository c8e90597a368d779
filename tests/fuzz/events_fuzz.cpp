// libFuzzer target: arbitrary bytes as an event file through validation, the codec and an append into a
// temporary ledger. Invariants checked on every input: a line either yields an event whose canonical
// bytes round-trip through decode/encode and JSON, or a non-empty reason; the ledger verifies after the
// append; nothing crashes, leaks or trips a sanitizer.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <rocksdb/env.h>

#include "engine/engine.hpp"
#include "model/event_json.hpp"
#include "store/codec.hpp"
#include "store/ledger.hpp"
#include "store/verify.hpp"
#include "tools/append_job.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

void check_line(std::string_view line) {
  fz::LineResult r = fz::parse_event_line(line);
  if (!r.event) {
    if (r.reason.empty()) fail("rejected line without a reason");
    return;
  }
  const std::string bytes = fz::encode_event(*r.event);
  auto back = fz::decode_event(bytes);
  if (!back.ok() || fz::encode_event(*back) != bytes) fail("codec round trip");
  std::string json = fz::event_to_json(*r.event);
  if (r.chain) {  // an exported rules.published line: its chain members go back on for the round trip
    json.pop_back();
    json += fmt::format(R"(,"{}":"{}","{}":"{}"}})", fz::kChainPreviousKey, r.chain->previous_hash,
                        fz::kChainHashKey, r.chain->hash);
  }
  fz::LineResult again = fz::parse_event_line(json);
  if (!again.event || fz::encode_event(*again.event) != bytes) fail("JSON round trip");
}

const std::string& ledger_dir() {
  static const std::string dir =
      (std::filesystem::temp_directory_path() / ("fenzhang-fuzz-" + std::to_string(::getpid()))).string();
  return dir;
}

// Appends go to an in-memory RocksDB so that each input starts from an empty ledger cheaply.
constexpr std::size_t kMaxAppendBytes = 16 * 1024;
constexpr std::uint64_t kInputsPerLedger = 2000;
constexpr std::uint64_t kVerifyEvery = 100;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) check_line(line);

  if (size > kMaxAppendBytes) return 0;
  // One in-memory ledger serves many inputs (opening RocksDB per input would dominate); it is
  // recreated every kInputsPerLedger inputs and verified every kVerifyEvery.
  static std::unique_ptr<rocksdb::Env> env(rocksdb::NewMemEnv(rocksdb::Env::Default()));
  static std::unique_ptr<fz::Ledger> ledger;
  static std::uint64_t inputs = 0;
  if (inputs++ % kInputsPerLedger == 0) {
    ledger.reset();
    std::error_code ec;
    std::filesystem::remove_all(ledger_dir(), ec);
    env.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
    auto opened = fz::Ledger::open(ledger_dir(), fz::Ledger::Access::kWrite, env.get());
    if (!opened) fail("cannot open the scratch ledger");
    ledger = std::move(*opened);
    // Close before RocksDB's own statics (created by the first open) are destroyed at exit.
    static const bool registered = [] {
      std::atexit([] {
        ledger.reset();
        env.reset();
      });
      return true;
    }();
    (void)registered;
  }
  fz::engine::Engine engine(*ledger, fz::engine::Versions{});
  std::istringstream in(text);
  auto report = fz::run_append(*ledger, &engine, {{"fuzz", &in}}, {}, [](const fz::LineRejection&) {});
  if (!report) fail("append failed");
  if (inputs % kVerifyEvery == 0 && !fz::verify_log(*ledger).ok()) fail("verify after append");
  return 0;
}
