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

class Dumper {
 public:
  explicit Dumper(const Ledger& l) : l_(l) {}

  Result<std::string> run() {
    FZ_TRY(l_.scan(1, l_.head_seq(), [&](const StoredEvent& se) -> Status {
      ids_.push_back(se.event.id);
      return Status::Ok();
    }));
    FZ_TRY(plain(Family::kEntities, "entity"));
    FZ_TRY(plain(Family::kTargets, "target"));
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

  Status plain(Family family, std::string_view what) {
    ProjectionCursor it = l_.cursor(family);
    for (it.seek_to_first(); it.valid(); it.next()) {
      out_ += fmt::format("{} {} = {}\n", what, bytes::printable(it.key()), bytes::printable(it.value()));
    }
    return it.status("cannot read the projection");
  }

  Status accounts() {
    ProjectionCursor it = l_.cursor(Family::kAccounts);
    const std::string summaries(1, pformat::kSummary);
    for (it.seek(summaries); it.valid_in(summaries); it.next()) {
      const std::string account(it.key().substr(1));
      auto s = load_account(l_, account);
      if (!s) return s.error();
      if (!s->has_value()) continue;
      out_ += fmt::format("account {} total {}\n", account, (*s)->total_fen);
      for (const auto& [at, fen] : (*s)->schedule) out_ += fmt::format("  available {} {}\n", at, fen);
      Status st = for_each_journal_entry(l_, account, [&](const JournalEntry& e) -> Status {
        auto id = id_of(e.seq);
        if (!id) return id.error();
        out_ += fmt::format("  journal {} #{} {} available {} at {}\n", *id, e.index, e.amount_fen,
                            e.available_at, e.event_at);
        return Status::Ok();
      });
      FZ_TRY(st);
    }
    return it.status("cannot read balances");
  }

  Status postings() {
    ProjectionCursor it = l_.cursor(Family::kPostings);
    std::vector<Posting> ps;
    for (it.seek_to_first(); it.valid(); it.next()) {
      if (!decode_postings(it.value(), &ps)) return make_error("stored postings are malformed");
      for (const Posting& p : ps) {
        auto id = id_of(p.seq);
        if (!id) return id.error();
        if (*id != p.event_id)
          return make_error(fmt::format("a posting of seq {} names event {}", p.seq, p.event_id));
        out_ += fmt::format("posting {} {} {} available {} v{} {} line {} key {}\n", p.event_id, p.account,
                            p.amount_fen, p.available_at, p.version, p.rule, p.line, bytes::printable(p.key));
      }
    }
    return it.status("cannot read postings");
  }

  Status meta() {
    ProjectionCursor it = l_.cursor(Family::kMeta);
    for (it.seek(pformat::kVersionPrefix); it.valid_in(pformat::kVersionPrefix); it.next()) {
      std::uint64_t seq = 0;
      if (!format::parse_seq_key(it.key().substr(pformat::kVersionPrefix.size()), &seq))
        return make_error("a version key is malformed");
      auto id = id_of(seq);
      if (!id) return id.error();
      out_ += fmt::format("version {}\n", *id);
    }
    return it.status("cannot read the projection");
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
