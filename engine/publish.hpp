// publish_rules(): `fenzhang rules publish` (SPEC section 5, "Versions"). Checks a rules file, appends
// it to the ledger as a rules.published event carrying the source and its SHA-256, and, when the new
// version governs events already in the log, recomputes the projection so that it equals a replay of
// the log. The same name+version with the same text is a duplicate (nothing written); with other text a
// conflict; a ledger holds versions of one ruleset name only.
//
// Before anything is written, the recomputation is evaluated on the side (as `replay --rules` does): the
// per-account differences and what would now fail. An evaluation error or a failing `require` there
// refuses the publish (nothing written; SPEC 8) unless `force`; `dry_run` only reports.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "engine/engine.hpp"
#include "engine/whatif.hpp"
#include "store/appender.hpp"
#include "store/ledger.hpp"

namespace fz::engine {

struct PublishReport {
  bool duplicate = false;
  std::string name;
  std::int64_t version = 0;
  TimeUs effective_us = 0;
  OffsetSec timezone = kDefaultOffsetSec;
  std::uint64_t seq = 0;  // of the rules.published event (the existing one for a duplicate)
  std::string sha256;
  std::uint64_t reevaluated = 0;    // earlier events now governed by this version
  std::vector<ReplayIssue> issues;  // what append would now refuse
  std::uint64_t issue_count = 0;
  std::vector<WhatIfRow> differences;  // accounts whose total or available balance the version changes
  bool written = false;                // false: a dry run, a duplicate, or refused
  bool refused = false;                // the recomputation fails and --force was not given
};

struct PublishOptions {
  bool dry_run = false;
  bool force = false;
  bool preview = true;  // evaluate the recomputation on the side first (false only with force)
};

// `diagnostics` receives the checker's messages when the file does not check clean.
Result<PublishReport> publish_rules(Ledger& ledger, const std::string& source, const std::string& filename,
                                    TimeUs now_us, std::string* diagnostics,
                                    const PublishOptions& options = {});

// An exported rules.published event (`fenzhang export events`, docs/exports.md) appended into a ledger:
// accepted only when it is exactly the event `rules publish` writes for its source at its `at`, and the
// ledger's head is the hash it followed in its own ledger (`previous_hash`), so that it lands with the same
// hash (`hash`). It then goes through publish_rules (recomputation included) with force: the ledger it
// came from accepted it at this very position, so replaying its log reproduces what was there.
struct ExportedPublish {
  Disposition disposition = Disposition::kRejected;  // kAppended, kDuplicate or kRejected
  std::string reason;                                // why it was rejected
  PublishReport report;                              // when appended
};
Result<ExportedPublish> publish_exported(Ledger& ledger, const Event& event, const std::string& previous_hash,
                                         const std::string& hash);

}  // namespace fz::engine
