// Engine preconditions of SPEC section 3, each with the message a user sees.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "engine/state.hpp"
#include "engine/table.hpp"
#include "model/event_json.hpp"
#include "store/ledger.hpp"
#include "tests/test_util.hpp"

using namespace fz;
using namespace fz::engine;

namespace {

// Applies one JSON line; returns "" when accepted, else the rejection message.
std::string try_apply(EntityState& st, const std::string& line) {
  LineResult r = parse_event_line(line);
  REQUIRE_MESSAGE(r.event.has_value(), r.reason);
  Status s = st.check_and_apply(*r.event);
  if (!s.ok()) {
    st.reject_event();
    return s.message();
  }
  st.accept_event();
  return "";
}

std::string ev(const std::string& id, const std::string& type, const std::string& at,
               const std::string& fields) {
  return R"({"id":")" + id + R"(","type":")" + type + R"(","at":")" + at + R"(",)" + fields + "}";
}

}  // namespace

TEST_CASE("agency and streamer preconditions") {
  EntityState st;
  CHECK(try_apply(st, ev("1", "streamer.signed", "2026-09-02T10:00:00+08:00",
                         R"("streamer":"s1","agency":"a1")")) ==
        "agency a1 has no contract; record agency.contracted first");
  CHECK(try_apply(st, ev("2", "agency.contracted", "2026-09-01T10:00:00+08:00", R"("agency":"a1")")) == "");
  CHECK(try_apply(st, ev("3", "agency.contracted", "2026-09-05T10:00:00+08:00", R"("agency":"a1")")) ==
        "agency a1 is already contracted (since 2026-09-01T10:00:00+08:00)");
  CHECK(try_apply(st, ev("4", "streamer.released", "2026-09-02T10:00:00+08:00", R"("streamer":"s1")")) ==
        "streamer s1 is not signed to any agency");
  CHECK(try_apply(st, ev("5", "streamer.signed", "2026-09-02T10:00:00+08:00",
                         R"("streamer":"s1","agency":"a1")")) == "");
  CHECK(try_apply(st, ev("6", "streamer.signed", "2026-09-03T10:00:00+08:00",
                         R"("streamer":"s1","agency":"a1")")) ==
        "streamer s1 is already signed to agency a1; release them first");
  CHECK(try_apply(st, ev("7", "streamer.released", "2026-09-01T10:00:00+08:00", R"("streamer":"s1")")) ==
        "streamer s1 cannot be released at 2026-09-01T10:00:00+08:00, before signing with a1 at "
        "2026-09-02T10:00:00+08:00");
  CHECK(try_apply(st, ev("8", "streamer.released", "2026-10-01T10:00:00+08:00", R"("streamer":"s1")")) == "");
  CHECK(try_apply(st, ev("9", "streamer.signed", "2026-10-02T10:00:00+08:00",
                         R"("streamer":"s1","agency":"a1")")) == "");
  const Streamer* s = st.streamers.find("s1");
  REQUIRE(s != nullptr);
  CHECK(s->agency_at(parse_rfc3339("2026-09-15T00:00:00+08:00").value()) == "a1");
  CHECK(s->agency_at(parse_rfc3339("2026-10-01T12:00:00+08:00").value()) == "");  // between contracts
  CHECK(s->agency_at(parse_rfc3339("2027-01-01T00:00:00+08:00").value()) == "a1");
  CHECK(s->agency_at(parse_rfc3339("2026-09-01T00:00:00+08:00").value()) == "");
}

