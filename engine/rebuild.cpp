#include "engine/rebuild.hpp"

#include <openssl/evp.h>

#include <fmt/format.h>

#include <unistd.h>

#include <filesystem>
#include <future>
#include <memory>
#include <random>
#include <span>
#include <thread>

#include "core/bounded_queue.hpp"
#include "core/bytes.hpp"
#include "core/money.hpp"
#include "engine/account_book.hpp"
#include "engine/book.hpp"
#include "engine/engine.hpp"
#include "engine/projection_format.hpp"

namespace fz::engine {
namespace {

constexpr Family kProjectionData[] = {Family::kEntities, Family::kAccounts, Family::kPostings,
                                      Family::kTargets};
constexpr std::size_t kRebuildBatch = 4096;
// The log is decoded on a second thread, at most this many chunks of this many events ahead.
constexpr std::size_t kEventsPerChunk = 4096;
constexpr std::size_t kChunksAhead = 4;

// Events decoded on the decoding thread, with the projection records applying them will read, read
// ahead there too (Engine::read_ahead_plan; the same dating as an append's, see docs/storage.md).
struct LogChunk {
  std::vector<std::pair<std::uint64_t, Event>> events;  // seq, event
  ReadAheadChunk ahead;                                 // item i: events[i]
  Status status;  // not ok: the log could not be read after these events (nothing follows)
};

void read_ahead(const Ledger& target, const ReadAheadPlan& plan, LogChunk& chunk) {
  if (!plan) return;
  chunk.ahead.ends.reserve(chunk.events.size());
  for (const auto& [seq, event] : chunk.events) {
    plan.keys(event, &chunk.ahead.records);
    chunk.ahead.end_item();
  }
  chunk.ahead.read(target, plan);
}

// The decoding thread: events first..last of `source` into the queue, then finish() (also when the
// engine closed the queue, which stops the scan).
void decode_log(const Ledger& source, const Ledger& target, std::uint64_t first_seq, std::uint64_t last_seq,
                const ReadAheadPlan& plan, BoundedQueue<LogChunk>& queue) {
  disable_rocksdb_perf_counters();
  LogChunk chunk;
  chunk.events.reserve(kEventsPerChunk);
  StoredEvent se;
  bool closed = false;
  Status scanned =
      source.scan_stored(first_seq, last_seq, [&](std::uint64_t seq, std::string_view value) -> Status {
        FZ_TRY(decode_stored(seq, value, &se));
        chunk.events.emplace_back(seq, std::move(se.event));
        if (chunk.events.size() < kEventsPerChunk) return Status::Ok();
        read_ahead(target, plan, chunk);
        (void)queue.take_back();  // chunks the engine is done with, freed here
        closed = !queue.push(std::move(chunk));
        chunk = LogChunk{};
        chunk.events.reserve(kEventsPerChunk);
        return closed ? Status(make_error("the replay stopped")) : Status::Ok();
      });
  if (!closed) {
    chunk.status = std::move(scanned);
    read_ahead(target, plan, chunk);
    (void)queue.push(std::move(chunk));
  }
  queue.finish();
}

// Meta keys that belong to the projection.
bool is_projection_meta(std::string_view key) {
  return key == pformat::kProjectionHead || key.starts_with(pformat::kVersionPrefix);
}

}  // namespace

Status clear_projection(Ledger& target) {
  ProjectionBatch clear(target);
  for (Family family : kProjectionData) clear.erase_all(family);
  clear.erase_meta_range(pformat::kVersionPrefix,
                         std::string(pformat::kVersionPrefix) + std::string(16, '\xff'));
  clear.put(Family::kMeta, pformat::kProjectionHead, format::seq_key(0));
  return target.write(clear);
}

namespace {

// catch_up_projection with the versions already loaded.
Result<RebuildReport> catch_up_with(const Ledger& source, Ledger& target, std::uint64_t until_seq,
                                    const std::function<void(std::uint64_t)>& progress,
                                    const std::vector<PublishedVersion>* extra, Engine::Mode mode,
                                    const RebuildTuning& tuning, Versions versions) {
  if (extra != nullptr) {
    for (const PublishedVersion& v : *extra) versions.add(v);
  }
  Engine engine(target, std::move(versions), mode);
  engine.set_hot_entries(tuning.hot_entries);
  // Write-back, as append: the projection is written as a checkpoint every so many events and at the
  // end, not with every batch (a kill loses only the work since the last checkpoint: the next writer
  // catches up from there). Batches still bound how far evaluation runs ahead of the write.
  engine.set_checkpoint_interval(tuning.checkpoint_events);
  RebuildReport report;
  report.events = engine.projection_head();
  if (report.events >= until_seq) {
    if (&source == &target && report.events == source.head_seq()) FZ_TRY(target.remove_reader_snapshot());
    return report;
  }
  // One batch is written on a worker thread while the engine evaluates the next (at most one in flight).
  ProjectionBatch batch(target), writing(target);
  std::future<Status> inflight;
  std::size_t pending = 0;
  auto wait = [&]() -> Status {
    if (!inflight.valid()) return Status::Ok();
    FZ_TRY(inflight.get());
    engine.committed();
    return Status::Ok();
  };
  auto commit = [&](bool last) -> Status {
    FZ_TRY(wait());
    if (last) (void)engine.request_checkpoint();  // false: nothing left to write
    FZ_TRY(engine.flush(batch));
    if (batch.empty()) {  // between checkpoints
      engine.committed();
      pending = 0;
      if (progress) progress(report.events);
      return Status::Ok();
    }
    swap(batch, writing);
    batch.clear();
    inflight = std::async(std::launch::async, [&target, &writing] {
      disable_rocksdb_perf_counters();
      return target.write_projection(writing);
    });
    pending = 0;
    if (progress) progress(report.events);
    return Status::Ok();
  };
  auto apply_one = [&](std::uint64_t seq, const Event& event) -> Status {
    if (Status s = engine.apply(event, seq); !s.ok()) {
      // Preconditions depend only on the log, so an event accepted at append is accepted again.
      return make_error(fmt::format("seq {} ({}): replay refused an event the log accepted: {}", seq,
                                    event.id, s.message()));
    }
    report.events = seq;
    report.postings += engine.last_posting_count();
    if (++pending == kRebuildBatch) return commit(false);
    return Status::Ok();
  };
  // Decoding and reading ahead on a second thread, applying here.
  BoundedQueue<LogChunk> queue(kChunksAhead);
  const ReadAheadPlan plan = engine.read_ahead_plan();
  std::thread decoder([&, first_seq = engine.projection_head() + 1] {
    decode_log(source, target, first_seq, until_seq, plan, queue);
  });
  Status scanned;
  while (scanned.ok()) {
    std::optional<LogChunk> chunk = queue.pop();
    if (!chunk) break;
    for (std::size_t i = 0; i < chunk->events.size() && scanned.ok(); ++i) {
      engine.read_ahead(chunk->ahead.of(i), chunk->ahead.epoch);
      scanned = apply_one(chunk->events[i].first, chunk->events[i].second);
    }
    if (scanned.ok()) scanned = std::move(chunk->status);
    queue.give_back(std::move(*chunk));  // freed on the decoding thread
  }
  queue.close();  // the decoder stops at its next chunk
  decoder.join();
  if (scanned.ok()) scanned = commit(true);
  // Never leave a write running past this function: it uses `writing` and the target.
  if (Status w = wait(); scanned.ok()) scanned = w;
  FZ_TRY(scanned);
  // The projection covers the log again: readers no longer need the snapshot.
  if (&source == &target && report.events == source.head_seq()) FZ_TRY(target.remove_reader_snapshot());
  report.issues = engine.issues();
  report.issue_count = engine.issue_count();
  report.governed = engine.governed();
  report.read_ahead_taken = engine.read_ahead_taken();
  return report;
}

}  // namespace

Result<RebuildReport> rebuild_projection(const Ledger& source, Ledger& target, std::uint64_t until_seq,
                                         const std::function<void(std::uint64_t)>& progress,
                                         const std::vector<PublishedVersion>* extra, Engine::Mode mode,
                                         const RebuildTuning& tuning) {
  // The versions first: while the projection is current its index names them; once it is cleared,
  // finding them means reading the whole log.
  auto versions = load_versions(source, until_seq);
  if (!versions) return versions.error();
  // Rebuilding in place: readers answer from a snapshot of the state before it until it is done.
  if (&source == &target) FZ_TRY(target.create_reader_snapshot());
  FZ_TRY(clear_projection(target));
  return catch_up_with(source, target, until_seq, progress, extra, mode, tuning, std::move(*versions));
}

Result<RebuildReport> catch_up_projection(const Ledger& source, Ledger& target, std::uint64_t until_seq,
                                          const std::function<void(std::uint64_t)>& progress,
                                          const std::vector<PublishedVersion>* extra, Engine::Mode mode,
                                          const RebuildTuning& tuning) {
  auto versions = load_versions(source, until_seq);
  if (!versions) return versions.error();
  return catch_up_with(source, target, until_seq, progress, extra, mode, tuning, std::move(*versions));
}

Status with_scratch_replay(const Ledger& source, std::uint64_t until_seq,
                           const std::function<Status(Ledger& scratch, const RebuildReport&)>& fn,
                           const std::vector<PublishedVersion>* extra,
                           const std::function<void(std::uint64_t)>& progress, Engine::Mode mode) {
  std::error_code ec;
  const auto dir = std::filesystem::temp_directory_path(ec) /
                   fmt::format("fenzhang-replay-{}-{}", ::getpid(), std::random_device{}());
  if (ec) return make_error("no temporary directory for the replay: " + ec.message());
  Status result;
  {
    auto scratch = Ledger::open(dir.string(), Ledger::Access::kScratch);
    if (!scratch) {
      result = scratch.error();
    } else {
      auto report = rebuild_projection(source, **scratch, until_seq, progress, extra, mode);
      result = report ? fn(**scratch, *report) : Status(report.error());
    }
  }
  std::filesystem::remove_all(dir, ec);
  return result;
}

std::function<Result<format::Hash>()> projection_digest_now(const Ledger& ledger) {
  auto cursors = std::make_shared<std::vector<ProjectionCursor>>();
  for (Family family : kAllFamilies) cursors->push_back(ledger.cursor(family));
  return [cursors]() -> Result<format::Hash> {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (ctx == nullptr || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) std::abort();
    auto feed = [&](std::string_view bytes) {
      std::string len;
      bytes::put_uvar(len, bytes.size());
      EVP_DigestUpdate(ctx, len.data(), len.size());
      EVP_DigestUpdate(ctx, bytes.data(), bytes.size());
    };
    Status status;
    std::size_t i = 0;
    for (Family family : kAllFamilies) {
      feed(family_name(family));
      ProjectionCursor& it = (*cursors)[i++];
      for (it.seek_to_first(); it.valid(); it.next()) {
        if (family == Family::kMeta && !is_projection_meta(it.key())) continue;
        feed(it.key());
        feed(it.value());
      }
      if (Status s = it.status("cannot read the projection"); !s.ok()) status = s;
    }
    format::Hash out{};
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx, out.data(), &n);
    EVP_MD_CTX_free(ctx);
    cursors->clear();  // releases the state they hold
    if (!status.ok()) return status.error();
    return out;
  };
}

