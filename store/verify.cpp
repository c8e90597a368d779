#include "store/verify.hpp"

#include <fmt/format.h>

#include "store/codec.hpp"

namespace fz {
namespace {

Error bad(std::uint64_t seq, std::string_view what) {
  return make_error(fmt::format("seq {}: {}", seq, what));
}

Status check_index_entry(const Ledger& ledger, std::uint64_t seq, const std::string& id) {
  auto indexed = ledger.seq_of(id);
  if (!indexed) return bad(seq, indexed.message());
  if (!indexed->has_value()) return bad(seq, fmt::format("id {} is missing from the id index", id));
  if (**indexed != seq) {
    return bad(seq, fmt::format("the id index maps {} to seq {}, not to this event", id, **indexed));
  }
  return Status::Ok();
}

// Every id index entry must point at an event that carries that id.
Status check_index_reverse(const Ledger& ledger, std::uint64_t events) {
  std::unique_ptr<rocksdb::Iterator> it(LedgerInternals::db(ledger)->NewIterator(
      rocksdb::ReadOptions(), LedgerInternals::cf(ledger, Cf::kIds)));
  std::uint64_t count = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++count;
  if (!it->status().ok())
    return make_error(fmt::format("cannot read the id index: {}", it->status().ToString()));
  if (count == events) return Status::Ok();
  // Find the entry that does not belong, to report its sequence number.
  std::uint64_t first_bad = UINT64_MAX;
  std::string detail;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string id = it->key().ToString();
    std::uint64_t seq = 0;
    if (!format::parse_seq_key(it->value().ToString(), &seq)) continue;
    auto e = ledger.read(seq);
    if ((!e || e->event.id != id) && seq < first_bad) {
      first_bad = seq;
      detail = fmt::format("the id index maps {} to this seq, which holds {}", id,
                           e ? e->event.id : std::string("no event"));
    }
  }
  if (first_bad != UINT64_MAX) return bad(first_bad, detail);
  return make_error(fmt::format("the id index has {} entries for {} events", count, events));
}

}  // namespace

Result<LogReport> verify_log(const Ledger& ledger, const format::Hash* expect_head) {
  LogReport report;
  format::Hash prev{};
  if (expect_head != nullptr && *expect_head == prev) report.expected_head_seq = 0;
  rocksdb::ReadOptions ro;
  ro.verify_checksums = true;
  std::unique_ptr<rocksdb::Iterator> it(
      LedgerInternals::db(ledger)->NewIterator(ro, LedgerInternals::cf(ledger, Cf::kEvents)));
  std::uint64_t expected = 1;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++expected) {
    std::uint64_t seq = 0;
    if (!format::parse_seq_key(std::string_view(it->key().data(), it->key().size()), &seq)) {
      return bad(expected, "event log key is malformed");
    }
    if (seq != expected) {
      return bad(expected, fmt::format("missing: the log jumps from seq {} to seq {}", expected - 1, seq));
    }
    std::string_view record;
    format::Hash stored{};
    if (!split_stored_value(std::string_view(it->value().data(), it->value().size()), &record, &stored)) {
      return bad(seq, "stored value is too short");
    }
    auto event = decode_event(record);
    if (!event) return bad(seq, event.message());
    if (encode_event(*event) != record) return bad(seq, "record is not in canonical form");
    const format::Hash computed = chain_hash(prev, record);
    if (computed != stored) {
      return bad(seq, fmt::format("hash chain broken: stored {}, computed {}", hash_hex(stored),
                                  hash_hex(computed)));
    }
    FZ_TRY(check_index_entry(ledger, seq, event->id));
    prev = stored;
    report.events = seq;
    if (expect_head != nullptr && *expect_head == stored) report.expected_head_seq = seq;
  }
  if (!it->status().ok()) return bad(expected, fmt::format("cannot read: {}", it->status().ToString()));
  FZ_TRY(check_index_reverse(ledger, report.events));
  report.head = prev;
  return report;
}

}  // namespace fz
