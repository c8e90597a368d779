// The engine joined to the store: preconditions at append, adjustments, balances with and without
// --at, and the projection being a pure function of the log (however the events were batched).
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "core/money.hpp"
#include "dsl/rules_check.hpp"
#include "engine/dump.hpp"
#include "engine/engine.hpp"
#include "engine/explain.hpp"
#include "engine/projection_format.hpp"
#include "engine/publish.hpp"
#include "engine/queries.hpp"
#include "engine/reader.hpp"
#include "engine/rebuild.hpp"
#include "store/codec.hpp"
#include "tests/test_util.hpp"
#include "tools/append_job.hpp"
#include "tools/gen.hpp"

using namespace fz;
using fz::test::TempDir;

namespace {

std::string sample_events() {
  std::ifstream in(fz::test::source_dir() + "/examples/taobao-live-sample.jsonl");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The default rules file's text.
std::string default_rules() {
  std::ifstream in(fz::test::source_dir() + "/rules/taobao-live.rules");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

AppendReport append(Ledger& ledger, const std::string& text, std::size_t batch = 4096,
                    std::vector<LineRejection>* rejections = nullptr) {
  auto eng_or = engine::Engine::for_append(ledger);
  REQUIRE_MESSAGE(eng_or.ok(), eng_or.message());
  engine::Engine& eng = **eng_or;
  std::istringstream in(text);
  AppendOptions opts;
  opts.batch_events = batch;
  auto r = run_append(ledger, &eng, {{"in", &in}}, opts, [&](const LineRejection& lr) {
    if (rejections) rejections->push_back(lr);
  });
  REQUIRE_MESSAGE(r.ok(), r.message());
  return *r;
}

TimeUs t(const char* s) {
  return parse_rfc3339(s).value();
}

std::string digest(const Ledger& l) {
  return hash_hex(engine::projection_digest(l).value());
}

// A new ledger in dir/db with the default rules published.
std::unique_ptr<Ledger> ledger_with_default_rules(const TempDir& dir) {
  auto ledger = Ledger::open(dir / "db", Ledger::Access::kWrite);
  REQUIRE(ledger.ok());
  std::string diagnostics;
  REQUIRE(engine::publish_rules(**ledger, default_rules(), "r.rules", t("2026-11-27T00:00:00+08:00"),
                                &diagnostics)
              .ok());
  return std::move(*ledger);
}

}  // namespace

TEST_CASE("an operator adjustment posts one balanced pair, available at its time") {
  TempDir dir;
  auto ledger = Ledger::open(dir / "db", Ledger::Access::kWrite);
  REQUIRE(ledger.ok());
  append(
      **ledger,
      R"({"id":"adj1","type":"adjustment","at":"2026-11-26T10:00:00+08:00","from":"@agency:a1:vtask","to":"@streamer:s3:vtask","amount":"50.00","reason":"bonus"})"
      "\n");
  auto rows = engine::balances(**ledger, "", std::nullopt, t("2026-11-27T00:00:00+08:00")).value();
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].account == "@agency:a1:vtask");
  CHECK(rows[0].total_fen == -5000);
  CHECK(rows[1].account == "@streamer:s3:vtask");
  CHECK(rows[1].total_fen == 5000);
  CHECK(rows[1].available_fen == 5000);
  // Before the adjustment's time: the event is out of range, so no account is listed.
  CHECK(engine::balances(**ledger, "", t("2026-11-26T09:59:59+08:00"), 0).value().empty());
  auto at = engine::balances(**ledger, "@streamer:*", t("2026-11-26T10:00:00+08:00"), 0).value();
  REQUIRE(at.size() == 1);
  CHECK(at[0].total_fen == 5000);
  CHECK(engine::check_book(**ledger).ok());
}

