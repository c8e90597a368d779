#include "store/ledger.hpp"

#include <fcntl.h>
#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "store/codec.hpp"

#include <rocksdb/utilities/checkpoint.h>

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

// RocksDB's own info LOG, written with plain write(2) calls whose failures are ignored.
//
// Why not RocksDB's default logger: it writes through a WritableFileWriter, which remembers a failed
// write; the next message (RocksDB logs the very error it is handling, e.g. a WAL write that hit a full
// disk) then trips `assert(sync_without_flush_called_)` in writable_file_writer.h, and Debian's
// librocksdb is built with assertions: the process aborted (exit 134) instead of reporting the full
// disk. A diagnostic log must never turn an error into a crash, so this one drops what it cannot write.
// Readers and scratch ledgers log nothing (a reader must not rotate the writer's LOG).
class PlainFileLogger final : public rocksdb::Logger {
 public:
  explicit PlainFileLogger(int fd) : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL), fd_(fd) {}
  ~PlainFileLogger() override {
    if (fd_ >= 0) ::close(fd_);
  }
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    if (fd_ < 0) return;
    char buf[1024];
    va_list copy;
    va_copy(copy, ap);
    int n = std::vsnprintf(buf, sizeof buf - 1, format, copy);
    va_end(copy);
    if (n < 0) return;
    std::size_t len = std::min(static_cast<std::size_t>(n), sizeof buf - 2);
    if (len == 0 || buf[len - 1] != '\n') buf[len++] = '\n';
    (void)!::write(fd_, buf, len);  // best effort, by design (see above)
  }

 private:
  int fd_;
};

class NullLogger final : public rocksdb::Logger {
 public:
  NullLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::HEADER_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char*, va_list) override {}
};

// The writer's LOG: appended to across opens, moved to LOG.old once it passes 4 MiB (one old file kept).
std::shared_ptr<rocksdb::Logger> writer_logger(const std::string& dir) {
  const std::string path = dir + "/LOG";
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && st.st_size > (4 << 20)) {
    (void)::rename(path.c_str(), (dir + "/LOG.old").c_str());
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  return std::make_shared<PlainFileLogger>(fd);  // fd < 0 (a full disk): logs nothing
}

// What a directory holds, as far as creating a ledger is concerned.
struct DirState {
  bool exists = false;
  bool creating = false;           // an interrupted creation's marker
  std::vector<std::string> files;  // everything but the writer's lock file
};

Result<DirState> inspect_dir(const std::string& dir) {
  DirState st;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec == std::errc::no_such_file_or_directory) return st;
  if (ec) return make_io_error(fmt::format("cannot read ledger directory {}: {}", dir, ec.message()));
  st.exists = true;
  for (const auto& entry : it) {
    const std::string name = entry.path().filename().string();
    if (name == format::kLockFile) continue;
    if (name == format::kCreatingFile) st.creating = true;
    st.files.push_back(name);
  }
  return st;
}

Status sync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_io_error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return make_io_error(fmt::format("cannot sync {}: {}", path, std::strerror(err)));
  return Status::Ok();
}

// Marks `dir` as being created (the marker is removed once the ledger is whole). A creation killed
// before that left no acknowledged event, so the next writer may start it again.
Status mark_creating(const std::string& dir) {
  const std::string path = dir + "/" + std::string(format::kCreatingFile);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return make_io_error(fmt::format("cannot create {}: {}", path, std::strerror(errno)));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return make_io_error(fmt::format("cannot sync {}: {}", path, std::strerror(err)));
  return sync_path(dir);
}

// Removes what an interrupted creation left (everything but the lock file), so it can start again.
Status clear_interrupted_creation(const std::string& dir, const DirState& st) {
  for (const std::string& name : st.files) {
    if (name == format::kCreatingFile) continue;  // last, so a crash here is still an interrupted creation
    std::error_code ec;
    std::filesystem::remove_all(dir + "/" + name, ec);
    if (ec) return make_io_error(fmt::format("cannot remove {}/{}: {}", dir, name, ec.message()));
  }
  return Status::Ok();
}

