#include "store/projection_store.hpp"

#include <string>

#include "store/ledger.hpp"

namespace fz {

std::string_view family_name(Family family) {
  switch (family) {
    case Family::kMeta:
      return "meta";
    case Family::kPostings:
      return "postings";
    case Family::kAccounts:
      return "accounts";
    case Family::kEntities:
      return "entities";
    case Family::kTargets:
      return "targets";
  }
  return "?";
}

namespace {
rocksdb::Slice slice(std::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}
}  // namespace

void ProjectionBatch::put(Family family, std::string_view key, std::string_view value) {
  batch_.Put(ledger_->cf(family), slice(key), slice(value));
}

void ProjectionBatch::erase(Family family, std::string_view key) {
  batch_.Delete(ledger_->cf(family), slice(key));
}

void ProjectionBatch::erase_all(Family family) {
  // From "", which is shorter than any hint prefix, so the memtable never uses a hint for it; to a key
  // past every stored one (the longest stored keys start with a letter or a sequence number's high bytes).
  static const std::string kPastEveryKey(16, '\xff');
  batch_.DeleteRange(ledger_->cf(family), rocksdb::Slice(), slice(kPastEveryKey));
}

void ProjectionBatch::erase_meta_range(std::string_view begin, std::string_view end) {
  batch_.DeleteRange(ledger_->cf(Family::kMeta), slice(begin), slice(end));
}

Status ProjectionCursor::status(std::string_view what) const {
  const rocksdb::Status s = it_->status();
  if (s.ok()) return Status::Ok();
  return rocks_error(s, what);
}

}  // namespace fz
