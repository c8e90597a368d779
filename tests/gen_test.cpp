// The generator: reproducible, and every event it writes is accepted by the engine's preconditions.
#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>

#include "engine/engine.hpp"
#include "tests/test_util.hpp"
#include "tools/append_job.hpp"
#include "tools/gen.hpp"

using namespace fz;

TEST_CASE("gen: same options give the same bytes, another seed other bytes") {
  std::ostringstream a, b, c;
  generate_events({3000, 7, 40}, a);
  generate_events({3000, 7, 40}, b);
  generate_events({3000, 8, 40}, c);
  CHECK(a.str() == b.str());
  CHECK(a.str() != c.str());
  const std::string text = a.str();
  CHECK(std::count(text.begin(), text.end(), '\n') == 3000);
}

TEST_CASE("gen: every generated event is appended") {
  fz::test::TempDir dir;
  std::ostringstream events;
  generate_events({8000, 11, 60}, events);
  auto ledger = Ledger::open(dir / "db", Ledger::Access::kWrite);
  REQUIRE(ledger.ok());
  engine::Engine eng(**ledger, engine::Versions{});
  std::istringstream in(events.str());
  std::vector<std::string> reasons;
  auto r = run_append(**ledger, &eng, {{"gen", &in}}, {},
                      [&](const LineRejection& lr) { reasons.push_back(lr.reason); });
  REQUIRE(r.ok());
  CHECK(r->appended == 8000);
  CHECK(r->rejected == 0);
  CHECK(reasons.empty());
  const std::string text = events.str();
  for (const char* type :
       {"agency.contracted", "streamer.signed", "streamer.released", "payout.bound", "plan.created",
        "plan.applied", "plan.approved", "plan.rejected", "order.paid", "order.confirmed", "order.refunded",
        "vtask.created", "vtask.confirmed", "withdrawal.requested"}) {
    CAPTURE(type);
    CHECK(text.find(std::string("\"type\":\"") + type + "\"") != std::string::npos);
  }
}
