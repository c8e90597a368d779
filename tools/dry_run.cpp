#include "tools/dry_run.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <random>

namespace fz {

Result<std::unique_ptr<DryRun>> DryRun::open(const std::string& dir) {
  auto out = std::unique_ptr<DryRun>(new DryRun());
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    auto l = Ledger::open(dir, Ledger::Access::kRead);
    if (!l) return l.error();
    out->ledger_ = std::move(*l);
  } else {
    std::error_code ec;
    out->scratch_dir_ = std::filesystem::temp_directory_path(ec) /
                        fmt::format("fenzhang-dry-run-{}-{}", ::getpid(), std::random_device{}());
    if (ec) return make_error("no temporary directory for the dry run: " + ec.message());
    auto l = Ledger::open(out->scratch_dir_.string(), Ledger::Access::kScratch);
    if (!l) return l.error();
    out->ledger_ = std::move(*l);
  }
  auto engine = engine::Engine::for_append(*out->ledger_);
  if (!engine) return engine.error();
  out->engine_ = std::move(*engine);
  if (out->engine_->projection_head() != out->ledger_->head_seq()) {
    return make_error(fmt::format(
        "the projection of ledger {} is behind its log (seq {} of {}): an append is running or was "
        "interrupted; run the dry run again once it has finished (the next append brings the projection "
        "up to date)",
        dir, out->engine_->projection_head(), out->ledger_->head_seq()));
  }
  out->appender_ = std::make_unique<Appender>(*out->ledger_, out->engine_.get());
  return out;
}

DryRun::~DryRun() {
  // The appender and engine read the ledger; the scratch directory goes last.
  appender_.reset();
  engine_.reset();
  ledger_.reset();
  std::error_code ec;
  if (!scratch_dir_.empty()) std::filesystem::remove_all(scratch_dir_, ec);
}

}  // namespace fz
