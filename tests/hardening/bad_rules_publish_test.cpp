// Hostile rules files against a live ledger (issue 7: "each with the exact error expected; the ledger's
// head hash unchanged after each"). Every file of the rules corpus, dsl/testdata/bad/, is published into
// a ledger that already holds rules and events: each must be refused with exactly the diagnostics of its
// .expected file (the same text `fenzhang rules check` prints) and leave the ledger exactly as it was,
// head hash, stored events and projection, also after a reopen.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/publish.hpp"
#include "tests/hardening/hardening.hpp"
#include "tests/test_paths.hpp"

using namespace fz;
using namespace fz::hardening;
using fz::test::TempDir;

namespace {

namespace fs = std::filesystem;

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE(
    "the bad rules corpus: every file refused by rules publish with its exact diagnostics, the ledger "
    "unchanged") {
  const fs::path root = FZ_SOURCE_DIR_DEFAULT;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(root / "dsl/testdata/bad")) {
    if (entry.path().extension() == ".rules") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 100);

  TempDir dir;
  auto ledger = Ledger::open(dir / "db", Ledger::Access::kWrite);
  REQUIRE(ledger.ok());
  std::string diagnostics;
  auto published = engine::publish_rules(**ledger, read_all(root / "rules/taobao-live.rules"),
                                         "rules/taobao-live.rules", 0, &diagnostics);
  REQUIRE_MESSAGE(published.ok(), published.message() << "\n" << diagnostics);
  append_ok(**ledger, base_text());
  const Snapshot before = snapshot(**ledger);

  for (const fs::path& path : files) {
    const std::string display = fs::relative(path, root).string();
    CAPTURE(display);
    diagnostics.clear();
    auto r = engine::publish_rules(**ledger, read_all(path), display, 0, &diagnostics);
    CHECK_FALSE(r.ok());
    fs::path expected = path;
    expected.replace_extension(".expected");
    CHECK(diagnostics == read_all(expected));
    CHECK(snapshot(**ledger) == before);
  }

  ledger = make_error("closed");
  auto again = Ledger::open(dir / "db", Ledger::Access::kRead);
  REQUIRE(again.ok());
  CHECK(snapshot(**again) == before);
  Status s = verify_all(**again);
  CHECK_MESSAGE(s.ok(), s.message());
}