TEST_CASE("the engine's preconditions reject at append and leave the projection unchanged") {
  TempDir dir;
  auto ledger = Ledger::open(dir / "db", Ledger::Access::kWrite);
  REQUIRE(ledger.ok());
  append(**ledger, sample_events());
  const std::string before = digest(**ledger);
  const auto head = (*ledger)->head_hash();
  std::vector<LineRejection> rej;
  auto r = append(
      **ledger,
      R"({"id":"x1","type":"order.refunded","at":"2026-11-27T10:00:00+08:00","order":"o3","amount":"100.02","case":"c9"})"
      "\n"
      R"({"id":"x2","type":"order.confirmed","at":"2026-11-27T10:00:00+08:00","order":"o2"})"
      "\n"
      R"({"id":"x3","type":"streamer.signed","at":"2026-11-27T10:00:00+08:00","streamer":"s9","agency":"a7"})"
      "\n",
      4096, &rej);
  CHECK(r.rejected == 3);
  REQUIRE(rej.size() == 3);
  CHECK(rej[0].reason == "order o3: refund 100.02 exceeds the 100.01 not yet refunded");
  CHECK(rej[1].reason == "order o2 is already confirmed");
  CHECK(rej[2].reason == "agency a7 has no contract; record agency.contracted first");
  CHECK(digest(**ledger) == before);
  CHECK((*ledger)->head_hash() == head);
}

TEST_CASE("the projection is the same however the events were batched, and equals a replay") {
  TempDir dir;
  const std::string events = sample_events();
  std::string one_by_one, all_at_once;
  {
    auto ledger = Ledger::open(dir / "a", Ledger::Access::kWrite);
    REQUIRE(ledger.ok());
    append(**ledger, events, /*batch=*/1);
    one_by_one = digest(**ledger);
  }
  {
    auto ledger = Ledger::open(dir / "b", Ledger::Access::kWrite);
    REQUIRE(ledger.ok());
    append(**ledger, events);
    all_at_once = digest(**ledger);
    CHECK(engine::with_scratch_replay(**ledger, (*ledger)->head_seq(),
                                      [&](Ledger& scratch, const engine::RebuildReport& rep) {
                                        CHECK(rep.events == (*ledger)->head_seq());
                                        return engine::compare_projections(**ledger, scratch);
                                      })
              .ok());
    // Rebuilding in place gives the same projection again.
    auto rebuilt = engine::rebuild_projection(**ledger, **ledger, (*ledger)->head_seq());
    REQUIRE(rebuilt.ok());
    CHECK(digest(**ledger) == all_at_once);
  }
  CHECK(one_by_one == all_at_once);
}

TEST_CASE(
    "with rules: one by one, in batches, all at once, rules published before or after: one projection") {
  TempDir dir;
  const std::string rules = default_rules();
  auto publish = [&](Ledger& l) {
    std::string diagnostics;
    auto r =
        engine::publish_rules(l, rules, "taobao-live.rules", t("2026-11-27T00:00:00+08:00"), &diagnostics);
    const std::string why = r.ok() ? std::string() : std::string(r.message()) + diagnostics;
    REQUIRE_MESSAGE(r.ok(), why);
    return *r;
  };
  // Two event sets: the hand-written sample month (every event type) and a generated stream long enough
  // to cross journal buckets (4096 sequence numbers) inside batches and at batch edges.
  std::ostringstream generated;
  generate_events(GenOptions{6000, 7, 20}, generated);
  for (const std::string& events : {sample_events(), generated.str()}) {
    CAPTURE(events.size());
    std::string reference_digest, reference_dump;
    for (std::size_t batch : {std::size_t{4096}, std::size_t{1}, std::size_t{7}, std::size_t{1000}}) {
      if (batch == 1 && events.size() > 100000) continue;  // one by one: the sample only, for time
      CAPTURE(batch);
      auto ledger =
          Ledger::open(dir / fmt::format("first-{}-{}", events.size(), batch), Ledger::Access::kWrite);
      REQUIRE(ledger.ok());
      publish(**ledger);
      const AppendReport rep = append(**ledger, events, batch);
      // "For event sets that no require rejects either way": this one is such a set.
      REQUIRE(rep.rejected == 0);
      CHECK(engine::check_book(**ledger).ok());
      const std::string d = digest(**ledger);
      auto dump = engine::projection_dump(**ledger);
      REQUIRE_MESSAGE(dump.ok(), dump.message());
      if (reference_digest.empty()) {
        reference_digest = d;
        reference_dump = *dump;
      }
      CHECK(d == reference_digest);
      CHECK(*dump == reference_dump);
    }
    // The rules published after the events: every sequence number moves by one, so the stored projection
    // differs where it names them; with sequence numbers read as event ids it is identical.
    auto ledger = Ledger::open(dir / fmt::format("after-{}", events.size()), Ledger::Access::kWrite);
    REQUIRE(ledger.ok());
    const AppendReport rep = append(**ledger, events);
    REQUIRE(rep.rejected == 0);
    const engine::PublishReport pub = publish(**ledger);
    CHECK(pub.seq == (*ledger)->head_seq());
    CHECK(pub.reevaluated > 0);
    CHECK(engine::check_book(**ledger).ok());
    auto dump = engine::projection_dump(**ledger);
    REQUIRE_MESSAGE(dump.ok(), dump.message());
    CHECK(*dump == reference_dump);
    CHECK(dump->find("posting ") != std::string::npos);  // the comparison covered real postings
  }
}