std::string damaged_hint(const std::string& dir) {
  return fmt::format(
      "; the directory holds ledger files, so fenzhang does not create a new ledger over them. Restore {} "
      "from a backup (or re-append your event files into a new, empty directory) and run 'fenzhang verify'",
      dir);
}

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

constexpr std::size_t kReaderCacheBytes = std::size_t{64} << 20;

// `reader_cache`: for a read-only open (Ledger::Access::kRead), the cache its table files' index and
// filter blocks go through; null for writers.
rocksdb::ColumnFamilyOptions cf_options(std::string_view name,
                                        const std::shared_ptr<rocksdb::Cache>& reader_cache) {
  rocksdb::ColumnFamilyOptions o;
  rocksdb::BlockBasedTableOptions t;
  if (reader_cache) {
    // A reader opens every table file at once (see Ledger::open), but reads a file's index and filter only
    // when a lookup first needs them, through the block cache: a one-account `balance` of a 10M-event
    // ledger touches a few of its ~280 files, and reading and decompressing all their index and filter
    // blocks was 60% of the command's time. The cache has one shard: a full filter of a large file (2 MB
    // at 10M events) must fit in a shard, or it is read again for every lookup (docs/performance.md).
    t.cache_index_and_filter_blocks = true;
    t.block_cache = reader_cache;
  }
  if (name == format::kCfIds || name == format::kCfEntities || name == format::kCfAccounts ||
      name == format::kCfTargets) {
    // Point lookups on every append (is this id, order, account new?): a bloom filter keeps the misses
    // off the disk.
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10, false));
    t.whole_key_filtering = true;
  }
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  o.write_buffer_size = 16 << 20;
  // Levels sized from the last one up: a small family has L0 and one or two levels, not seven. Projection
  // checkpoints are ingested table files (Ledger::write_projection), each placed at the deepest level it
  // does not overlap; with static level sizes a small family spread one file over each of L1..L6 and a
  // point lookup probed every one of them.
  o.level_compaction_dynamic_level_bytes = true;
  if (name == format::kCfAccounts || name == format::kCfEntities || name == format::kCfTargets) {
    // Each checkpoint ingests one table file per projection family that overlaps the family's whole key
    // range, so it lands in L0, and every L0 compaction rewrites the level under it. Letting 12 files
    // gather (not 4) merges three times as many checkpoints per rewrite: at 10M events the projection's
    // compaction fell from 84 to 43 s of CPU and the append's CPU by 16%, memory unchanged; no change
    // at 1M (docs/performance.md). Reads probe up to 12 L0 files, each behind a bloom filter.
    o.level0_file_num_compaction_trigger = 12;
    o.level0_slowdown_writes_trigger = std::max(o.level0_slowdown_writes_trigger, 24);
    o.level0_stop_writes_trigger = std::max(o.level0_stop_writes_trigger, 36);
  }
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
  return rocks_error(s, what);
}