Result<format::Hash> projection_digest(const Ledger& ledger) {
  return projection_digest_now(ledger)();
}

Status check_book(const Ledger& ledger) {
  // Postings per event.
  Int128 ledger_sum = 0;
  {
    ProjectionCursor it = ledger.cursor(Family::kPostings);
    std::vector<Posting> ps;
    for (it.seek_to_first(); it.valid(); it.next()) {
      std::uint64_t seq = 0;
      (void)format::parse_seq_key(it.key(), &seq);
      if (!decode_postings(it.value(), &ps)) {
        return make_error(fmt::format("seq {}: stored postings are malformed", seq));
      }
      Int128 sum = 0;
      for (const Posting& p : ps) sum += p.amount_fen;
      if (sum != 0)
        return make_error(
            fmt::format("seq {}: postings sum to {} fen, not zero", seq, static_cast<std::int64_t>(sum)));
    }
    FZ_TRY(it.status("cannot read postings"));
  }
  // Balances against the journal index.
  ProjectionCursor it = ledger.cursor(Family::kAccounts);
  const std::string summary_prefix(1, pformat::kSummary);
  for (it.seek(summary_prefix); it.valid_in(summary_prefix); it.next()) {
    const std::string account(it.key().substr(1));
    auto stored = load_account(ledger, account);
    if (!stored) return stored.error();
    const AccountSummary& s = **stored;
    ledger_sum += s.total_fen;
    AccountSummary from_journal;
    FZ_TRY(for_each_journal_entry(ledger, account, [&](const JournalEntry& e) -> Status {
      if (!accumulate_fen(from_journal.total_fen, e.amount_fen) ||
          !accumulate_fen(from_journal.schedule[e.available_at], e.amount_fen)) {
        return make_error(fmt::format("journal of {} overflows", account));
      }
      return Status::Ok();
    }));
    if (from_journal.total_fen != s.total_fen || from_journal.schedule != s.schedule) {
      return make_error(fmt::format("balance of {} ({}) does not equal its journal ({})", account,
                                    format_money(s.total_fen), format_money(from_journal.total_fen)));
    }
  }
  FZ_TRY(it.status("cannot read balances"));
  if (ledger_sum != 0) {
    return make_error(
        fmt::format("the ledger sums to {} fen, not zero", static_cast<std::int64_t>(ledger_sum)));
  }
  return Status::Ok();
}