TEST_CASE("an interrupted rebuild is refused by queries and finished by the next writer") {
  TempDir dir;
  auto ledger = Ledger::open(dir / "db", Ledger::Access::kWrite);
  REQUIRE(ledger.ok());
  append(**ledger, sample_events());
  const std::string full = digest(**ledger);
  // Simulate a crash right after a rebuild cleared the projection.
  auto partial = engine::rebuild_projection(**ledger, **ledger, 10);
  REQUIRE(partial.ok());
  auto refused = engine::balances(**ledger, "", std::nullopt, 0);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.message() ==
        "the projection covers events 1..10 of 34: a rebuild was interrupted; run 'fenzhang replay' to "
        "finish it");
  auto caught = engine::catch_up_projection(**ledger, **ledger, (*ledger)->head_seq());
  REQUIRE(caught.ok());
  CHECK(digest(**ledger) == full);
}

namespace {

// Every key and value of one column family, keys for which keep(key) holds.
std::map<std::string, std::string> cf_contents(const Ledger& l, Family family,
                                               const std::function<bool(std::string_view)>& keep) {
  std::map<std::string, std::string> out;
  ProjectionCursor it = l.cursor(family);
  for (it.seek_to_first(); it.valid(); it.next()) {
    if (keep(it.key())) out.emplace(it.key(), it.value());
  }
  REQUIRE(it.status("reading the projection").ok());
  return out;
}

}  // namespace

TEST_CASE("an evaluation-only rebuild (what-if) keeps a full replay's balances, entities and targets") {
  TempDir dir;
  auto ledger = Ledger::open(dir / "db", Ledger::Access::kWrite);
  REQUIRE(ledger.ok());
  const std::string rules = default_rules();
  std::string diagnostics;
  REQUIRE(engine::publish_rules(**ledger, rules, "taobao-live.rules", t("2026-11-27T00:00:00+08:00"),
                                &diagnostics)
              .ok());
  std::ostringstream generated;
  generate_events(GenOptions{6000, 3, 20}, generated);
  REQUIRE(append(**ledger, generated.str()).rejected == 0);

  auto full = Ledger::open(dir / "full", Ledger::Access::kScratch);
  auto eval = Ledger::open(dir / "eval", Ledger::Access::kScratch);
  REQUIRE(full.ok());
  REQUIRE(eval.ok());
  const std::uint64_t head = (*ledger)->head_seq();
  auto a = engine::rebuild_projection(**ledger, **full, head, {}, nullptr, engine::Engine::Mode::kReplay);
  auto b = engine::rebuild_projection(**ledger, **eval, head, {}, nullptr, engine::Engine::Mode::kEvaluate);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->events == b->events);
  CHECK(a->postings == b->postings);
  CHECK(a->postings > 1000);
  auto all = [](std::string_view) { return true; };
  auto not_journal = [](std::string_view k) { return !k.starts_with(engine::pformat::kJournal); };
  for (Family family : {Family::kEntities, Family::kTargets})
    CHECK(cf_contents(**full, family, all) == cf_contents(**eval, family, all));
  // Totals and availability schedules are identical; only the journal index and the postings are absent.
  CHECK(cf_contents(**full, Family::kAccounts, not_journal) == cf_contents(**eval, Family::kAccounts, all));
  CHECK(!cf_contents(**full, Family::kAccounts, all).empty());
  CHECK(cf_contents(**eval, Family::kPostings, all).empty());
  CHECK(!cf_contents(**full, Family::kPostings, all).empty());
  // And the stored projection equals the full replay (the ledger's own projection was built at append).
  CHECK(engine::compare_projections(**ledger, **full).ok());
}