TEST_CASE("plan and application preconditions") {
  EntityState st;
  const std::string t = "2026-10-05T15:00:00+08:00";
  CHECK(try_apply(st, ev("1", "plan.applied", t, R"("plan":"p1","streamer":"s1")")) ==
        "plan p1 does not exist");
  CHECK(try_apply(st,
                  ev("2", "plan.created", t,
                     R"("plan":"p1","merchant":"m1","kind":"directed","rate":"20%","approval":"manual")")) ==
        "");
  CHECK(try_apply(
            st, ev("3", "plan.created", t, R"("plan":"p1","merchant":"m1","kind":"general","rate":"20%")")) ==
        "plan p1 already exists");
  CHECK(try_apply(st, ev("4", "plan.created", t,
                         R"("plan":"g1","merchant":"m1","kind":"general","rate":"5%")")) == "");
  CHECK(try_apply(st, ev("5", "plan.applied", t, R"("plan":"g1","streamer":"s1")")) ==
        "plan g1 is a general plan; only directed plans take applications");
  CHECK(try_apply(st, ev("6", "plan.approved", t, R"("plan":"p1","streamer":"s1")")) ==
        "streamer s1 has no pending application to plan p1");
  CHECK(try_apply(st, ev("7", "plan.applied", t, R"("plan":"p1","streamer":"s1")")) == "");
  CHECK(try_apply(st, ev("8", "plan.applied", t, R"("plan":"p1","streamer":"s1")")) ==
        "streamer s1 already has a pending application to plan p1");
  CHECK(try_apply(st, ev("9", "plan.rejected", t, R"("plan":"p1","streamer":"s1")")) == "");
  CHECK(try_apply(st, ev("10", "plan.rejected", t, R"("plan":"p1","streamer":"s1")")) ==
        "streamer s1 has no pending application to plan p1");
  CHECK(try_apply(st, ev("11", "plan.applied", t, R"("plan":"p1","streamer":"s1")")) ==
        "");  // may apply again
  CHECK(try_apply(st, ev("12", "plan.approved", t, R"("plan":"p1","streamer":"s1")")) == "");
  CHECK(try_apply(st, ev("13", "plan.applied", t, R"("plan":"p1","streamer":"s1")")) ==
        "streamer s1 is already approved for plan p1");
  // auto approval approves at once
  CHECK(try_apply(
            st, ev("14", "plan.created", t,
                   R"("plan":"p2","merchant":"m1","kind":"directed","rate":"20%","approval":"auto")")) == "");
  CHECK(try_apply(st, ev("15", "plan.applied", t, R"("plan":"p2","streamer":"s1")")) == "");
  const Application* a = st.applications.find(EntityState::application_key("p2", "s1"));
  REQUIRE(a != nullptr);
  CHECK(a->status == ApplicationStatus::kApproved);
  CHECK(try_apply(st, ev("16", "plan.approved", t, R"("plan":"p2","streamer":"s1")")) ==
        "streamer s1 has no pending application to plan p2");
}

TEST_CASE("order preconditions") {
  EntityState st;
  const std::string paid =
      R"("order":"o17","merchant":"m1","streamer":"s1","plan":"p1","amount":"42.50","via_link":true)";
  CHECK(try_apply(st, ev("1", "order.confirmed", "2026-10-07T10:00:00+08:00", R"("order":"o17")")) ==
        "order o17 has not been paid");
  CHECK(try_apply(st, ev("2", "order.refunded", "2026-10-07T10:00:00+08:00",
                         R"("order":"o17","amount":"1","case":"c1")")) == "order o17 has not been paid");
  CHECK(try_apply(st, ev("3", "order.paid", "2026-10-06T10:00:00+08:00", paid)) == "");
  CHECK(try_apply(st, ev("4", "order.paid", "2026-10-06T10:00:00+08:00", paid)) ==
        "order o17 was already paid");
  CHECK(try_apply(st, ev("5", "order.refunded", "2026-10-07T10:00:00+08:00",
                         R"("order":"o17","amount":"30.00","case":"c1")")) == "");
  CHECK(try_apply(st, ev("6", "order.refunded", "2026-10-07T10:00:00+08:00",
                         R"("order":"o17","amount":"1.00","case":"c1")")) ==
        "order o17: refund case c1 is already recorded");
  CHECK(try_apply(st, ev("7", "order.refunded", "2026-10-07T10:00:00+08:00",
                         R"("order":"o17","amount":"30.00","case":"c2")")) ==
        "order o17: refund 30.00 exceeds the 12.50 not yet refunded");
  CHECK(try_apply(st, ev("8", "order.confirmed", "2026-10-08T10:00:00+08:00", R"("order":"o17")")) == "");
  CHECK(try_apply(st, ev("9", "order.confirmed", "2026-10-08T10:00:00+08:00", R"("order":"o17")")) ==
        "order o17 is already confirmed");
  CHECK(try_apply(st, ev("10", "order.refunded", "2026-10-09T10:00:00+08:00",
                         R"("order":"o17","amount":"12.50","case":"c3")")) == "");
  const Order* o = st.orders.find("o17");
  REQUIRE(o != nullptr);
  CHECK(o->net() == 0);
  CHECK(o->refunded == 4250);
  // A fully refunded order cannot be confirmed.
  CHECK(
      try_apply(
          st,
          ev("11", "order.paid", "2026-10-06T10:00:00+08:00",
             R"("order":"o18","merchant":"m1","streamer":"s1","plan":"p1","amount":"5","via_link":true)")) ==
      "");
  CHECK(try_apply(st, ev("12", "order.refunded", "2026-10-07T10:00:00+08:00",
                         R"("order":"o18","amount":"5","case":"c1")")) == "");
  CHECK(try_apply(st, ev("13", "order.confirmed", "2026-10-08T10:00:00+08:00", R"("order":"o18")")) ==
        "order o18 is fully refunded");
}

