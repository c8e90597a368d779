// DryRun: events staged exactly as a real append stages them (store/appender.hpp: duplicates, conflicts,
// and the engine's evaluation against the ledger's projection and the events staged before them), and
// never committed. `import … --dry-run` and `payout alipay --dry-run` decide with it what their real run
// would append, reject and, for a payout, pay.
//
// It reads the ledger read-only (a writer may be running; its projection must cover its log, else open
// refuses: a dry run against a stale projection would decide differently), or, when the ledger does not
// exist yet, an empty private one in a temporary directory, removed with the DryRun. Nothing is written
// to the ledger. The engine's pending state grows with what is staged. Not thread-safe.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "core/result.hpp"
#include "engine/engine.hpp"
#include "store/appender.hpp"
#include "store/ledger.hpp"

namespace fz {

class DryRun {
 public:
  static Result<std::unique_ptr<DryRun>> open(const std::string& dir);
  ~DryRun();
  DryRun(const DryRun&) = delete;
  DryRun& operator=(const DryRun&) = delete;

  Appender& appender() { return *appender_; }
  // The postings of the event staged last (valid until the next one is staged).
  const std::vector<engine::Posting>& last_postings() const { return engine_->last_postings(); }
  // Drops everything staged; an error when the ledger could not be read meanwhile.
  [[nodiscard]] Status finish() { return appender_->discard(); }

 private:
  DryRun() = default;
  std::filesystem::path scratch_dir_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<Appender> appender_;
};

}  // namespace fz