namespace {

// The Engine as `fenzhang append` drives it, except that the checkpoint at the end of the append is never
// asked for: the state a SIGKILL after the last mid-append checkpoint leaves behind.
class NoFinalCheckpoint final : public Projector {
 public:
  explicit NoFinalCheckpoint(engine::Engine& e) : e_(e) {}
  Status apply(const Event& event, std::uint64_t seq) override { return e_.apply(event, seq); }
  Status flush(ProjectionBatch& batch) override { return e_.flush(batch); }
  void committed() override { e_.committed(); }
  void discard() override { e_.discard(); }
  bool write_back() const override { return e_.write_back(); }

 private:
  engine::Engine& e_;
};

}  // namespace

TEST_CASE(
    "write-back: between checkpoints a batch carries only its events, and readers answer as of the "
    "checkpoint") {
  TempDir dir;
  const std::string rules = default_rules();
  std::ostringstream generated;
  generate_events(GenOptions{6000, 5, 20}, generated);
  std::string diagnostics;
  const TimeUs published_at = t("2026-11-27T00:00:00+08:00");

  // The reference: the projection written with every batch.
  std::string reference;
  {
    auto ledger = Ledger::open(dir / "every-batch", Ledger::Access::kWrite);
    REQUIRE(ledger.ok());
    REQUIRE(engine::publish_rules(**ledger, rules, "r.rules", published_at, &diagnostics).ok());
    REQUIRE(append(**ledger, generated.str(), 512).rejected == 0);
    reference = digest(**ledger);
  }
  const std::string db = dir / "write-back";
  std::uint64_t log_head = 0;
  {
    auto ledger = Ledger::open(db, Ledger::Access::kWrite);
    REQUIRE(ledger.ok());
    REQUIRE(engine::publish_rules(**ledger, rules, "r.rules", published_at, &diagnostics).ok());
    const std::uint64_t published_seq = (*ledger)->head_seq();
    auto eng = engine::Engine::for_append(**ledger);
    REQUIRE(eng.ok());
    (*eng)->set_checkpoint_interval(2500);
    NoFinalCheckpoint no_final(**eng);
    std::istringstream in(generated.str());
    AppendOptions opts;
    opts.batch_events = 512;
    auto r = run_append(**ledger, &no_final, {{"in", &in}}, opts, [](const LineRejection&) {});
    REQUIRE_MESSAGE(r.ok(), r.message());
    REQUIRE(r->appended == 6000);
    log_head = (*ledger)->head_seq();
    // Checkpoints at the first batch edges past 2,500 and 5,000 events after the last one: 2,560 and 5,120.
    CHECK(engine::read_projection_head(**ledger).value() == published_seq + 5120);
    CHECK(!engine::check_projection_current(**ledger).ok());
  }
  const std::uint64_t checkpoint =
      engine::read_projection_head(**Ledger::open(db, Ledger::Access::kRead)).value();
  {
    // A reader answers as of the checkpoint, and what it sees is the replay of exactly those events.
    auto reader = engine::open_for_queries(db);
    REQUIRE_MESSAGE(reader.ok(), reader.message());
    CHECK((*reader)->head_seq() == checkpoint);
    CHECK((*reader)->log_head_seq() == log_head);
    CHECK(engine::check_projection_current(**reader).ok());
    CHECK(engine::check_book(**reader).ok());
    CHECK(
        engine::with_scratch_replay(**reader, checkpoint, [&](Ledger& scratch, const engine::RebuildReport&) {
          return engine::compare_projections(**reader, scratch);
        }).ok());
    CHECK(engine::balances(**reader, "@*", std::nullopt, published_at).ok());
    // An event after the checkpoint is in the log but not explained yet.
    auto last = (*reader)->read(log_head);
    REQUIRE(last.ok());
    auto x = engine::explain(**reader, last->event.id);
    REQUIRE(!x.ok());
    CHECK(x.message().find("after the projection's checkpoint") != std::string::npos);
  }
  {
    // The next writer replays the events after the checkpoint: the projection of every batch, exactly.
    auto ledger = Ledger::open(db, Ledger::Access::kWrite);
    REQUIRE(ledger.ok());
    REQUIRE(engine::catch_up_projection(**ledger, **ledger, (*ledger)->head_seq()).ok());
    CHECK(engine::check_projection_current(**ledger).ok());
    CHECK(digest(**ledger) == reference);
  }
  {
    // And an append that ends normally writes its last checkpoint: the projection covers the whole log.
    auto ledger = Ledger::open(dir / "ends", Ledger::Access::kWrite);
    REQUIRE(ledger.ok());
    REQUIRE(engine::publish_rules(**ledger, rules, "r.rules", published_at, &diagnostics).ok());
    auto eng = engine::Engine::for_append(**ledger);
    REQUIRE(eng.ok());
    (*eng)->set_checkpoint_interval(2500);
    std::istringstream in(generated.str());
    AppendOptions opts;
    opts.batch_events = 512;
    auto r = run_append(**ledger, eng->get(), {{"in", &in}}, opts, [](const LineRejection&) {});
    REQUIRE_MESSAGE(r.ok(), r.message());
    CHECK(engine::check_projection_current(**ledger).ok());
    CHECK(digest(**ledger) == reference);
  }
}