// Takes the single-writer lock, recording our pid for the error the next writer sees.
Result<int> take_writer_lock(const std::string& dir) {
  const std::string path = dir + "/" + std::string(format::kLockFile);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return make_io_error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
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
    return make_io_error(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
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

Error rocks_error(const rocksdb::Status& s, std::string_view what) {
  std::string message = fmt::format("{}: {}", what, s.ToString());
  if (s.IsCorruption()) return make_corruption_error(std::move(message));
  return make_io_error(std::move(message));
}

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
  // The real directory's state and witness; a test Env (in memory, or injecting faults) has neither.
  const bool real_dir = env == nullptr;
  bool fresh = !real_dir || access == Access::kScratch;
  std::optional<WitnessedHead> witnessed;
  if (access != Access::kRead) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return make_io_error(fmt::format("cannot create ledger directory {}: {}", dir, ec.message()));
    auto fd = take_writer_lock(dir);
    if (!fd) return fd.error();
    l->lock_fd_ = *fd;
  }
  if (real_dir) {
    auto st = inspect_dir(dir);
    if (!st) return st.error();
    if (access == Access::kRead && (!st->exists || st->files.empty())) {
      return make_error(fmt::format("no ledger at {} (append events or publish rules to create one)", dir));
    }
    if (access == Access::kRead && st->creating) {
      return make_error(fmt::format("ledger {} is being created and holds no events yet", dir));
    }
    if (access == Access::kWrite) {
      if (st->creating) FZ_TRY(clear_interrupted_creation(dir, *st));
      fresh = st->creating || st->files.empty();
      if (fresh && !st->creating) FZ_TRY(mark_creating(dir));
    }
    if (access != Access::kScratch && !fresh) {
      // Read before RocksDB opens: the witness never runs ahead of the log a later open sees.
      auto w = HeadWitness::read(dir);
      if (!w) return w.error();
      witnessed = *w;
    }
  }

  rocksdb::Options opts = db_options();
  if (env != nullptr) opts.env = env;
  opts.create_if_missing = fresh;
  if (access == Access::kWrite && real_dir) {
    opts.info_log = writer_logger(dir);
  } else {
    opts.info_log = std::make_shared<NullLogger>();
  }
  if (access == Access::kScratch) opts.avoid_flush_during_shutdown = true;  // deleted after the command

  if (access == Access::kRead) {
    // A writer killed while creating the ledger can leave some column families missing; it finishes
    // them at its next open. Until then there are no events to read.
    std::vector<std::string> existing;
    const rocksdb::Status ls = rocksdb::DB::ListColumnFamilies(opts, dir, &existing);
    if (!ls.ok()) {
      Error e = rocks_error(ls, fmt::format("cannot open ledger {}", dir));
      e.message += damaged_hint(dir);
      return e;
    }
    for (auto name : kCfNames) {
      if (std::find(existing.begin(), existing.end(), name) == existing.end()) {
        return make_error(
            fmt::format("ledger {} is not fully created yet (no events); append to it first", dir));
      }
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  // A reader's block cache: its size bounds what index, filter and data blocks a long query keeps; it is
  // filled only as lookups need blocks.
  const std::shared_ptr<rocksdb::Cache> reader_cache =
      access == Access::kRead ? rocksdb::NewLRUCache(kReaderCacheBytes, /*num_shard_bits=*/0) : nullptr;
  cfs.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_options("", reader_cache));
  for (auto name : kCfNames) cfs.emplace_back(std::string(name), cf_options(name, reader_cache));
  if (access == Access::kRead) {
    // A reader's memtables only hold what it replays of the WAL: no bloom filter for them. Each filter
    // is a twentieth of the write buffer, zeroed when the memtable is made: 0.8 MiB a column family, a
    // quarter of a one-account `balance` command's time in page faults and memset on this machine.
    for (auto& cf : cfs) {
      cf.options.memtable_prefix_bloom_size_ratio = 0;
      cf.options.memtable_whole_key_filtering = false;
    }
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
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
  if (!s.ok()) {
    Error e = rocks_error(s, fmt::format("cannot open ledger {}", dir));
    // A full disk or a failing device is not damage; anything else in an existing ledger is.
    const bool transient = s.IsIOError() && s.ToString().find("No such file") == std::string::npos;
    if (!fresh && !transient) e.message += damaged_hint(dir);
    return e;
  }
  l->db_.reset(raw);
  // handles[0] is the default family, unused; keep ours in Cf order.
  l->db_->DestroyColumnFamilyHandle(handles[0]);
  l->handles_.assign(handles.begin() + 1, handles.end());

  if (access != Access::kRead) {
    std::string v;
    s = l->db_->Get(rocksdb::ReadOptions(), l->cf(Cf::kMeta), std::string(format::kMetaFormat), &v);
    if (s.IsNotFound() && fresh) {
      FZ_TRY(l->init_new_ledger());
    } else if (!s.ok() && !s.IsNotFound()) {
      return rocks_error(s, fmt::format("cannot read ledger {}", dir));
    } else if (s.IsNotFound() || v != format::kMetaFormatValue) {
      return make_error(fmt::format("{} is not a fenzhang ledger of a format this build reads", dir));
    }
  }
  if (access != Access::kRead) l->remove_ingest_leftovers();
  FZ_TRY(l->load_head());
  l->log_head_seq_ = l->head_seq_;
  if (real_dir && access != Access::kScratch) FZ_TRY(l->check_witness(witnessed, fresh));
  return l;
}

// Writes the format key of a new ledger (check_witness then writes its first witness and removes the
// creation marker: from there on the directory is a ledger and is never created again).
Status Ledger::init_new_ledger() {
  rocksdb::WriteBatch batch;
  batch.Put(cf(Cf::kMeta), std::string(format::kMetaFormat), std::string(format::kMetaFormatValue));
  rocksdb::WriteOptions wo;
  wo.sync = access_ == Access::kWrite;
  wo.disableWAL = access_ == Access::kScratch;
  FZ_TRY(from_rocks(db_->Write(wo, &batch), fmt::format("cannot initialise ledger {}", dir_)));
  return Status::Ok();
}

// The log must reach the witnessed head, with the same hash there (SPEC section 7). A writer then
// witnesses the log's actual head (a batch synced just before a crash, but not yet witnessed, counts).
Status Ledger::check_witness(const std::optional<WitnessedHead>& witnessed, bool fresh) {
  if (witnessed) {
    if (head_seq_ < witnessed->seq) {
      return make_corruption_error(fmt::format(
          "ledger {}: the event log ends at seq {} but seq {} was acknowledged (head {}): events {}-{} are "
          "missing. Its write-ahead log was truncated or deleted, or an older copy was put in its place; "
          "restore the ledger from a backup",
          dir_, head_seq_, witnessed->seq, hash_hex(witnessed->hash), head_seq_ + 1, witnessed->seq));
    }
    if (witnessed->seq > 0) {
      auto raw = raw_event(witnessed->seq);
      if (!raw) return raw.error();
      std::string_view record;
      format::Hash stored{};
      if (!raw->has_value() || !split_stored_value(**raw, &record, &stored) || stored != witnessed->hash) {
        return make_corruption_error(fmt::format(
            "ledger {}: event {} does not carry the acknowledged head hash {}: the log was rewritten or "
            "replaced; restore the ledger from a backup and run 'fenzhang verify'",
            dir_, witnessed->seq, hash_hex(witnessed->hash)));
      }
    }
  } else if (!fresh) {
    std::string v;
    const rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), cf(Cf::kMeta), std::string(format::kMetaWitness), &v);
    if (s.ok()) {
      return make_corruption_error(
          fmt::format("ledger {}: its head witness {} is missing, so a lost tail of the log could not be "
                      "detected; restore "
                      "the ledger directory from a backup",
                      dir_, HeadWitness::path_in(dir_)));
    }
    if (!s.IsNotFound()) return rocks_error(s, fmt::format("cannot read ledger {}", dir_));
  }
  if (access_ != Access::kWrite) return Status::Ok();
  auto w = HeadWitness::open_for_write(dir_);
  if (!w) return w.error();
  witness_.emplace(std::move(*w));
  if (!witnessed) {
    // A ledger from before witnesses (or a new one): from now on the witness must be there.
    rocksdb::WriteOptions wo;
    wo.sync = true;
    FZ_TRY(from_rocks(db_->Put(wo, cf(Cf::kMeta), std::string(format::kMetaWitness), "1"),
                      fmt::format("cannot write to ledger {}", dir_)));
  }
  if (!witnessed || witnessed->seq != head_seq_)
    FZ_TRY(witness_->write(WitnessedHead{head_seq_, head_hash_}));
  const std::string marker = dir_ + "/" + std::string(format::kCreatingFile);
  if (::unlink(marker.c_str()) == 0) FZ_TRY(sync_path(dir_));
  return Status::Ok();
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
    return make_corruption_error(
        fmt::format("ledger {}: the last event log entry is malformed; run 'fenzhang verify'", dir_));
  }
  return Status::Ok();
}

