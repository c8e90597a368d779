#include "engine/dump.hpp"

#include <fmt/format.h>

#include <memory>
#include <vector>

#include "core/bytes.hpp"
#include "engine/account_book.hpp"
#include "engine/book.hpp"
#include "engine/projection_format.hpp"

namespace fz::engine {
namespace {

std::string_view view(const rocksdb::Slice& s) {
  return std::string_view(s.data(), s.size());
}

class Dumper {
 public:
  explicit Dumper(const Ledger& l) : l_(l) {}

  Result<std::string> run() {
    FZ_TRY(l_.scan(1, l_.head_seq(), [&](const StoredEvent& se) -> Status {
      ids_.push_back(se.event.id);
      return Status::Ok();
    }));
    FZ_TRY(plain(Cf::kEntities, "entity"));
    FZ_TRY(plain(Cf::kTargets, "target"));
    FZ_TRY(accounts());
    FZ_TRY(postings());
    FZ_TRY(meta());
    return std::move(out_);
  }

 private:
  Result<std::string> id_of(std::uint64_t seq) const {
    if (seq == 0 || seq > ids_.size())
      return make_error(fmt::format("the projection names seq {}, not in the log", seq));
    return ids_[seq - 1];
  }

  Status plain(Cf cf, std::string_view what) {
    std::unique_ptr<rocksdb::Iterator> it(l_.db()->NewIterator(rocksdb::ReadOptions(), l_.cf(cf)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      out_ += fmt::format("{} {} = {}\n", what, bytes::printable(view(it->key())),
                          bytes::printable(view(it->value())));
    }
    return it->status().ok() ? Status::Ok()
                             : make_error("cannot read the projection: " + it->status().ToString());
  }

  Status accounts() {
    std::unique_ptr<rocksdb::Iterator> it(l_.db()->NewIterator(rocksdb::ReadOptions(), l_.cf(Cf::kAccounts)));
    const std::string summaries(1, pformat::kSummary);
    for (it->Seek(summaries); it->Valid() && view(it->key()).starts_with(summaries); it->Next()) {
      const std::string account(view(it->key()).substr(1));
      auto s = load_account(l_.db(), l_.cf(Cf::kAccounts), account);
      if (!s) return s.error();
      if (!s->has_value()) continue;
      out_ += fmt::format("account {} total {}\n", account, (*s)->total_fen);
      for (const auto& [at, fen] : (*s)->schedule) out_ += fmt::format("  available {} {}\n", at, fen);
      Status st = for_each_journal_entry(
          l_.db(), l_.cf(Cf::kAccounts), account, [&](const JournalEntry& e) -> Status {
            auto id = id_of(e.seq);
            if (!id) return id.error();
            out_ += fmt::format("  journal {} #{} {} available {} at {}\n", *id, e.index, e.amount_fen,
                                e.available_at, e.event_at);
            return Status::Ok();
          });
      FZ_TRY(st);
    }
    return it->status().ok() ? Status::Ok() : make_error("cannot read balances: " + it->status().ToString());
  }

  Status postings() {
    std::unique_ptr<rocksdb::Iterator> it(l_.db()->NewIterator(rocksdb::ReadOptions(), l_.cf(Cf::kPostings)));
    std::vector<Posting> ps;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (!decode_postings(view(it->value()), &ps)) return make_error("stored postings are malformed");
      for (const Posting& p : ps) {
        auto id = id_of(p.seq);
        if (!id) return id.error();
        if (*id != p.event_id)
          return make_error(fmt::format("a posting of seq {} names event {}", p.seq, p.event_id));
        out_ += fmt::format("posting {} {} {} available {} v{} {} line {} key {}\n", p.event_id, p.account,
                            p.amount_fen, p.available_at, p.version, p.rule, p.line, bytes::printable(p.key));
      }
    }
    return it->status().ok() ? Status::Ok() : make_error("cannot read postings: " + it->status().ToString());
  }

  Status meta() {
    std::unique_ptr<rocksdb::Iterator> it(l_.db()->NewIterator(rocksdb::ReadOptions(), l_.cf(Cf::kMeta)));
    for (it->Seek(pformat::kVersionPrefix);
         it->Valid() && view(it->key()).starts_with(pformat::kVersionPrefix); it->Next()) {
      std::uint64_t seq = 0;
      if (!format::parse_seq_key(view(it->key()).substr(pformat::kVersionPrefix.size()), &seq))
        return make_error("a version key is malformed");
      auto id = id_of(seq);
      if (!id) return id.error();
      out_ += fmt::format("version {}\n", *id);
    }
    return it->status().ok() ? Status::Ok()
                             : make_error("cannot read the projection: " + it->status().ToString());
  }

  const Ledger& l_;
  std::vector<std::string> ids_;
  std::string out_;
};

}  // namespace

Result<std::string> projection_dump(const Ledger& ledger) {
  return Dumper(ledger).run();
}

}  // namespace fz::engine