TEST_CASE("property: a checkpoint at any seq plus the replay of the tail equals the full replay") {
  // On generated ledgers (several seeds and sizes): the log's first `cut` events are appended and
  // checkpointed, the rest appended with no checkpoint after them (as a SIGKILL would leave it). Then
  // (1) the stored projection is the replay of exactly events 1..cut, and (2) a writer's catch-up from
  // that checkpoint gives, byte for byte, the projection dump of a ledger appended in one go.
  TempDir dir;
  const std::string rules = default_rules();
  const TimeUs published_at = t("2026-11-27T00:00:00+08:00");
  auto fresh = [&](const std::string& name) {
    auto ledger = Ledger::open(dir / name, Ledger::Access::kWrite);
    REQUIRE(ledger.ok());
    std::string diagnostics;
    REQUIRE(engine::publish_rules(**ledger, rules, "r.rules", published_at, &diagnostics).ok());
    return std::move(*ledger);
  };
  auto lines_of = [](const std::string& text, std::size_t from, std::size_t to) {
    std::string out;
    std::istringstream in(text);
    std::string line;
    for (std::size_t i = 0; std::getline(in, line); ++i) {
      if (i >= from && i < to) out += line + "\n";
    }
    return out;
  };
  std::uint64_t rng = 0x9e3779b97f4a7c15ULL;  // fixed: the same cuts every run
  auto next = [&](std::uint64_t bound) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng % bound;
  };
  int cases = 0;
  for (std::uint64_t seed : {3u, 11u, 29u}) {
    const std::size_t n = 1500 + static_cast<std::size_t>(next(2500));
    std::ostringstream generated;
    generate_events(GenOptions{n, seed, static_cast<std::uint32_t>(5 + next(40))}, generated);
    const std::string events = generated.str();
    const std::size_t lines = static_cast<std::size_t>(std::count(events.begin(), events.end(), '\n'));
    std::string reference;
    {
      auto ledger = fresh(fmt::format("ref-{}", seed));
      REQUIRE(append(*ledger, events).rejected == 0);
      auto dump = engine::projection_dump(*ledger);
      REQUIRE_MESSAGE(dump.ok(), dump.message());
      reference = *dump;
    }
    // The edges (the first event, the last) and random cuts between.
    std::vector<std::size_t> cuts = {1, lines - 1};
    for (int k = 0; k < 3; ++k) cuts.push_back(1 + static_cast<std::size_t>(next(lines - 1)));
    for (std::size_t cut : cuts) {
      CAPTURE(seed);
      CAPTURE(cut);
      const std::string name = fmt::format("cut-{}-{}", seed, cut);
      std::uint64_t checkpoint = 0;
      {
        auto ledger = fresh(name);
        REQUIRE(append(*ledger, lines_of(events, 0, cut)).rejected == 0);
        checkpoint = engine::read_projection_head(*ledger).value();
        REQUIRE(checkpoint == ledger->head_seq());
        auto eng = engine::Engine::for_append(*ledger);
        REQUIRE(eng.ok());
        (*eng)->set_checkpoint_interval(std::uint64_t{1} << 40);  // none in the tail
        NoFinalCheckpoint no_final(**eng);
        std::istringstream in(lines_of(events, cut, lines));
        AppendOptions opts;
        opts.batch_events = 1 + static_cast<std::size_t>(next(700));
        auto r = run_append(*ledger, &no_final, {{"in", &in}}, opts, [](const LineRejection&) {});
        REQUIRE_MESSAGE(r.ok(), r.message());
        REQUIRE(r->rejected == 0);
        CHECK(engine::read_projection_head(*ledger).value() == checkpoint);
      }
      {
        auto reader = engine::open_for_queries(dir / name);
        REQUIRE_MESSAGE(reader.ok(), reader.message());
        CHECK(engine::with_scratch_replay(**reader, checkpoint,
                                          [&](Ledger& scratch, const engine::RebuildReport&) {
                                            return engine::compare_projections(**reader, scratch);
                                          })
                  .ok());
      }
      auto ledger = Ledger::open(dir / name, Ledger::Access::kWrite);
      REQUIRE(ledger.ok());
      REQUIRE(engine::catch_up_projection(**ledger, **ledger, (*ledger)->head_seq()).ok());
      auto dump = engine::projection_dump(**ledger);
      REQUIRE_MESSAGE(dump.ok(), dump.message());
      CHECK(*dump == reference);
      ++cases;
    }
  }
  CHECK(cases == 15);
}