Status Ledger::limit_head_for_reading(std::uint64_t seq) {
  assert(access_ == Access::kRead);
  if (access_ != Access::kRead) return make_error("only a read-only ledger can be limited to a checkpoint");
  if (seq > log_head_seq_) {
    return make_corruption_error(fmt::format(
        "ledger {}: the projection covers events 1..{} but the log ends at seq {}; run 'fenzhang verify'",
        dir_, seq, log_head_seq_));
  }
  format::Hash hash{};
  if (seq > 0) {
    auto stored = read(seq);
    if (!stored) return stored.error();
    hash = stored->hash;
  }
  head_seq_ = seq;
  head_hash_ = hash;
  return Status::Ok();
}

Result<std::optional<std::uint64_t>> Ledger::seq_of(std::string_view id) const {
  std::string v;
  const rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf(Cf::kIds), rocksdb::Slice(id.data(), id.size()), &v);
  if (s.IsNotFound()) return std::optional<std::uint64_t>{};
  if (!s.ok()) return rocks_error(s, "cannot read the id index");
  std::uint64_t seq = 0;
  if (!format::parse_seq_key(v, &seq))
    return make_corruption_error(fmt::format("id index entry for {} is malformed", id));
  return std::optional<std::uint64_t>{seq};
}

namespace {

// One MultiGet of `keys` in `family`; fn(i, value) for each key found. The keys are sorted here (by
// byte, RocksDB's default comparator): RocksDB's own sort compares through its comparator object and
// costs several times more.
template <class F>
Status multi_get(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family, std::span<const std::string_view> keys,
                 std::string_view what, F fn) {
  std::vector<std::uint32_t> order(keys.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return keys[a] < keys[b]; });
  std::vector<rocksdb::Slice> slices;
  slices.reserve(keys.size());
  for (std::uint32_t i : order) slices.emplace_back(keys[i].data(), keys[i].size());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db.MultiGet(rocksdb::ReadOptions(), family, keys.size(), slices.data(), values.data(), statuses.data(),
              /*sorted_input=*/true);
  for (std::size_t j = 0; j < order.size(); ++j) {
    if (statuses[j].IsNotFound()) continue;
    if (!statuses[j].ok()) return rocks_error(statuses[j], what);
    FZ_TRY(fn(order[j], std::string_view(values[j].data(), values[j].size())));
  }
  return Status::Ok();
}

}  // namespace

