#include "engine/versions.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "dsl/rules_check.hpp"
#include "engine/projection_format.hpp"
#include "engine/queries.hpp"
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
  const std::string& name = e.text(fields::rules_published::kRuleset);
  const std::string& source = e.text(fields::rules_published::kSource);
  dsl::CompileResult compiled = dsl::compile_rules(source, fmt::format("{} (seq {})", name, seq));
  if (!compiled.ruleset) {
    return make_error(
        fmt::format("the ruleset published at seq {} does not compile:\n{}", seq, compiled.diagnostics));
  }
  return PublishedVersion{seq, e.text(fields::rules_published::kSha256), std::move(*compiled.ruleset)};
}

namespace {

// The seqs of the rules.published events, from the projection's index (meta "version/"+seq), when the
// projection reflects the whole log; nullopt when it does not (then the log itself is scanned).
Result<std::optional<std::vector<std::uint64_t>>> indexed_version_seqs(const Ledger& source) {
  auto head = read_projection_head(source);
  if (!head) return head.error();
  if (*head != source.head_seq()) return std::optional<std::vector<std::uint64_t>>();
  std::vector<std::uint64_t> seqs;
  ProjectionCursor it = source.cursor(Family::kMeta);
  for (it.seek(pformat::kVersionPrefix); it.valid_in(pformat::kVersionPrefix); it.next()) {
    std::uint64_t seq = 0;
    if (!format::parse_seq_key(it.key().substr(pformat::kVersionPrefix.size()), &seq)) {
      return make_error("the projection's version index is malformed; run 'fenzhang verify'");
    }
    seqs.push_back(seq);
  }
  FZ_TRY(it.status("cannot read the version index"));
  return std::optional<std::vector<std::uint64_t>>(std::move(seqs));
}

Result<Versions> scan_versions(const Ledger& source, std::uint64_t until_seq) {
  Versions out;
  FZ_TRY(source.scan_stored(1, until_seq, [&](std::uint64_t seq, std::string_view v) -> Status {
    // Byte 1 of a record is its event type: decode only the rules.published ones.
    if (v.size() < 2 || static_cast<EventType>(static_cast<std::uint8_t>(v[1])) != EventType::kRulesPublished)
      return Status::Ok();
    std::string_view record;
    format::Hash hash{};
    if (!split_stored_value(v, &record, &hash)) return make_error(fmt::format("seq {}: malformed", seq));
    auto e = decode_event(record);
    if (!e) return make_error(fmt::format("seq {}: {}", seq, e.message()));
    auto version = version_from_event(*e, seq);
    if (!version) return version.error();
    out.add(std::move(*version));
    return Status::Ok();
  }));
  return out;
}

}  // namespace

Result<Versions> load_versions(const Ledger& source, std::uint64_t until_seq) {
  auto indexed = indexed_version_seqs(source);
  if (!indexed) return indexed.error();
  if (!indexed->has_value()) return scan_versions(source, until_seq);
  // The projection is current: read just the indexed events instead of the whole log.
  Versions out;
  for (std::uint64_t seq : **indexed) {
    if (seq > until_seq) break;
    auto stored = source.read(seq);
    if (!stored) return stored.error();
    if (stored->event.type != EventType::kRulesPublished) {
      return make_error(
          fmt::format("the version index names seq {}, which is not a rules.published event; run "
                      "'fenzhang verify'",
                      seq));
    }
    auto version = version_from_event(stored->event, seq);
    if (!version) return version.error();
    out.add(std::move(*version));
  }
  return out;
}

}  // namespace fz::engine