TEST_CASE("V-task preconditions and terms time") {
  EntityState st;
  const std::string created =
      R"("task":"t1","merchant":"m2","streamer":"s1","kind":"showcase","price":"10000.00")";
  CHECK(try_apply(st, ev("1", "vtask.confirmed", "2026-11-11T10:00:00+08:00", R"("task":"t1")")) ==
        "V-task t1 has not been created");
  CHECK(try_apply(st, ev("2", "vtask.created", "2026-11-01T10:00:00+08:00", created)) == "");
  CHECK(try_apply(st, ev("3", "vtask.created", "2026-11-01T10:00:00+08:00", created)) ==
        "V-task t1 already exists");
  LineResult confirm =
      parse_event_line(ev("4", "vtask.confirmed", "2026-11-11T10:00:00+08:00", R"("task":"t1")"));
  CHECK(st.terms_time(*confirm.event) == parse_rfc3339("2026-11-01T10:00:00+08:00").value());
  CHECK(try_apply(st, ev("4", "vtask.confirmed", "2026-11-11T10:00:00+08:00", R"("task":"t1")")) == "");
  CHECK(try_apply(st, ev("5", "vtask.cancelled", "2026-11-12T10:00:00+08:00", R"("task":"t1")")) ==
        "V-task t1 is already confirmed");
  CHECK(try_apply(st, ev("6", "vtask.created", "2026-11-01T10:00:00+08:00",
                         R"("task":"t2","merchant":"m2","streamer":"s1","kind":"title","price":"1.00")")) ==
        "");
  CHECK(try_apply(st, ev("7", "vtask.cancelled", "2026-11-12T10:00:00+08:00", R"("task":"t2")")) == "");
  CHECK(try_apply(st, ev("8", "vtask.cancelled", "2026-11-12T10:00:00+08:00", R"("task":"t2")")) ==
        "V-task t2 is already cancelled");
  CHECK(try_apply(st, ev("9", "vtask.confirmed", "2026-11-12T10:00:00+08:00", R"("task":"t2")")) ==
        "V-task t2 is already cancelled");
}

TEST_CASE("a rejected event leaves no trace, even on an entity it touched earlier in the batch") {
  EntityState st;
  CHECK(
      try_apply(
          st,
          ev("1", "order.paid", "2026-10-06T10:00:00+08:00",
             R"("order":"o1","merchant":"m1","streamer":"s1","plan":"p1","amount":"10","via_link":true)")) ==
      "");
  CHECK(try_apply(st, ev("2", "order.refunded", "2026-10-07T10:00:00+08:00",
                         R"("order":"o1","amount":"20","case":"c1")")) != "");
  CHECK(st.orders.find("o1")->refunded == 0);
  st.discard();
  CHECK(st.orders.find("o1") == nullptr);
}

