#include "engine/publish.hpp"

#include <fmt/format.h>

#include "dsl/rules_check.hpp"
#include "engine/rebuild.hpp"
#include "model/event.hpp"
#include "store/appender.hpp"
#include "store/codec.hpp"

namespace fz::engine {
namespace {

Event published_event(const dsl::RulesetInfo& info, const std::string& source, const std::string& sha,
                      TimeUs now) {
  Event e;
  e.id = fmt::format("rules.{}.v{}", info.name, info.version);
  e.type = EventType::kRulesPublished;
  e.at_us = now;
  e.fields = {FieldValue{true, 0, info.name}, FieldValue{true, info.version, ""},
              FieldValue{true, info.effective_us, ""}, FieldValue{true, 0, sha}, FieldValue{true, 0, source}};
  return e;
}

}  // namespace

Result<PublishReport> publish_rules(Ledger& ledger, const std::string& source, const std::string& filename,
                                    TimeUs now_us, std::string* diagnostics, const PublishOptions& options) {
  if (source.size() > dsl::kMaxRulesFileBytes) {
    return make_error(fmt::format("{}: {} bytes; a rules file has at most {}", filename, source.size(),
                                  dsl::kMaxRulesFileBytes));
  }
  dsl::CompileResult compiled = dsl::compile_rules(source, filename);
  if (!compiled.ruleset) {
    *diagnostics = compiled.diagnostics;
    return make_error(fmt::format("{}: {} error{}; nothing published", filename, compiled.error_count,
                                  compiled.error_count == 1 ? "" : "s"));
  }
  const dsl::RulesetInfo& info = compiled.ruleset->info();
  PublishReport report;
  report.name = info.name;
  report.version = info.version;
  report.effective_us = info.effective_us;
  report.timezone = info.timezone;
  report.sha256 = sha256_hex(source);

  auto caught = catch_up_projection(ledger, ledger, ledger.head_seq());
  if (!caught) return caught.error();
  auto eng = Engine::for_append(ledger);
  if (!eng) return eng.error();
  for (const PublishedVersion& v : (*eng)->versions().all()) {
    if (v.rules.info().name != info.name) {
      return make_error(
          fmt::format("this ledger uses ruleset {}; one ruleset name per ledger ({} defines {})",
                      v.rules.info().name, filename, info.name));
    }
  }
  if (const PublishedVersion* same = (*eng)->versions().find(info.name, info.version)) {
    if (same->sha256 != report.sha256) {
      return make_error(
          fmt::format("conflict: {} v{} is already published (seq {}) with other text; give the "
                      "changed file a new version",
                      info.name, info.version, same->seq));
    }
    report.duplicate = true;
    report.seq = same->seq;
    return report;
  }

  const std::uint64_t before = ledger.head_seq();
  if (before > 0 && options.preview) {
    // The recomputation first, on the side: nothing is written if it fails (unless forced).
    auto preview = what_if(ledger, {RulesFile{filename, source}}, now_us, diagnostics);
    if (!preview) return preview.error();
    for (WhatIfRow& row : preview->rows) {
      if (row.total_fen != row.whatif_total_fen || row.available_fen != row.whatif_available_fen)
        report.differences.push_back(std::move(row));
    }
    report.issues = std::move(preview->issues);
    report.issue_count = preview->issue_count;
    report.refused = report.issue_count > 0 && !options.force;
  }
  if (options.dry_run || report.refused) return report;
  if (before == 0) {
    Appender appender(ledger, eng->get());
    std::string reason;
    if (appender.stage(published_event(info, source, report.sha256, now_us), &reason) !=
        Disposition::kAppended) {
      return make_error(reason);
    }
    FZ_TRY(appender.commit());
    report.seq = ledger.head_seq();
    report.written = true;
    return report;
  }
  // The new version may govern events already in the log: recompute so that the projection equals a
  // replay of the log. In three durable steps, each of which a crash may end: (1) the projection is
  // emptied (it then covers no event), (2) the rules.published event is appended without touching the
  // projection, (3) the projection is rebuilt from the first event. After a crash in any step the
  // projection is behind the log, never ahead of it or wrong, and the next writer finishes (3).
  // Readers answer from a snapshot of the state before this version meanwhile.
  FZ_TRY(ledger.create_reader_snapshot());
  FZ_TRY(clear_projection(ledger));
  eng->reset();  // it cached the projection just emptied
  {
    Appender appender(ledger, nullptr);
    std::string reason;
    if (appender.stage(published_event(info, source, report.sha256, now_us), &reason) !=
        Disposition::kAppended) {
      return make_error(reason);
    }
    FZ_TRY(appender.commit());
  }
  report.seq = ledger.head_seq();
  report.written = true;
  auto rebuilt = catch_up_projection(ledger, ledger, report.seq);
  if (!rebuilt) return rebuilt.error();
  for (const auto& [vseq, n] : rebuilt->governed) {
    if (vseq == report.seq) report.reevaluated = n;
  }
  report.issues = std::move(rebuilt->issues);
  report.issue_count = rebuilt->issue_count;
  FZ_TRY(ledger.remove_reader_snapshot());
  return report;
}

namespace {

// Why `e` is not what `rules publish` would write for its own source at its own time ("" when it is).
std::string exported_mismatch(const Event& e) {
  const std::string& source = e.text(fields::rules_published::kSource);
  dsl::CompileResult compiled = dsl::compile_rules(source, e.id);
  if (!compiled.ruleset) return fmt::format("its source does not check clean: {}", compiled.diagnostics);
  const std::string sha = sha256_hex(source);
  if (published_event(compiled.ruleset->info(), source, sha, e.at_us) != e) {
    return "it is not the event 'rules publish' writes for its source (id, ruleset, version, effective, "
           "sha256 and no meta)";
  }
  return {};
}

}  // namespace

Result<ExportedPublish> publish_exported(Ledger& ledger, const Event& event, const std::string& previous_hash,
                                         const std::string& hash) {
  ExportedPublish out;
  const std::string record = encode_event(event);
  auto seq = ledger.seq_of(event.id);
  if (!seq) return seq.error();
  if (*seq) {
    auto stored = ledger.read(**seq);
    if (!stored) return stored.error();
    out.disposition = stored->record == record ? Disposition::kDuplicate : Disposition::kRejected;
    if (out.disposition == Disposition::kRejected) {
      out.reason = fmt::format("conflict: id already stored (seq {}) with a different body", **seq);
    }
    return out;
  }
  if (hash_hex(ledger.head_hash()) != previous_hash) {
    out.reason = fmt::format(
        "an exported rules.published line must follow the event it followed when exported (chain_previous "
        "{}), but this ledger's head is seq {} hash {}",
        previous_hash, ledger.head_seq(), hash_hex(ledger.head_hash()));
    return out;
  }
  if (hash_hex(chain_hash(ledger.head_hash(), record)) != hash) {
    out.reason = "chain_hash: the event does not hash to it; it is not the exported event";
    return out;
  }
  if (out.reason = exported_mismatch(event); !out.reason.empty()) return out;
  std::string diagnostics;
  PublishOptions options;
  options.force = true;
  options.preview = false;
  auto report = publish_rules(ledger, event.text(fields::rules_published::kSource), event.id, event.at_us,
                              &diagnostics, options);
  // The chain check pinned the position: the ledger up to here is the exported one, so publishing can
  // only fail for reasons of the ledger itself (I/O, damage): an error, not a rejected line.
  if (!report) return report.error();
  if (!report->written || hash_hex(ledger.head_hash()) != hash) {
    return make_error(fmt::format("{}: publishing the exported event did not reproduce its hash", event.id));
  }
  out.disposition = Disposition::kAppended;
  out.report = std::move(*report);
  return out;
}

}  // namespace fz::engine
