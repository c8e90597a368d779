#include "engine/rebuild.hpp"

#include <openssl/evp.h>

#include <fmt/format.h>

#include <unistd.h>

#include <filesystem>
#include <future>
#include <memory>
#include <random>

#include "core/bytes.hpp"
#include "core/money.hpp"
#include "engine/account_book.hpp"
#include "engine/book.hpp"
#include "engine/engine.hpp"
#include "engine/projection_format.hpp"

namespace fz::engine {
namespace {

constexpr Cf kProjectionCfs[] = {Cf::kEntities, Cf::kAccounts, Cf::kPostings, Cf::kTargets};
constexpr std::size_t kRebuildBatch = 4096;

const char* cf_name(Cf cf) {
  switch (cf) {
    case Cf::kEntities:
      return "entities";
    case Cf::kAccounts:
      return "accounts";
    case Cf::kPostings:
      return "postings";
    case Cf::kTargets:
      return "targets";
    default:
      return "meta";
  }
}

// Meta keys that belong to the projection.
bool is_projection_meta(std::string_view key) {
  return key == pformat::kProjectionHead || key.starts_with(pformat::kVersionPrefix);
}

}  // namespace

Status clear_projection(Ledger& target) {
  rocksdb::WriteBatch clear;
  const std::string end(16, '\xff');
  for (Cf cf : kProjectionCfs) clear.DeleteRange(target.cf(cf), "", end);
  clear.DeleteRange(target.cf(Cf::kMeta), std::string(pformat::kVersionPrefix),
                    std::string(pformat::kVersionPrefix) + end);
  clear.Put(target.cf(Cf::kMeta), std::string(pformat::kProjectionHead), format::seq_key(0));
  return target.write(clear);
}

Result<RebuildReport> rebuild_projection(const Ledger& source, Ledger& target, std::uint64_t until_seq,
                                         const std::function<void(std::uint64_t)>& progress,
                                         const std::vector<PublishedVersion>* extra, Engine::Mode mode) {
  // Rebuilding in place: readers answer from a snapshot of the state before it until it is done.
  if (&source == &target) FZ_TRY(target.create_reader_snapshot());
  FZ_TRY(clear_projection(target));
  return catch_up_projection(source, target, until_seq, progress, extra, mode);
}

Result<RebuildReport> catch_up_projection(const Ledger& source, Ledger& target, std::uint64_t until_seq,
                                          const std::function<void(std::uint64_t)>& progress,
                                          const std::vector<PublishedVersion>* extra, Engine::Mode mode) {
  auto versions = load_versions(source, until_seq);
  if (!versions) return versions.error();
  if (extra != nullptr) {
    for (const PublishedVersion& v : *extra) versions->add(v);
  }
  Engine engine(target, std::move(*versions), mode);
  // Write-back, as append: the projection is written as a checkpoint every so many events and at the
  // end, not with every batch (a kill loses only the work since the last checkpoint: the next writer
  // catches up from there). Batches still bound how far evaluation runs ahead of the write.
  engine.set_checkpoint_interval(Engine::kDefaultCheckpointEvents);
  RebuildReport report;
  report.events = engine.projection_head();
  if (report.events >= until_seq) {
    if (&source == &target && report.events == source.head_seq()) FZ_TRY(target.remove_reader_snapshot());
    return report;
  }
  // One batch is written on a worker thread while the engine evaluates the next (at most one in flight).
  rocksdb::WriteBatch batch, writing;
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
    if (batch.Count() == 0) {  // between checkpoints
      engine.committed();
      pending = 0;
      if (progress) progress(report.events);
      return Status::Ok();
    }
    std::swap(batch, writing);
    batch.Clear();
    inflight = std::async(std::launch::async, [&target, &writing] {
      disable_rocksdb_perf_counters();
      return target.write_projection(writing);
    });
    pending = 0;
    if (progress) progress(report.events);
    return Status::Ok();
  };
  Status scanned = source.scan(engine.projection_head() + 1, until_seq, [&](const StoredEvent& se) -> Status {
    if (Status s = engine.apply(se.event, se.seq); !s.ok()) {
      // Preconditions depend only on the log, so an event accepted at append is accepted again.
      return make_error(fmt::format("seq {} ({}): replay refused an event the log accepted: {}", se.seq,
                                    se.event.id, s.message()));
    }
    report.events = se.seq;
    report.postings += engine.last_posting_count();
    if (++pending == kRebuildBatch) return commit(false);
    return Status::Ok();
  });
  if (scanned.ok()) scanned = commit(true);
  // Never leave a write running past this function: it uses `writing` and the target.
  if (Status w = wait(); scanned.ok()) scanned = w;
  FZ_TRY(scanned);
  // The projection covers the log again: readers no longer need the snapshot.
  if (&source == &target && report.events == source.head_seq()) FZ_TRY(target.remove_reader_snapshot());
  report.issues = engine.issues();
  report.issue_count = engine.issue_count();
  report.governed = engine.governed();
  return report;
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

Result<format::Hash> projection_digest(const Ledger& ledger) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) std::abort();
  auto feed = [&](std::string_view bytes) {
    std::string len;
    bytes::put_uvar(len, bytes.size());
    EVP_DigestUpdate(ctx, len.data(), len.size());
    EVP_DigestUpdate(ctx, bytes.data(), bytes.size());
  };
  Status status;
  for (Cf cf : {Cf::kEntities, Cf::kAccounts, Cf::kPostings, Cf::kTargets, Cf::kMeta}) {
    feed(cf_name(cf));
    std::unique_ptr<rocksdb::Iterator> it(ledger.db()->NewIterator(rocksdb::ReadOptions(), ledger.cf(cf)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string_view k(it->key().data(), it->key().size());
      if (cf == Cf::kMeta && !is_projection_meta(k)) continue;
      feed(k);
      feed(std::string_view(it->value().data(), it->value().size()));
    }
    if (!it->status().ok()) status = make_error("cannot read the projection: " + it->status().ToString());
  }
  format::Hash out{};
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx, out.data(), &n);
  EVP_MD_CTX_free(ctx);
  if (!status.ok()) return status.error();
  return out;
}