TEST_CASE("the hot window's size changes what is read back, never the projection") {
  // A generated ledger appended with write-back checkpoints and hot windows from 1 entity up: the clean
  // entities, targets and accounts past the window are dropped and read back from the last checkpoint
  // when next needed. The projection dump must equal, byte for byte, that of the default engine writing
  // its projection with every batch.
  TempDir dir;
  const std::string rules = default_rules();
  std::ostringstream generated;
  generate_events(GenOptions{3000, 17, 12}, generated);
  auto fresh = [&](const std::string& name) {
    auto ledger = Ledger::open(dir / name, Ledger::Access::kWrite);
    REQUIRE(ledger.ok());
    std::string diagnostics;
    REQUIRE(
        engine::publish_rules(**ledger, rules, "r.rules", t("2026-11-27T00:00:00+08:00"), &diagnostics).ok());
    return std::move(*ledger);
  };
  std::string reference;
  {
    auto ledger = fresh("ref");
    REQUIRE(append(*ledger, generated.str()).rejected == 0);
    reference = engine::projection_dump(*ledger).value();
  }
  for (std::size_t hot :
       {std::size_t{1}, std::size_t{7}, std::size_t{200}, engine::Engine::kDefaultHotEntries}) {
    CAPTURE(hot);
    auto ledger = fresh(fmt::format("hot-{}", hot));
    auto eng = engine::Engine::for_append(*ledger);
    REQUIRE(eng.ok());
    (*eng)->set_checkpoint_interval(250);
    (*eng)->set_hot_entries(hot);
    std::istringstream in(generated.str());
    AppendOptions opts;
    opts.batch_events = 100;
    auto r = run_append(*ledger, eng->get(), {{"in", &in}}, opts, [](const LineRejection&) {});
    REQUIRE_MESSAGE(r.ok(), r.message());
    CHECK(r->rejected == 0);
    CHECK(engine::projection_dump(*ledger).value() == reference);
  }
}