Status Ledger::seqs_of_many(std::span<const std::string_view> ids,
                            std::vector<std::optional<std::uint64_t>>* out) const {
  out->assign(ids.size(), std::nullopt);
  return multi_get(
      *db_, cf(Cf::kIds), ids, "cannot read the id index", [&](std::size_t i, std::string_view v) {
        std::uint64_t seq = 0;
        if (!format::parse_seq_key(v, &seq))
          return Status(make_corruption_error(fmt::format("id index entry for {} is malformed", ids[i])));
        (*out)[i] = seq;
        return Status::Ok();
      });
}

Status Ledger::get_many(Family family, std::span<const std::string_view> keys,
                        std::vector<std::optional<std::string>>* out) const {
  out->assign(keys.size(), std::nullopt);
  return multi_get(*db_, cf(family), keys,
                   fmt::format("cannot read the projection's {}", family_name(family)),
                   [&](std::size_t i, std::string_view v) {
                     (*out)[i].emplace(v);
                     return Status::Ok();
                   });
}

Result<std::optional<std::string>> Ledger::raw_event(std::uint64_t seq) const {
  std::string v;
  const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(Cf::kEvents), format::seq_key(seq), &v);
  if (s.IsNotFound()) return std::optional<std::string>{};
  if (!s.ok()) return rocks_error(s, fmt::format("cannot read event {}", seq));
  return std::optional<std::string>{std::move(v)};
}

Result<StoredEvent> Ledger::read(std::uint64_t seq) const {
  auto raw = raw_event(seq);
  if (!raw) return raw.error();
  if (!raw->has_value()) return make_corruption_error(fmt::format("event {} is not in the log", seq));
  StoredEvent out;
  FZ_TRY(decode_stored(seq, **raw, &out));
  return out;
}