Status check_book(const Ledger& ledger) {
  // Postings per event.
  Int128 ledger_sum = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        ledger.db()->NewIterator(rocksdb::ReadOptions(), ledger.cf(Cf::kPostings)));
    std::vector<Posting> ps;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::uint64_t seq = 0;
      (void)format::parse_seq_key(std::string_view(it->key().data(), it->key().size()), &seq);
      if (!decode_postings(std::string_view(it->value().data(), it->value().size()), &ps)) {
        return make_error(fmt::format("seq {}: stored postings are malformed", seq));
      }
      Int128 sum = 0;
      for (const Posting& p : ps) sum += p.amount_fen;
      if (sum != 0)
        return make_error(
            fmt::format("seq {}: postings sum to {} fen, not zero", seq, static_cast<std::int64_t>(sum)));
    }
    if (!it->status().ok()) return make_error("cannot read postings: " + it->status().ToString());
  }
  // Balances against the journal index.
  std::unique_ptr<rocksdb::Iterator> it(
      ledger.db()->NewIterator(rocksdb::ReadOptions(), ledger.cf(Cf::kAccounts)));
  const std::string summary_prefix(1, pformat::kSummary);
  for (it->Seek(summary_prefix); it->Valid() && it->key().starts_with(summary_prefix); it->Next()) {
    const std::string account = it->key().ToString().substr(1);
    auto stored = load_account(ledger.db(), ledger.cf(Cf::kAccounts), account);
    if (!stored) return stored.error();
    const AccountSummary& s = **stored;
    ledger_sum += s.total_fen;
    AccountSummary from_journal;
    FZ_TRY(for_each_journal_entry(
        ledger.db(), ledger.cf(Cf::kAccounts), account, [&](const JournalEntry& e) -> Status {
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
  if (!it->status().ok()) return make_error("cannot read balances: " + it->status().ToString());
  if (ledger_sum != 0) {
    return make_error(
        fmt::format("the ledger sums to {} fen, not zero", static_cast<std::int64_t>(ledger_sum)));
  }
  return Status::Ok();
}

Status compare_projections(const Ledger& stored, const Ledger& rebuilt) {
  for (Cf cf : {Cf::kEntities, Cf::kAccounts, Cf::kPostings, Cf::kTargets, Cf::kMeta}) {
    std::unique_ptr<rocksdb::Iterator> a(stored.db()->NewIterator(rocksdb::ReadOptions(), stored.cf(cf)));
    std::unique_ptr<rocksdb::Iterator> b(rebuilt.db()->NewIterator(rocksdb::ReadOptions(), rebuilt.cf(cf)));
    // A projection head of 0 says what a missing one says (nothing projected): a ledger whose every line
    // was rejected has none, while a replay of nothing writes 0.
    const std::string zero_head = format::seq_key(0);
    auto skip = [&](rocksdb::Iterator* it) {
      while (it->Valid() && cf == Cf::kMeta) {
        const std::string_view key(it->key().data(), it->key().size());
        const bool empty_head = key == pformat::kProjectionHead && it->value() == zero_head;
        if (is_projection_meta(key) && !empty_head) break;
        it->Next();
      }
    };
    // A merge walk over the two sorted key sequences: on a key mismatch the smaller key is the one the
    // other side lacks, so that key is reported (advancing both sides would name a neighbour instead).
    a->SeekToFirst();
    b->SeekToFirst();
    for (skip(a.get()), skip(b.get()); a->Valid() || b->Valid();
         a->Next(), b->Next(), skip(a.get()), skip(b.get())) {
      if (!a->status().ok() || !b->status().ok()) break;
      const int order = !a->Valid() ? 1 : !b->Valid() ? -1 : a->key().compare(b->key());
      if (order > 0) {
        return make_error(fmt::format("projection ({}) lacks {}, which a replay produces", cf_name(cf),
                                      bytes::printable(b->key().ToString())));
      }
      if (order < 0) {
        return make_error(fmt::format("projection ({}) holds {}, which a replay does not produce",
                                      cf_name(cf), bytes::printable(a->key().ToString())));
      }
      if (a->value() != b->value()) {
        return make_error(fmt::format("projection ({}) value of {} differs from a replay", cf_name(cf),
                                      bytes::printable(a->key().ToString())));
      }
    }
    if (!a->status().ok() || !b->status().ok()) return make_error("cannot read the projection");
  }
  return Status::Ok();
}

}  // namespace fz::engine