TEST_CASE("read-ahead: an append decides every line as it does without reading ahead") {
  // The parsing thread reads, a chunk of lines ahead, whether ids are in the log and the orders and
  // targets the events will read; by the time a line is staged, batches written since may hold its id
  // and the engine may have written and dropped those records. The input repeats lines at distances
  // inside a chunk and across chunks (duplicates), reuses ids for other events (conflicts) and pays
  // orders twice under new ids (engine rejections); tiny batches overflow the Appender's memory of
  // recent batches, a tiny hot window and checkpoint interval make the engine drop records all the time.
  TempDir dir;
  const std::string rules = default_rules();
  const TimeUs published_at = t("2026-11-27T00:00:00+08:00");
  std::ostringstream generated;
  generate_events(GenOptions{10000, 3, 30}, generated);
  std::vector<std::string> lines;
  {
    std::istringstream in(generated.str());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  std::string input;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    input += lines[i] + "\n";
    for (const std::size_t back : {std::size_t{5}, std::size_t{700}, std::size_t{4500}, std::size_t{5200}}) {
      if (i < back || i % 61 != back % 61) continue;
      const std::string& old = lines[i - back];
      input += old + "\n";  // a duplicate
      if (const auto at = old.find("\"at\":\"2026-"); at != std::string::npos && i % 2 == 0) {
        std::string other = old;
        char& second = other[at + 6 + 17];   // the tens of the event time's seconds
        second = second == '0' ? '1' : '0';  // same id, another time: a conflict
        input += other + "\n";
      }
      if (old.find("\"order.paid\"") != std::string::npos) {
        std::string again = old;
        again.replace(again.find("\"id\":\"") + 6, 0, "again-");  // a new id paying a paid order
        input += again + "\n";
      }
    }
  }
  struct Outcome {
    AppendReport report;
    std::vector<std::string> rejections;
    std::string digest;
  };
  auto run = [&](const std::string& name, bool read_ahead, std::size_t batch) {
    auto ledger = Ledger::open(dir / name, Ledger::Access::kWrite);
    REQUIRE(ledger.ok());
    std::string diagnostics;
    REQUIRE(engine::publish_rules(**ledger, rules, "r.rules", published_at, &diagnostics).ok());
    auto eng = engine::Engine::for_append(**ledger);
    REQUIRE(eng.ok());
    (*eng)->set_checkpoint_interval(1000);
    (*eng)->set_hot_entries(64);
    std::istringstream in(input);
    AppendOptions opts;
    opts.batch_events = batch;
    opts.read_ahead = read_ahead ? AppendOptions::ReadAhead::kAlways : AppendOptions::ReadAhead::kNever;
    Outcome out;
    auto r = run_append(**ledger, eng->get(), {{"in", &in}}, opts, [&](const LineRejection& lr) {
      out.rejections.push_back(fmt::format("{}: {}", lr.line, lr.reason));
    });
    REQUIRE_MESSAGE(r.ok(), r.message());
    out.report = *r;
    out.digest = digest(**ledger);
    if (read_ahead) {
      // The read-ahead was used (not only read), for ids and for the engine's records; with tiny
      // batches most of it is older than the batches the Appender remembers, and read again.
      CHECK(r->ids_read_ahead > (batch >= 512 ? 5000 : 0));
      CHECK((*eng)->read_ahead_taken() > 100);
    }
    // The stored projection is the replay of the log.
    CHECK(engine::with_scratch_replay(**ledger, (*ledger)->head_seq(),
                                      [&](Ledger& scratch, const engine::RebuildReport&) {
                                        return engine::compare_projections(**ledger, scratch);
                                      })
              .ok());
    return out;
  };
  for (const std::size_t batch : {std::size_t{512}, std::size_t{7}}) {
    CAPTURE(batch);
    const Outcome without = run(fmt::format("without-{}", batch), false, batch);
    const Outcome with = run(fmt::format("with-{}", batch), true, batch);
    CHECK(without.report.appended == 10000);
    CHECK(without.report.duplicates > 100);
    CHECK(without.rejections.size() > 100);
    CHECK(std::any_of(without.rejections.begin(), without.rejections.end(),
                      [](const std::string& r) { return r.find("already paid") != std::string::npos; }));
    CHECK(std::any_of(without.rejections.begin(), without.rejections.end(),
                      [](const std::string& r) { return r.find("conflict") != std::string::npos; }));
    CHECK(with.report.appended == without.report.appended);
    CHECK(with.report.duplicates == without.report.duplicates);
    CHECK(with.report.rejected == without.report.rejected);
    CHECK(with.rejections == without.rejections);
    CHECK(with.digest == without.digest);
  }
}

