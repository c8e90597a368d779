#include "store/ledger.hpp"

#include <fcntl.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "store/codec.hpp"

namespace fz {
namespace {

constexpr std::string_view kCfNames[kCfCount] = {
    format::kCfEvents,   format::kCfIds,      format::kCfMeta,   format::kCfPostings,
    format::kCfAccounts, format::kCfEntities, format::kCfTargets};

// After a failed write (a full disk, an fsync error) RocksDB would start a background thread that
// waits for space and resumes writing by itself. fenzhang does not: the append that hit the error has
// already failed and said so, and writing resumes only in a new process that reopens the ledger and
// replays the WAL, which is the one recovery path the crash tests exercise. The thread also raced with
// Close in RocksDB 7.8 and could leak a memtable (seen under LeakSanitizer in the disk-full test).
class NoAutomaticRecovery final : public rocksdb::EventListener {
 public:
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status, bool* auto_recovery) override {
    *auto_recovery = false;
  }
};

rocksdb::Options db_options() {
  rocksdb::Options o;
  o.listeners.push_back(std::make_shared<NoAutomaticRecovery>());
  o.max_bgerror_resume_count = 0;  // the same for retryable I/O errors
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  o.track_and_verify_wals_in_manifest = true;  // a lost or truncated WAL is an error, not silent loss
  o.paranoid_checks = true;
  // Every batch is synced before it is acknowledged, so a WAL record followed by others was acknowledged:
  // damage there must stop the open, not silently end the log at it (RocksDB's default, point-in-time
  // recovery, drops everything after the damaged record). Only an incomplete last record, a write cut
  // short by a crash and never acknowledged, is dropped.
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  o.unordered_write = false;
  o.max_background_jobs = 2;
  o.keep_log_file_num = 4;
  o.max_open_files = 512;
  // The WAL files are kept until every column family has flushed the writes they hold; `meta` (a few
  // keys rewritten per batch) rarely fills its write buffer, so without a cap a long append kept over a
  // GB of WAL (135 files midway through 10M events), all replayed at the next open after a crash. At the
  // cap RocksDB flushes the families that hold the oldest WAL back.
  o.max_total_wal_size = std::uint64_t{256} << 20;
  // Opening is on the path of every query: one thread opens the table files (RocksDB's default starts
  // 16 per column family, over a hundred threads for a `balance`), and the table statistics, which only
  // tune compaction, are not read at open.
  o.max_file_opening_threads = 1;
  o.skip_stats_update_on_db_open = true;
  // Diagnostics for profiling (docs/performance.md): FZ_ROCKSDB_STATS=1 collects RocksDB's statistics
  // (block cache hits and misses, Gets answered by each level, compaction bytes), dumps them with the
  // per-level compaction figures into the ledger's LOG file every minute, and prints them with every
  // column family's compaction table to stderr when the ledger is closed.
  if (const char* env = std::getenv("FZ_ROCKSDB_STATS"); env != nullptr && *env != '\0') {
    o.statistics = rocksdb::CreateDBStatistics();
    o.stats_dump_period_sec = 60;
  }
  return o;
}

rocksdb::ColumnFamilyOptions cf_options(std::string_view name) {
  rocksdb::ColumnFamilyOptions o;
  rocksdb::BlockBasedTableOptions t;
  if (name == format::kCfIds || name == format::kCfEntities || name == format::kCfAccounts ||
      name == format::kCfTargets) {
    // Point lookups on every append (is this id, order, account new?): a bloom filter keeps the misses
    // off the disk.
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10, false));
    t.whole_key_filtering = true;
  }
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  o.write_buffer_size = 16 << 20;
  // Point lookups of keys that were never written are the common case while appending.
  o.memtable_whole_key_filtering = true;
  o.memtable_prefix_bloom_size_ratio = 0.05;
  // Every batch puts each column family's keys in ascending order (appender and engine sort them), so
  // each memtable insert can start where the previous one with the same first bytes ended instead of
  // searching the skip list from the top: a hint per 4-byte prefix of the ascending sequence numbers,
  // per key kind (first byte) elsewhere.
  //
  // Not for the meta column family (a handful of keys), and never a DeleteRange whose begin key is in a
  // hinted family's prefix domain: RocksDB 7.8 keeps one hint map per memtable for point keys and range
  // deletions alike, and a point key's hint used for a range deletion trips an assertion in the skip list
  // (seen with DeleteRange("version/", …) in meta). Projection rebuilds delete ranges from "", which is
  // shorter than any prefix and so never uses a hint.
  if (name != format::kCfMeta && !name.empty()) {
    const bool seq_keyed = name == format::kCfEvents || name == format::kCfPostings;
    o.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(seq_keyed ? 4 : 1));
  }
  return o;
}