Status Ledger::scan_stored(std::uint64_t first_seq, std::uint64_t last_seq,
                           const std::function<Status(std::uint64_t, std::string_view)>& fn) const {
  rocksdb::ReadOptions ro;
  ro.verify_checksums = true;
  ro.readahead_size = 2 << 20;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(Cf::kEvents)));
  for (it->Seek(format::seq_key(first_seq)); it->Valid(); it->Next()) {
    std::uint64_t seq = 0;
    if (!format::parse_seq_key(std::string_view(it->key().data(), it->key().size()), &seq)) {
      return make_corruption_error("event log key is malformed");
    }
    if (seq > last_seq) break;
    FZ_TRY(fn(seq, std::string_view(it->value().data(), it->value().size())));
  }
  return from_rocks(it->status(), "cannot read the event log");
}

Status decode_stored(std::uint64_t seq, std::string_view value, StoredEvent* out) {
  out->seq = seq;
  std::string_view record;
  if (!split_stored_value(value, &record, &out->hash)) {
    return make_corruption_error(fmt::format("event {} is malformed", seq));
  }
  out->record.assign(record);
  auto e = decode_event(out->record);
  if (!e) return make_corruption_error(fmt::format("event {}: {}", seq, e.message()));
  out->event = std::move(*e);
  return Status::Ok();
}

Status Ledger::scan(std::uint64_t first_seq, std::uint64_t last_seq,
                    const std::function<Status(const StoredEvent&)>& fn) const {
  StoredEvent se;
  return scan_stored(first_seq, last_seq, [&](std::uint64_t seq, std::string_view value) -> Status {
    FZ_TRY(decode_stored(seq, value, &se));
    return fn(se);
  });
}

rocksdb::ColumnFamilyHandle* Ledger::cf(Family which) const {
  switch (which) {
    case Family::kMeta:
      return cf(Cf::kMeta);
    case Family::kPostings:
      return cf(Cf::kPostings);
    case Family::kAccounts:
      return cf(Cf::kAccounts);
    case Family::kEntities:
      return cf(Cf::kEntities);
    case Family::kTargets:
      return cf(Cf::kTargets);
  }
  std::abort();  // every Family is named above
}

Result<bool> Ledger::get(Family family, std::string_view key, std::string* value) const {
  const rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf(family), rocksdb::Slice(key.data(), key.size()), value);
  if (s.IsNotFound()) return false;
  if (s.ok()) return true;
  return s.IsCorruption() ? make_corruption_error(s.ToString()) : make_io_error(s.ToString());
}

ProjectionCursor Ledger::cursor(Family family) const {
  return ProjectionCursor(
      std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(rocksdb::ReadOptions(), cf(family))));
}

void Ledger::flush_memtables_over(std::uint64_t bytes) {
  std::uint64_t held = 0;
  if (!db_->GetAggregatedIntProperty(rocksdb::DB::Properties::kCurSizeAllMemTables, &held) || held < bytes) {
    return;
  }
  (void)db_->Flush(rocksdb::FlushOptions(), handles_);  // a failed flush only leaves the WAL longer
}

rocksdb::WriteOptions Ledger::write_options() const {
  rocksdb::WriteOptions wo;
  wo.sync = access_ == Access::kWrite;
  wo.disableWAL = access_ == Access::kScratch;
  return wo;
}

namespace {
// A batch names column families by this ledger's handles: another ledger's would write elsewhere.
Status check_owner(const Ledger* owner, const Ledger* ledger) {
  if (owner == ledger) return Status::Ok();
  return make_error("internal error: a projection batch made for one ledger was written to another");
}
}  // namespace

Status Ledger::write(ProjectionBatch& batch) {
  FZ_TRY(check_owner(batch.ledger_, this));
  return write_raw(batch.batch_);
}

Status Ledger::write_raw(rocksdb::WriteBatch& batch) {
  if (access_ == Access::kRead) return make_error("ledger is open read-only");
  const rocksdb::WriteOptions wo = write_options();
  return from_rocks(db_->Write(wo, &batch), fmt::format("cannot write to ledger {}", dir_));
}