Status compare_projections(const Ledger& stored, const Ledger& rebuilt) {
  for (Family family : kAllFamilies) {
    ProjectionCursor a = stored.cursor(family);
    ProjectionCursor b = rebuilt.cursor(family);
    const std::string_view name = family_name(family);
    // A projection head of 0 says what a missing one says (nothing projected): a ledger whose every line
    // was rejected has none, while a replay of nothing writes 0.
    const std::string zero_head = format::seq_key(0);
    auto skip = [&](ProjectionCursor& it) {
      while (it.valid() && family == Family::kMeta) {
        const bool empty_head = it.key() == pformat::kProjectionHead && it.value() == zero_head;
        if (is_projection_meta(it.key()) && !empty_head) break;
        it.next();
      }
    };
    // A merge walk over the two sorted key sequences: on a key mismatch the smaller key is the one the
    // other side lacks, so that key is reported (advancing both sides would name a neighbour instead).
    a.seek_to_first();
    b.seek_to_first();
    for (skip(a), skip(b); a.valid() || b.valid(); a.next(), b.next(), skip(a), skip(b)) {
      if (!a.status({}).ok() || !b.status({}).ok()) break;  // reported below, not as a missing key
      const int order = !a.valid() ? 1 : !b.valid() ? -1 : a.key().compare(b.key());
      if (order > 0) {
        return make_error(fmt::format("projection ({}) lacks {}, which a replay produces", name,
                                      bytes::printable(b.key())));
      }
      if (order < 0) {
        return make_error(fmt::format("projection ({}) holds {}, which a replay does not produce", name,
                                      bytes::printable(a.key())));
      }
      if (a.value() != b.value()) {
        return make_error(fmt::format("projection ({}) value of {} differs from a replay", name,
                                      bytes::printable(a.key())));
      }
    }
    FZ_TRY(a.status("cannot read the projection"));
    FZ_TRY(b.status("cannot read the projection"));
  }
  return Status::Ok();
}

}  // namespace fz::engine