Status from_rocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  return make_error(fmt::format("{}: {}", what, s.ToString()));
}

// Takes the single-writer lock, recording our pid for the error the next writer sees.
Result<int> take_writer_lock(const std::string& dir) {
  const std::string path = dir + "/fenzhang.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    ::close(fd);
    const std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("unknown");
    return make_error(fmt::format("ledger {} is locked by another fenzhang process (pid {})", dir, pid));
  }
  const std::string pid = std::to_string(::getpid());
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    ::close(fd);
    return make_error(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  }
  return fd;
}

// Between reading the MANIFEST and opening the files it lists, a writer may have deleted some (a
// compaction, a new MANIFEST, a finished WAL): the open fails with "No such file". It is tried again on
// the writer's newer state; a damaged ledger fails every attempt and is reported.
rocksdb::Status open_read_only(const rocksdb::Options& opts, const std::string& dir,
                               const std::vector<rocksdb::ColumnFamilyDescriptor>& cfs,
                               std::vector<rocksdb::ColumnFamilyHandle*>* handles, rocksdb::DB** raw) {
  constexpr int kAttempts = 10;
  rocksdb::Status s;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    handles->clear();
    s = rocksdb::DB::OpenForReadOnly(opts, dir, cfs, handles, raw);
    const bool raced = s.IsIOError() || s.IsNotFound() || s.IsPathNotFound() || s.IsCorruption();
    if (s.ok() || !raced) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2 * attempt));
  }
  return s;
}

}  // namespace

void disable_rocksdb_perf_counters() {
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
}

bool split_stored_value(std::string_view value, std::string_view* record, format::Hash* hash) {
  if (value.size() < format::kHashBytes) return false;
  *record = value.substr(0, value.size() - format::kHashBytes);
  std::memcpy(hash->data(), value.data() + record->size(), format::kHashBytes);
  return true;
}

