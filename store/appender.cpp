#include "store/appender.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "store/codec.hpp"

namespace fz {

Appender::Appender(Ledger& ledger, Projector* projector)
    : ledger_(ledger), projector_(projector), head_seq_(ledger.head_seq()), head_hash_(ledger.head_hash()) {}

Disposition Appender::stage(Event event, std::string* reason) {
  std::string record = encode_event(event);
  return stage_encoded(event, std::move(record), reason);
}

Disposition Appender::stage_encoded(const Event& event, std::string record, std::string* reason) {
  // Same id earlier in this batch?
  if (auto it = staged_ids_.find(event.id); it != staged_ids_.end()) {
    if (staged_[it->second].record == record) return Disposition::kDuplicate;
    *reason = fmt::format("conflict: id {} was given to a different event earlier in this input", event.id);
    return Disposition::kRejected;
  }
  // Same id in the log?
  auto seq = ledger_.seq_of(event.id);
  if (!seq) {
    *reason = seq.message();
    return Disposition::kRejected;
  }
  if (seq->has_value()) {
    auto raw = ledger_.raw_event(**seq);
    std::string_view stored;
    format::Hash ignored{};
    if (!raw || !raw->has_value() || !split_stored_value(**raw, &stored, &ignored)) {
      *reason = fmt::format("id {} is indexed at seq {} but that event cannot be read; run 'fenzhang verify'",
                            event.id, **seq);
      return Disposition::kRejected;
    }
    if (stored == record) return Disposition::kDuplicate;
    *reason = fmt::format("conflict: id {} already holds a different event (seq {})", event.id, **seq);
    return Disposition::kRejected;
  }
  const std::uint64_t next = head_seq_ + 1;
  if (projector_ != nullptr) {
    if (Status s = projector_->apply(event, next); !s.ok()) {
      *reason = s.message();
      return Disposition::kRejected;
    }
  }
  const format::Hash hash = chain_hash(head_hash_, record);
  std::string value = record;
  value.append(reinterpret_cast<const char*>(hash.data()), hash.size());
  const std::string key = format::seq_key(next);
  batch_.Put(ledger_.cf(Cf::kEvents), key, value);
  id_puts_.emplace_back(event.id, key);
  staged_ids_.emplace(event.id, staged_.size());
  staged_.push_back(Staged{event.id, std::move(record)});
  head_seq_ = next;
  head_hash_ = hash;
  return Disposition::kAppended;
}

Status Appender::commit() {
  if (staged_.empty()) {
    discard();
    return Status::Ok();
  }
  // The id index in key order: RocksDB's memtable inserts ascending keys much faster than ids in
  // arrival order.
  std::sort(id_puts_.begin(), id_puts_.end());
  for (const auto& [id, key] : id_puts_) batch_.Put(ledger_.cf(Cf::kIds), id, key);
  if (projector_ != nullptr) {
    if (Status s = projector_->flush(batch_); !s.ok()) {
      discard();
      return s;
    }
  }
  Status s = ledger_.commit(batch_, head_seq_, head_hash_);
  if (!s.ok()) {
    discard();
    return s;
  }
  if (projector_ != nullptr) projector_->committed();
  batch_.Clear();
  staged_.clear();
  staged_ids_.clear();
  id_puts_.clear();
  return Status::Ok();
}

void Appender::discard() {
  if (projector_ != nullptr) projector_->discard();
  batch_.Clear();
  staged_.clear();
  staged_ids_.clear();
  id_puts_.clear();
  head_seq_ = ledger_.head_seq();
  head_hash_ = ledger_.head_hash();
}

}  // namespace fz
