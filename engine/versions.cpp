#include "engine/versions.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "dsl/rules_check.hpp"
#include "store/codec.hpp"

namespace fz::engine {

void Versions::add(PublishedVersion v) {
  auto pos = std::upper_bound(
      list_.begin(), list_.end(), v, [](const PublishedVersion& a, const PublishedVersion& b) {
        const TimeUs ea = a.rules.info().effective_us, eb = b.rules.info().effective_us;
        return ea != eb ? ea < eb : a.seq < b.seq;
      });
  list_.insert(pos, std::move(v));
}

void Versions::drop_after(std::uint64_t seq) {
  std::erase_if(list_, [seq](const PublishedVersion& v) { return v.seq > seq; });
}

const PublishedVersion* Versions::governing(TimeUs terms_time) const {
  // list_ is ordered by (effective, seq): the last entry with effective <= t wins, ties to the later.
  const PublishedVersion* best = nullptr;
  for (const PublishedVersion& v : list_) {
    if (v.rules.info().effective_us > terms_time) break;
    best = &v;
  }
  return best;
}

bool Versions::has_seq(std::uint64_t seq) const {
  return std::any_of(list_.begin(), list_.end(), [seq](const PublishedVersion& v) { return v.seq == seq; });
}

const PublishedVersion* Versions::find(const std::string& name, std::int64_t version) const {
  for (const PublishedVersion& v : list_) {
    if (v.rules.info().name == name && v.rules.info().version == version) return &v;
  }
  return nullptr;
}

Result<PublishedVersion> version_from_event(const Event& e, std::uint64_t seq) {
  const std::string& name = e.field(field_index(e.type, "ruleset")).s;
  const std::string& source = e.field(field_index(e.type, "source")).s;
  dsl::CompileResult compiled = dsl::compile_rules(source, fmt::format("{} (seq {})", name, seq));
  if (!compiled.ruleset) {
    return make_error(
        fmt::format("the ruleset published at seq {} does not compile:\n{}", seq, compiled.diagnostics));
  }
  return PublishedVersion{seq, e.field(field_index(e.type, "sha256")).s, std::move(*compiled.ruleset)};
}

Result<Versions> load_versions(const Ledger& source, std::uint64_t until_seq) {
  Versions out;
  rocksdb::ReadOptions ro;
  std::unique_ptr<rocksdb::Iterator> it(source.db()->NewIterator(ro, source.cf(Cf::kEvents)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::uint64_t seq = 0;
    if (!format::parse_seq_key(std::string_view(it->key().data(), it->key().size()), &seq)) {
      return make_error("event log key is malformed; run 'fenzhang verify'");
    }
    if (seq > until_seq) break;
    // Byte 1 of a record is its event type: decode only the rules.published ones.
    const rocksdb::Slice v = it->value();
    if (v.size() < 2 || static_cast<EventType>(static_cast<std::uint8_t>(v[1])) != EventType::kRulesPublished)
      continue;
    std::string_view record;
    format::Hash hash{};
    if (!split_stored_value(std::string_view(v.data(), v.size()), &record, &hash)) {
      return make_error(fmt::format("seq {}: malformed", seq));
    }
    auto e = decode_event(record);
    if (!e) return make_error(fmt::format("seq {}: {}", seq, e.message()));
    auto version = version_from_event(*e, seq);
    if (!version) return version.error();
    out.add(std::move(*version));
  }
  if (!it->status().ok()) return make_error("cannot read the event log: " + it->status().ToString());
  return out;
}

}  // namespace fz::engine