Result<std::unique_ptr<Ledger>> Ledger::open(const std::string& dir, Access access, rocksdb::Env* env) {
  disable_rocksdb_perf_counters();
  std::unique_ptr<Ledger> l(new Ledger());
  l->dir_ = dir;
  l->access_ = access;
  std::error_code ec;
  if (access != Access::kRead) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return make_error(fmt::format("cannot create ledger directory {}: {}", dir, ec.message()));
    auto fd = take_writer_lock(dir);
    if (!fd) return fd.error();
    l->lock_fd_ = *fd;
  } else if (env == nullptr && !std::filesystem::exists(dir + "/CURRENT", ec)) {
    return make_error(fmt::format("no ledger at {} (append events or publish rules to create one)", dir));
  }

  if (access == Access::kRead) {
    // A writer killed while creating the ledger can leave some column families missing; it finishes
    // them at its next open. Until then there are no events to read.
    std::vector<std::string> existing;
    rocksdb::Options list_opts = db_options();
    if (env != nullptr) list_opts.env = env;
    (void)rocksdb::DB::ListColumnFamilies(list_opts, dir, &existing);
    for (auto name : kCfNames) {
      if (std::find(existing.begin(), existing.end(), name) == existing.end()) {
        return make_error(
            fmt::format("ledger {} is not fully created yet (no events); append to it first", dir));
      }
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  cfs.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_options(""));
  for (auto name : kCfNames) cfs.emplace_back(std::string(name), cf_options(name));
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Options opts = db_options();
  if (env != nullptr) opts.env = env;
  if (access == Access::kScratch) opts.avoid_flush_during_shutdown = true;  // deleted after the command
  rocksdb::Status s;
  if (access != Access::kRead) {
    s = rocksdb::DB::Open(opts, dir, cfs, &handles, &raw);
  } else {
    // A reader runs alongside a writer whose flushes and compactions delete table files. Opening every
    // table file now (not on first use) keeps each readable through its descriptor for as long as
    // this reader lives, whatever the writer deletes afterwards.
    opts.max_open_files = -1;
    // Opening them all reads every file's index and filter, tens of ms at 10M events; one opening
    // thread per core, at most 4 (10M ledger, 164 files, 2 cores: 66 ms median with one, 57 with two).
    opts.max_file_opening_threads = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 4u));
    s = open_read_only(opts, dir, cfs, &handles, &raw);
  }
  if (!s.ok()) return make_error(fmt::format("cannot open ledger {}: {}", dir, s.ToString()));
  l->db_.reset(raw);
  // handles[0] is the default family, unused; keep ours in Cf order.
  l->db_->DestroyColumnFamilyHandle(handles[0]);
  l->handles_.assign(handles.begin() + 1, handles.end());

  if (access != Access::kRead) {
    std::string v;
    s = l->db_->Get(rocksdb::ReadOptions(), l->cf(Cf::kMeta), std::string(format::kMetaFormat), &v);
    if (s.IsNotFound()) {
      rocksdb::WriteOptions wo;
      wo.sync = true;
      FZ_TRY(from_rocks(l->db_->Put(wo, l->cf(Cf::kMeta), std::string(format::kMetaFormat),
                                    std::string(format::kMetaFormatValue)),
                        "cannot initialise ledger"));
    } else if (!s.ok() || v != format::kMetaFormatValue) {
      return make_error(fmt::format("{} is not a fenzhang ledger of a format this build reads", dir));
    }
  }
  FZ_TRY(l->load_head());
  return l;
}

Ledger::~Ledger() {
  if (db_) {
    if (const auto stats = db_->GetOptions().statistics) {  // FZ_ROCKSDB_STATS (see db_options)
      std::string out = "rocksdb statistics of " + dir_ + "\n" + stats->ToString();
      for (auto* h : handles_) {
        std::string cf;
        if (db_->GetProperty(h, rocksdb::DB::Properties::kCFStatsNoFileHistogram, &cf)) out += cf;
      }
      std::fputs(out.c_str(), stderr);
    }
    if (access_ == Access::kWrite) {  // a scratch ledger is deleted after the command
      // Leave the memtables in SST files so that readers do not replay a long WAL at open.
      rocksdb::FlushOptions fo;
      std::vector<rocksdb::ColumnFamilyHandle*> all(handles_.begin(), handles_.end());
      (void)db_->Flush(fo, all);
    }
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    (void)db_->Close();
    db_.reset();
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Status Ledger::load_head() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(Cf::kEvents)));
  it->SeekToLast();
  if (!it->Valid()) {
    FZ_TRY(from_rocks(it->status(), "cannot read the event log"));
    head_seq_ = 0;
    head_hash_ = format::Hash{};
    return Status::Ok();
  }
  std::string_view record;
  if (!format::parse_seq_key(std::string_view(it->key().data(), it->key().size()), &head_seq_) ||
      !split_stored_value(std::string_view(it->value().data(), it->value().size()), &record, &head_hash_)) {
    return make_error(
        fmt::format("ledger {}: the last event log entry is malformed; run 'fenzhang verify'", dir_));
  }
  return Status::Ok();
}