namespace {

// The puts and deletes of a checkpoint batch, per column family, as slices into the batch.
class CheckpointOps final : public rocksdb::WriteBatch::Handler {
 public:
  struct Op {
    rocksdb::Slice key;
    rocksdb::Slice value;
    bool del = false;
  };
  explicit CheckpointOps(const std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
    for (std::size_t i = 0; i < handles.size(); ++i) ids_.emplace_back(handles[i]->GetID(), i);
  }
  rocksdb::Status PutCF(std::uint32_t cf_id, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    return add(cf_id, Op{key, value, false});
  }
  rocksdb::Status DeleteCF(std::uint32_t cf_id, const rocksdb::Slice& key) override {
    return add(cf_id, Op{key, rocksdb::Slice(), true});
  }
  // Range deletions, merges and the rest keep the Handler's default: an error, so the caller writes the
  // batch the ordinary way.

  // Each family's ops in key order, the last op of a key winning (as it would in a WriteBatch).
  void sort() {
    for (auto& v : ops) {
      std::stable_sort(v.begin(), v.end(), [](const Op& a, const Op& b) { return a.key.compare(b.key) < 0; });
      std::vector<Op> unique;
      unique.reserve(v.size());
      for (const Op& op : v) {
        if (!unique.empty() && unique.back().key == op.key) {
          unique.back() = op;
        } else {
          unique.push_back(op);
        }
      }
      v.swap(unique);
    }
  }

  std::array<std::vector<Op>, kCfCount> ops;

 private:
  rocksdb::Status add(std::uint32_t cf_id, Op op) {
    for (const auto& [id, index] : ids_) {
      if (id != cf_id) continue;
      const Cf cf = static_cast<Cf>(index);
      if (cf == Cf::kEvents || cf == Cf::kIds)
        return rocksdb::Status::NotSupported("the log is not a checkpoint");
      ops[index].push_back(op);
      return rocksdb::Status::OK();
    }
    return rocksdb::Status::NotSupported("unknown column family");
  }
  std::vector<std::pair<std::uint32_t, std::size_t>> ids_;
};

}  // namespace

Status Ledger::write_projection(ProjectionBatch& projection) {
  if (access_ == Access::kRead) return make_error("ledger is open read-only");
  FZ_TRY(check_owner(projection.ledger_, this));
  rocksdb::WriteBatch& batch = projection.batch_;
  if (batch.Count() == 0) return Status::Ok();
  CheckpointOps ops(handles_);
  if (!batch.Iterate(&ops).ok()) return write_raw(batch);
  ops.sort();
  const std::string what = fmt::format("cannot write the projection checkpoint of ledger {}", dir_);
  rocksdb::Env* env = db_->GetEnv();
  std::vector<rocksdb::IngestExternalFileArg> args;
  std::vector<std::string> built;
  auto remove_built = [&] {
    for (const std::string& f : built) (void)env->DeleteFile(f);
  };
  for (std::size_t i = 0; i < ops.ops.size(); ++i) {
    if (ops.ops[i].empty()) continue;
    rocksdb::ColumnFamilyHandle* family = handles_[i];
    const rocksdb::Options options(db_->GetDBOptions(), db_->GetOptions(family));
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(options), options, family,
                                  /*invalidate_page_cache=*/false);
    const std::string path = fmt::format("{}/{}{}.sst", dir_, format::kIngestFilePrefix, ++ingest_files_);
    rocksdb::Status st = writer.Open(path);
    built.push_back(path);
    for (const CheckpointOps::Op& op : ops.ops[i]) {
      if (!st.ok()) break;
      st = op.del ? writer.Delete(op.key) : writer.Put(op.key, op.value);
    }
    if (st.ok()) st = writer.Finish();
    if (!st.ok()) {
      remove_built();
      return rocks_error(st, what);
    }
    rocksdb::IngestExternalFileArg arg;
    arg.column_family = family;
    arg.external_files = {path};
    arg.options.move_files = true;            // a hard link, not a copy
    arg.options.write_global_seqno = false;   // the sequence number lives in RocksDB's metadata, not the file
    arg.options.allow_blocking_flush = true;  // a family's memtable holding keys in range is flushed first
    args.push_back(std::move(arg));
  }
  // One MANIFEST record for every family: after a crash either the whole checkpoint is there or none of
  // it (then the projection head is the previous checkpoint's, and the next writer replays after it).
  const rocksdb::Status st = db_->IngestExternalFiles(args);
  remove_built();  // what the ingestion moved is gone already; what it did not must not stay
  return from_rocks(st, what);
}