TEST_CASE("a table with a small committed cache reads every entity back as last written") {
  // A cache of 4 entries in front of a real column family: after every batch, every entity reads back
  // as last written, whether it is still cached or only in the table files.
  test::TempDir dir;
  auto ledger = Ledger::open(dir / "db", Ledger::Access::kWrite);
  REQUIRE(ledger.ok());
  Table<Order> orders('o', 4);
  orders.attach(ledger->get(), Family::kEntities);
  std::map<std::string, Fen> expected;
  for (int round = 0; round < 30; ++round) {
    // Rewrite a few old orders and add a new one each round.
    std::vector<std::string> ids = {"o" + std::to_string(round), "o" + std::to_string(round / 2),
                                    "o" + std::to_string(round / 5)};
    for (const std::string& id : ids) {
      Order o;
      if (const Order* cur = orders.find(id)) o = *cur;
      o.amount = round * 100 + static_cast<Fen>(id.size());
      orders.put(id, o);
      orders.accept_event();
      expected[id] = o.amount;
    }
    ProjectionBatch batch(**ledger);
    orders.flush(batch, KeyOrder::kSorted);
    REQUIRE((*ledger)->write(batch).ok());
    orders.committed();
    for (const auto& [id, amount] : expected) {
      const Order* o = orders.find(id);
      REQUIRE_MESSAGE(o != nullptr, id);
      CHECK_MESSAGE(o->amount == amount, id);
    }
    CHECK(orders.find("never-paid") == nullptr);
  }
  CHECK(orders.counters().loads > 0);  // some reads did go to the table files
}

// The entity table behind EntityState (engine/table.hpp): one flat map with an undo log per event.
TEST_CASE("entity table: a rejected event is undone, a flush writes each of the batch's changes once") {
  // The table reads nothing from the ledger (not attached): the ledger only receives the flushed batch.
  test::TempDir dir;
  auto ledger = Ledger::open(dir / "db", Ledger::Access::kScratch);
  REQUIRE(ledger.ok());
  Table<Order> t('o', /*cache_limit=*/2);
  auto order = [](Fen amount) {
    Order o;
    o.merchant = "m1";
    o.amount = amount;
    return o;
  };
  // An accepted event, then a rejected one that changed it twice and created another: only the first stays.
  t.put("o2", order(100));
  t.accept_event();
  t.put("o2", order(200));
  t.put("o2", order(300));
  t.put("o1", order(50));
  CHECK(t.find("o2")->amount == 300);
  t.reject_event();
  REQUIRE(t.find("o2") != nullptr);
  CHECK(t.find("o2")->amount == 100);
  CHECK(t.find("o1") == nullptr);
  // Two more accepted changes of o2 and a new o1: the batch writes each key once, ascending.
  t.put("o2", order(150));
  t.put("o1", order(60));
  t.accept_event();
  ProjectionBatch batch(**ledger);
  t.flush(batch, KeyOrder::kSorted);
  CHECK(batch.count() == 2);
  REQUIRE((*ledger)->write(batch).ok());
  std::vector<std::string> keys;
  ProjectionCursor it = (*ledger)->cursor(Family::kEntities);
  for (it.seek_to_first(); it.valid(); it.next()) keys.emplace_back(it.key());
  REQUIRE(it.status("reading entities").ok());
  CHECK(keys == std::vector<std::string>{"oo1", "oo2"});
  // Clean entities are evicted past the limit; pending and in-flight ones never are.
  for (int i = 0; i < 5; ++i) CHECK(t.find("absent-" + std::to_string(i)) == nullptr);
  REQUIRE(t.find("o2") != nullptr);
  CHECK(t.find("o2")->amount == 150);
  // A write that fails forgets what was not durable: the next read goes to the (here absent) store.
  t.put("o3", order(7));
  t.accept_event();
  t.discard();
  CHECK(t.find("o1") == nullptr);
  CHECK(t.find("o2") == nullptr);
  CHECK(t.find("o3") == nullptr);
}

TEST_CASE("entity table: pending changes are never evicted, whatever the cache limit") {
  test::TempDir dir;
  auto ledger = Ledger::open(dir / "db", Ledger::Access::kScratch);
  REQUIRE(ledger.ok());
  Table<Order> t('o', /*cache_limit=*/1);
  Order o;
  o.amount = 42;
  t.put("o1", o);
  t.accept_event();
  ProjectionBatch batch(**ledger);
  t.flush(batch, KeyOrder::kSorted);
  t.committed();  // durable now: o1 is clean and may be evicted; without a store it then reads as absent
  t.put("o2", o);
  t.accept_event();
  for (int i = 0; i < 4; ++i) (void)t.find("x" + std::to_string(i));
  REQUIRE(t.find("o2") != nullptr);  // pending: never evicted
  CHECK(t.find("o2")->amount == 42);
}