Result<std::optional<std::uint64_t>> Ledger::seq_of(std::string_view id) const {
  std::string v;
  const rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf(Cf::kIds), rocksdb::Slice(id.data(), id.size()), &v);
  if (s.IsNotFound()) return std::optional<std::uint64_t>{};
  if (!s.ok()) return make_error(fmt::format("cannot read the id index: {}", s.ToString()));
  std::uint64_t seq = 0;
  if (!format::parse_seq_key(v, &seq))
    return make_error(fmt::format("id index entry for {} is malformed", id));
  return std::optional<std::uint64_t>{seq};
}

Result<std::optional<std::string>> Ledger::raw_event(std::uint64_t seq) const {
  std::string v;
  const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(Cf::kEvents), format::seq_key(seq), &v);
  if (s.IsNotFound()) return std::optional<std::string>{};
  if (!s.ok()) return make_error(fmt::format("cannot read event {}: {}", seq, s.ToString()));
  return std::optional<std::string>{std::move(v)};
}

Result<StoredEvent> Ledger::read(std::uint64_t seq) const {
  auto raw = raw_event(seq);
  if (!raw) return raw.error();
  if (!raw->has_value()) return make_error(fmt::format("event {} is not in the log", seq));
  StoredEvent out;
  out.seq = seq;
  std::string_view record;
  if (!split_stored_value(**raw, &record, &out.hash))
    return make_error(fmt::format("event {} is malformed", seq));
  out.record.assign(record);
  auto e = decode_event(out.record);
  if (!e) return make_error(fmt::format("event {}: {}", seq, e.message()));
  out.event = std::move(*e);
  return out;
}

Status Ledger::scan(std::uint64_t first_seq, std::uint64_t last_seq,
                    const std::function<Status(const StoredEvent&)>& fn) const {
  rocksdb::ReadOptions ro;
  ro.verify_checksums = true;
  ro.readahead_size = 2 << 20;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(Cf::kEvents)));
  StoredEvent se;
  for (it->Seek(format::seq_key(first_seq)); it->Valid(); it->Next()) {
    if (!format::parse_seq_key(std::string_view(it->key().data(), it->key().size()), &se.seq)) {
      return make_error("event log key is malformed");
    }
    if (se.seq > last_seq) break;
    std::string_view record;
    if (!split_stored_value(std::string_view(it->value().data(), it->value().size()), &record, &se.hash)) {
      return make_error(fmt::format("event {} is malformed", se.seq));
    }
    se.record.assign(record);
    auto e = decode_event(se.record);
    if (!e) return make_error(fmt::format("event {}: {}", se.seq, e.message()));
    se.event = std::move(*e);
    FZ_TRY(fn(se));
  }
  return from_rocks(it->status(), "cannot read the event log");
}

rocksdb::WriteOptions Ledger::write_options() const {
  rocksdb::WriteOptions wo;
  wo.sync = access_ == Access::kWrite;
  wo.disableWAL = access_ == Access::kScratch;
  return wo;
}

Status Ledger::write(rocksdb::WriteBatch& batch) {
  if (access_ == Access::kRead) return make_error("ledger is open read-only");
  const rocksdb::WriteOptions wo = write_options();
  return from_rocks(db_->Write(wo, &batch), fmt::format("cannot write to ledger {}", dir_));
}

Status Ledger::commit(rocksdb::WriteBatch& batch, std::uint64_t new_head_seq,
                      const format::Hash& new_head_hash) {
  if (access_ == Access::kRead) return make_error("ledger is open read-only");
  const rocksdb::WriteOptions wo = write_options();
  FZ_TRY(from_rocks(db_->Write(wo, &batch), fmt::format("cannot write to ledger {}", dir_)));
  head_seq_ = new_head_seq;
  head_hash_ = new_head_hash;
  return Status::Ok();
}

}  // namespace fz