void Ledger::remove_ingest_leftovers() {
  rocksdb::Env* env = db_->GetEnv();
  std::vector<std::string> children;
  if (!env->GetChildren(dir_, &children).ok()) return;
  for (const std::string& name : children) {
    if (name.starts_with(format::kIngestFilePrefix)) (void)env->DeleteFile(dir_ + "/" + name);
  }
}

Status Ledger::create_reader_snapshot() {
  if (!witness_) return Status::Ok();
  const std::string final_dir = reader_snapshot_dir(dir_);
  std::error_code ec;
  if (std::filesystem::exists(final_dir, ec)) return Status::Ok();  // an interrupted rebuild's: still valid
  const std::string tmp = final_dir + ".tmp";
  std::filesystem::remove_all(tmp, ec);
  rocksdb::Checkpoint* raw = nullptr;
  FZ_TRY(from_rocks(rocksdb::Checkpoint::Create(db_.get(), &raw), "cannot snapshot the ledger for readers"));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  FZ_TRY(from_rocks(checkpoint->CreateCheckpoint(tmp), "cannot snapshot the ledger for readers"));
  auto w = HeadWitness::open_for_write(tmp);
  if (!w) return w.error();
  FZ_TRY(w->write(WitnessedHead{head_seq_, head_hash_}));
  FZ_TRY(sync_path(tmp));
  if (::rename(tmp.c_str(), final_dir.c_str()) != 0) {
    return make_io_error(fmt::format("cannot rename {}: {}", tmp, std::strerror(errno)));
  }
  return sync_path(dir_);
}

Status Ledger::remove_reader_snapshot() {
  if (!witness_) return Status::Ok();
  // Renamed away first, then deleted: a kill during remove_all must never leave a half-deleted
  // snapshot under the name that create_reader_snapshot() and the readers take for a complete one
  // (found by the kill loop: a later interrupted rebuild then had no usable snapshot for readers).
  const std::string final_dir = reader_snapshot_dir(dir_);
  const std::string doomed = final_dir + ".old";
  std::error_code ec;
  std::filesystem::remove_all(doomed, ec);
  if (ec) return make_io_error(fmt::format("cannot remove {}: {}", doomed, ec.message()));
  if (!std::filesystem::exists(final_dir, ec)) return Status::Ok();
  if (::rename(final_dir.c_str(), doomed.c_str()) != 0) {
    return make_io_error(fmt::format("cannot rename {}: {}", final_dir, std::strerror(errno)));
  }
  FZ_TRY(sync_path(dir_));
  std::filesystem::remove_all(doomed, ec);
  if (ec) return make_io_error(fmt::format("cannot remove {}: {}", doomed, ec.message()));
  return Status::Ok();
}

Status Ledger::commit(ProjectionBatch& batch, std::uint64_t new_head_seq, const format::Hash& new_head_hash) {
  if (access_ == Access::kRead) return make_error("ledger is open read-only");
  FZ_TRY(check_owner(batch.ledger_, this));
  const rocksdb::WriteOptions wo = write_options();
  const rocksdb::Status st = db_->Write(wo, &batch.batch_);
  // Counted whatever the outcome: a read-ahead must never take a failed write for no write.
  log_writes_.fetch_add(1, std::memory_order_release);
  FZ_TRY(from_rocks(st, fmt::format("cannot write to ledger {}", dir_)));
  head_seq_ = new_head_seq;
  log_head_seq_ = new_head_seq;
  head_hash_ = new_head_hash;
  // The batch is durable; it is acknowledged only once the witness says so.
  if (witness_) FZ_TRY(witness_->write(WitnessedHead{head_seq_, head_hash_}));
  return Status::Ok();
}

}  // namespace fz