TEST_CASE("entity table: a read-ahead is stale once an entity committed after it was read leaves memory") {
  // Table::read_ahead_fresh dates a read-ahead by the table's generation (bumped by every commit of the
  // table's entities and by a discard): an answer read before the commit that last wrote an entity the
  // table has since evicted is not to be used; one read after it is. Also across the 2^32 boundary of
  // the 32-bit date a read-ahead carries.
  for (const std::uint64_t start : {std::uint64_t{0}, (std::uint64_t{1} << 32) - 2}) {
    CAPTURE(start);
    test::TempDir dir;
    auto ledger = Ledger::open(dir / "db", Ledger::Access::kWrite);
    REQUIRE(ledger.ok());
    std::atomic<std::uint64_t> generation{start};
    Table<Order> t('o', /*cache_limit=*/1);
    t.attach(ledger->get(), Family::kEntities);
    t.set_generation_counter(&generation);
    auto commit = [&](const std::string& id, Fen amount) {
      Order o;
      o.amount = amount;
      t.put(id, o);
      t.accept_event();
      ProjectionBatch batch(**ledger);
      t.flush(batch, KeyOrder::kSorted);
      REQUIRE((*ledger)->write(batch).ok());
      t.committed();
    };
    auto read_at = [&] { return static_cast<std::uint32_t>(generation.load()); };
    auto crowd = [&](int round) {  // reads of absent orders, past the cache limit: evictions
      for (int i = 0; i < 3; ++i) CHECK(t.find(fmt::format("absent-{}-{}", round, i)) == nullptr);
    };

    commit("o1", 100);
    CHECK(generation.load() == start + 1);
    const std::uint32_t before_second = read_at();  // a read-ahead here saw o1 at 100
    CHECK(t.read_ahead_fresh(before_second));
    commit("o1", 200);
    const std::uint32_t after_second = read_at();  // a read-ahead here saw o1 at 200
    // The latest commit's entities are spared by evictions: o1 stays, and a seed would not touch it.
    crowd(1);
    CHECK(t.read_ahead_fresh(before_second));
    CHECK(t.find("o1")->amount == 200);
    // Once another commit came, o1 may go; the read before its second commit is then stale.
    commit("o9", 1);
    crowd(2);
    CHECK_FALSE(t.read_ahead_fresh(before_second));
    CHECK(t.read_ahead_fresh(after_second));
    CHECK(t.find("o1")->amount == 200);  // read back from the store
    // A discard makes every earlier read stale, and later ones fresh.
    const std::uint32_t before_discard = read_at();
    t.put("o5", Order{});
    t.accept_event();
    t.discard();
    CHECK_FALSE(t.read_ahead_fresh(before_discard));
    CHECK(t.read_ahead_fresh(read_at()));
  }
}

TEST_CASE("entity table: layout() moves whenever a pointer find() returned may no longer hold") {
  // EventFacts keeps the event's order from one find() while the layout holds: every change of the
  // map (an entity added, read in, changed, evicted, undone or dropped) must move it; a find() that
  // finds the entity in memory must not.
  test::TempDir dir;
  auto ledger = Ledger::open(dir / "db", Ledger::Access::kScratch);
  REQUIRE(ledger.ok());
  Table<Order> t('o', /*cache_limit=*/1);
  Order o;
  o.amount = 5;
  auto moved = [&t, last = t.layout()]() mutable {
    const bool m = t.layout() != last;
    last = t.layout();
    return m;
  };
  t.put("o1", o);
  CHECK(moved());
  t.accept_event();
  CHECK_FALSE(moved());
  CHECK(t.find("o1")->amount == 5);
  CHECK_FALSE(moved());  // found in memory
  o.amount = 6;
  t.put("o1", o);  // changed in place
  CHECK(moved());
  t.reject_event();
  CHECK(moved());
  CHECK(t.find("o1")->amount == 5);
  CHECK_FALSE(moved());
  ProjectionBatch batch(**ledger);
  t.flush(batch, KeyOrder::kSorted);
  t.committed();  // clean now
  (void)moved();
  CHECK(t.find("absent") == nullptr);  // read in (and the clean o1 evicted past the limit)
  CHECK(moved());
  t.discard();
  CHECK(moved());
}