TEST_CASE("read-ahead: a replay and a what-if with a tiny hot window rebuild what they rebuild without") {
  // A rebuild decodes the log on a second thread, which reads ahead the orders and targets the events
  // will read while the engine, a few chunks behind, writes checkpoints and drops records (a hot window
  // of 64, a checkpoint every 500 events): what was read ahead is often stale by the time it is used.
  TempDir dir;
  auto ledger = ledger_with_default_rules(dir);
  // The generator confirms or refunds an order a few hundred events after paying it; moved 6,000 events
  // later here, each order is read ahead (and is written and dropped) a chunk or more before it is read.
  std::ostringstream generated;
  generate_events(GenOptions{20000, 5, 40}, generated);
  std::string input;
  {
    std::istringstream in(generated.str());
    std::deque<std::pair<std::size_t, std::string>> delayed;
    std::size_t i = 0;
    for (std::string line; std::getline(in, line); ++i) {
      for (; !delayed.empty() && delayed.front().first <= i; delayed.pop_front())
        input += delayed.front().second + "\n";
      const bool follow_up = line.find("\"type\":\"order.confirmed\"") != std::string::npos ||
                             line.find("\"type\":\"order.refunded\"") != std::string::npos;
      if (follow_up) {
        delayed.emplace_back(i + 6000, line);
      } else {
        input += line + "\n";
      }
    }
    for (const auto& [at, line] : delayed) input += line + "\n";
  }
  REQUIRE(append(*ledger, input).appended > 19000);
  const std::uint64_t head = ledger->head_seq();
  std::string whatif_rules = default_rules();
  const auto share = whatif_rules.find("let agency_share = 20%");
  REQUIRE(share != std::string::npos);
  whatif_rules.replace(share, 22, "let agency_share = 25%");
  auto compiled = dsl::compile_rules(whatif_rules, "w.rules");
  REQUIRE(compiled.ruleset);
  std::vector<engine::PublishedVersion> extra{{head + 1, sha256_hex(whatif_rules), *compiled.ruleset}};

  auto rebuild = [&](const std::string& name, engine::Engine::Mode mode, std::size_t hot) {
    auto scratch = Ledger::open(dir / name, Ledger::Access::kScratch);
    REQUIRE(scratch.ok());
    const auto* versions = mode == engine::Engine::Mode::kEvaluate ? &extra : nullptr;
    auto r = engine::rebuild_projection(*ledger, **scratch, head, {}, versions, mode,
                                        engine::RebuildTuning{hot, hot < 1000 ? 500 : 1U << 16});
    REQUIRE_MESSAGE(r.ok(), r.message());
    CHECK(r->events == head);
    // The read-ahead was used, not only read.
    CHECK(r->read_ahead_taken > (hot < 1000 ? 1000 : 10000));
    return std::move(*scratch);
  };
  // A replay equals the projection the append stored.
  auto replayed = rebuild("replay", engine::Engine::Mode::kReplay, 64);
  CHECK(engine::compare_projections(*ledger, *replayed).ok());
  // A what-if's balances equal those of the same what-if with the default hot window.
  auto tiny = rebuild("whatif-tiny", engine::Engine::Mode::kEvaluate, 64);
  auto roomy = rebuild("whatif-roomy", engine::Engine::Mode::kEvaluate, engine::Engine::kDefaultHotEntries);
  CHECK(engine::compare_projections(*roomy, *tiny).ok());
  const auto now = t("2027-06-01T00:00:00+08:00");
  const auto before = engine::balances(*ledger, "", std::nullopt, now).value();
  const auto after = engine::balances(*tiny, "", std::nullopt, now, /*scratch=*/true).value();
  CHECK(before.size() == after.size());
  CHECK_FALSE(std::equal(before.begin(), before.end(), after.begin(), after.end(),
                         [](const auto& a, const auto& b) { return a.total_fen == b.total_fen; }));
}

TEST_CASE("a rebuild stops at an undecodable event of the log and names it, wherever it lies") {
  // The log is decoded on a second thread, chunks ahead of the engine: a damaged event must still end the
  // rebuild with its seq (not hang, not be skipped), whether it lies in the first chunk or later.
  TempDir dir;
  auto ledger = ledger_with_default_rules(dir);
  std::ostringstream generated;
  generate_events(GenOptions{20000, 7, 40}, generated);
  REQUIRE(append(*ledger, generated.str()).appended == 20000);
  for (const std::uint64_t bad : {std::uint64_t{3}, std::uint64_t{9000}, std::uint64_t{20001}}) {
    CAPTURE(bad);
    const std::string good = ledger->raw_event(bad).value().value();
    std::string damaged = good;
    damaged[1] = static_cast<char>(0x7f);  // the record's event type byte: no such type
    rocksdb::WriteOptions wo;
    auto* db = LedgerInternals::db(*ledger);
    REQUIRE(db->Put(wo, LedgerInternals::cf(*ledger, Cf::kEvents), format::seq_key(bad), damaged).ok());
    auto scratch = Ledger::open(dir / fmt::format("scratch-{}", bad), Ledger::Access::kScratch);
    REQUIRE(scratch.ok());
    auto r = engine::rebuild_projection(*ledger, **scratch, ledger->head_seq());
    REQUIRE_FALSE(r.ok());
    CHECK(r.message().find(fmt::format("event {}", bad)) != std::string::npos);
    REQUIRE(db->Put(wo, LedgerInternals::cf(*ledger, Cf::kEvents), format::seq_key(bad), good).ok());
  }
  // Repaired, the log rebuilds into the projection the append stored.
  auto scratch = Ledger::open(dir / "scratch-good", Ledger::Access::kScratch);
  REQUIRE(scratch.ok());
  REQUIRE(engine::rebuild_projection(*ledger, **scratch, ledger->head_seq()).ok());
  CHECK(engine::compare_projections(*ledger, **scratch).ok());
}
