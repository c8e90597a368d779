// Fault injection below RocksDB (issue 7): a FileSystem wrapper that runs out of space, fails fsync, or
// fails / corrupts reads of table and WAL files. Shows that a full disk makes an append fail with a clear
// error and leaves nothing partial, that appending resumes once space returns (and re-running the same
// append is safe), and that read errors make verify and the queries fail loudly instead of answering
// with wrong numbers.
#include <doctest/doctest.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>

#include "engine/queries.hpp"
#include "tests/hardening/hardening.hpp"

using namespace fz;
using namespace fz::hardening;
using fz::test::TempDir;

namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The switches of one fault-injecting file system. All atomics: RocksDB writes and reads from its
// background threads too.
struct Faults {
  // Bytes that may still be written before the disk is full; a write that does not fit writes what
  // fits (as a real file system does) and fails with ENOSPC. Creating a file fails once it is 0.
  std::atomic<std::int64_t> space{INT64_MAX};
  std::atomic<bool> sync_fails{false};  // data reaches the file, fsync reports EIO
  enum ReadFault : int { kNone, kError, kFlip };
  std::atomic<int> read_fault{kNone};  // for files whose name ends in read_suffix
  std::string read_suffix = ".sst";
  // For kFlip on sequential files (WAL replay): flip only the byte at this file offset.
  std::atomic<std::int64_t> flip_offset{-1};
  std::atomic<int> injected{0};  // how many faults were injected

  bool reads_faulty(const std::string& fname) const {
    return read_fault.load() != kNone && ends_with(fname, read_suffix);
  }
};

rocksdb::IOStatus no_space(const std::string& what, const std::string& fname) {
  return rocksdb::IOStatus::NoSpace(what + ": " + fname, "No space left on device");
}

class FaultWritable : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultWritable(std::unique_ptr<rocksdb::FSWritableFile>&& f, Faults& faults, std::string fname)
      : FSWritableFileOwnerWrapper(std::move(f)), faults_(faults), fname_(std::move(fname)) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* dbg) override {
    return append(data, [&](const rocksdb::Slice& d) { return target()->Append(d, o, dbg); });
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           const rocksdb::DataVerificationInfo& info, rocksdb::IODebugContext* dbg) override {
    return append(data, [&](const rocksdb::Slice& d) { return target()->Append(d, o, info, dbg); });
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const rocksdb::IOOptions& o,
                                     rocksdb::IODebugContext* dbg) override {
    return append(data,
                  [&](const rocksdb::Slice& d) { return target()->PositionedAppend(d, offset, o, dbg); });
  }
  rocksdb::IOStatus Allocate(uint64_t offset, uint64_t len, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
    if (faults_.space.load() <= 0) return fail("While allocating space in file");
    return target()->Allocate(offset, len, o, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (Status s = sync_fault(); !s.ok())
      return rocksdb::IOStatus::IOError("While fsync: " + fname_, s.message());
    return target()->Sync(o, dbg);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (Status s = sync_fault(); !s.ok())
      return rocksdb::IOStatus::IOError("While fsync: " + fname_, s.message());
    return target()->Fsync(o, dbg);
  }
  rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t n, const rocksdb::IOOptions& o,
                              rocksdb::IODebugContext* dbg) override {
    if (Status s = sync_fault(); !s.ok())
      return rocksdb::IOStatus::IOError("While fsync: " + fname_, s.message());
    return target()->RangeSync(offset, n, o, dbg);
  }

 private:
  template <class F>
  rocksdb::IOStatus append(const rocksdb::Slice& data, F write) {
    const std::int64_t left = faults_.space.load();
    if (left >= static_cast<std::int64_t>(data.size())) {
      if (left != INT64_MAX) faults_.space -= static_cast<std::int64_t>(data.size());
      return write(data);
    }
    // A partial write: the part that fits reaches the file, then ENOSPC.
    if (left > 0) {
      faults_.space = 0;
      (void)write(rocksdb::Slice(data.data(), static_cast<std::size_t>(left)));
    }
    return fail("While appending to file");
  }
  rocksdb::IOStatus fail(const std::string& what) {
    ++faults_.injected;
    return no_space(what, fname_);
  }
  Status sync_fault() {
    if (faults_.sync_fails.load()) {
      ++faults_.injected;
      return make_error("Input/output error");
    }
    if (faults_.space.load() <= 0) {
      ++faults_.injected;
      return make_error("No space left on device");
    }
    return Status::Ok();
  }

  Faults& faults_;
  std::string fname_;
};

void flip_or_fail(Faults& faults, const std::string& fname, rocksdb::IOStatus* s, rocksdb::Slice* result,
                  char* scratch, std::int64_t file_offset) {
  if (!s->ok() || result->empty()) return;
  if (faults.read_fault.load() == Faults::kError) {
    ++faults.injected;
    *s = rocksdb::IOStatus::IOError("While reading " + fname, "injected read error");
    return;
  }
  // kFlip: one bit of the returned data is wrong (a disk or controller returning bad data).
  std::size_t at = 0;
  const std::int64_t want = faults.flip_offset.load();
  if (want >= 0) {
    if (want < file_offset || want >= file_offset + static_cast<std::int64_t>(result->size())) return;
    at = static_cast<std::size_t>(want - file_offset);
  } else {
    at = result->size() / 2;
  }
  if (result->data() != scratch) {
    std::memmove(scratch, result->data(), result->size());
    *result = rocksdb::Slice(scratch, result->size());
  }
  scratch[at] = static_cast<char>(scratch[at] ^ 0x10);
  ++faults.injected;
}

class FaultRandomAccess : public rocksdb::FSRandomAccessFileOwnerWrapper {
 public:
  FaultRandomAccess(std::unique_ptr<rocksdb::FSRandomAccessFile>&& f, Faults& faults, std::string fname)
      : FSRandomAccessFileOwnerWrapper(std::move(f)), faults_(faults), fname_(std::move(fname)) {}
  rocksdb::IOStatus Read(uint64_t offset, size_t n, const rocksdb::IOOptions& o, rocksdb::Slice* result,
                         char* scratch, rocksdb::IODebugContext* dbg) const override {
    rocksdb::IOStatus s = target()->Read(offset, n, o, result, scratch, dbg);
    if (faults_.reads_faulty(fname_)) {
      flip_or_fail(faults_, fname_, &s, result, scratch, static_cast<std::int64_t>(offset));
    }
    return s;
  }
  rocksdb::IOStatus MultiRead(rocksdb::FSReadRequest* reqs, size_t num_reqs, const rocksdb::IOOptions& o,
                              rocksdb::IODebugContext* dbg) override {
    for (size_t i = 0; i < num_reqs; ++i) {
      reqs[i].status = Read(reqs[i].offset, reqs[i].len, o, &reqs[i].result, reqs[i].scratch, dbg);
    }
    return rocksdb::IOStatus::OK();
  }

 private:
  Faults& faults_;
  std::string fname_;
};

class FaultSequential : public rocksdb::FSSequentialFileOwnerWrapper {
 public:
  FaultSequential(std::unique_ptr<rocksdb::FSSequentialFile>&& f, Faults& faults, std::string fname)
      : FSSequentialFileOwnerWrapper(std::move(f)), faults_(faults), fname_(std::move(fname)) {}
  rocksdb::IOStatus Read(size_t n, const rocksdb::IOOptions& o, rocksdb::Slice* result, char* scratch,
                         rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->Read(n, o, result, scratch, dbg);
    const std::int64_t at = pos_;
    if (s.ok()) pos_ += static_cast<std::int64_t>(result->size());
    if (faults_.reads_faulty(fname_)) flip_or_fail(faults_, fname_, &s, result, scratch, at);
    return s;
  }
  rocksdb::IOStatus Skip(uint64_t n) override {
    pos_ += static_cast<std::int64_t>(n);
    return target()->Skip(n);
  }
  bool use_direct_io() const override { return false; }

 private:
  Faults& faults_;
  std::string fname_;
  std::int64_t pos_ = 0;
};

class FaultFs : public rocksdb::FileSystemWrapper {
 public:
  FaultFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  static const char* kClassName() { return "FenzhangFaultFs"; }
  const char* Name() const override { return kClassName(); }

  Faults faults;

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& fo,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    return wrap_writable(f, target()->NewWritableFile(f, fo, r, dbg), r);
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& fo,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override {
    return wrap_writable(f, target()->ReopenWritableFile(f, fo, r, dbg), r);
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& fo,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* dbg) override {
    return wrap_writable(f, target()->ReuseWritableFile(f, old, fo, r, dbg), r);
  }
  rocksdb::IOStatus NewRandomAccessFile(const std::string& f, const rocksdb::FileOptions& fo,
                                        std::unique_ptr<rocksdb::FSRandomAccessFile>* r,
                                        rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewRandomAccessFile(f, fo, r, dbg);
    if (s.ok()) *r = std::make_unique<FaultRandomAccess>(std::move(*r), faults, f);
    return s;
  }
  rocksdb::IOStatus NewSequentialFile(const std::string& f, const rocksdb::FileOptions& fo,
                                      std::unique_ptr<rocksdb::FSSequentialFile>* r,
                                      rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewSequentialFile(f, fo, r, dbg);
    if (s.ok()) *r = std::make_unique<FaultSequential>(std::move(*r), faults, f);
    return s;
  }

 private:
  rocksdb::IOStatus wrap_writable(const std::string& f, rocksdb::IOStatus s,
                                  std::unique_ptr<rocksdb::FSWritableFile>* r) {
    if (!s.ok()) return s;
    if (faults.space.load() <= 0) {
      r->reset();
      ++faults.injected;
      std::error_code ec;
      std::filesystem::remove(f, ec);
      return no_space("While open a file for appending", f);
    }
    *r = std::make_unique<FaultWritable>(std::move(*r), faults, f);
    return s;
  }
};

struct FaultEnv {
  std::shared_ptr<FaultFs> fs = std::make_shared<FaultFs>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  Faults& faults() { return fs->faults; }
};

// The state a ledger holding exactly `text` has, built without any fault.
Snapshot control(const std::string& text) {
  TempDir dir;
  auto l = Ledger::open(dir / "db", Ledger::Access::kWrite);
  REQUIRE(l.ok());
  append_ok(**l, text);
  return snapshot(**l);
}

void check_healthy(const Ledger& l) {
  Status s = verify_all(l);
  CHECK_MESSAGE(s.ok(), s.message());
}

}  // namespace

TEST_CASE("disk full: append fails with a clear error, nothing partial is visible, appending resumes") {
  TempDir dir;
  FaultEnv fe;
  const std::string db = dir / "db";
  const std::string first = base_text() + adjustments(1, 60);
  const std::string more = adjustments(61, 200);
  Snapshot before;
  std::uint64_t written = 0;
  {
    auto l = Ledger::open(db, Ledger::Access::kWrite, fe.env.get());
    REQUIRE(l.ok());
    append_ok(**l, first);
    before = snapshot(**l);

    // The disk fills up in the middle of an append of several synced batches.
    fe.faults().space = 20000;
    AppendOutcome o = append(**l, more, "more.jsonl", /*batch_events=*/25);
    REQUIRE_FALSE(o.report.ok());
    CHECK(fe.faults().injected > 0);
    const std::string prefix =
        fmt::format("cannot write to ledger {}: IO error: No space left on device", db);
    CHECK_MESSAGE(o.report.message().starts_with(prefix), o.report.message());
    // The writer's own view: only whole batches, the chain intact.
    written = (*l)->head_seq() - before.head_seq;
    CHECK(written % 25 == 0);
    CHECK(written > 0);  // some batches made it before the disk filled up
    CHECK(written < 200);
    // Further appends fail with an error too, while the disk is full (RocksDB keeps the database in a
    // read-only error state after a failed WAL write: it takes a reopen to write again).
    AppendOutcome again = append(**l, adjustments(500, 1));
    CHECK_FALSE(again.report.ok());
    fe.faults().space = INT64_MAX;
    AppendOutcome after_space = append(**l, adjustments(500, 1));
    CHECK_FALSE(after_space.report.ok());
    MESSAGE("after a failed write, the same process sees: "
            << (after_space.report.ok() ? std::string("ok") : after_space.report.message()));
    fe.faults().space = 0;
  }  // the process ends with the disk still full: closing must not crash (its flush fails)

  // The next process, disk still full: opening for writing fails with a clear error; reading works.
  {
    auto w = Ledger::open(db, Ledger::Access::kWrite, fe.env.get());
    REQUIRE_FALSE(w.ok());
    CHECK_MESSAGE(
        w.message().starts_with(fmt::format("cannot open ledger {}: IO error: No space left on device", db)),
        w.message());
    auto r = Ledger::open(db, Ledger::Access::kRead, fe.env.get());
    REQUIRE_MESSAGE(r.ok(), r.message());
    CHECK((*r)->head_seq() >= before.head_seq);
    check_healthy(**r);
  }

  // Space returns: the ledger opens to a prefix of whole acknowledged batches, verify passes, and
  // re-running the same append finishes the job (what was written is reported as duplicates).
  fe.faults().space = INT64_MAX;
  auto l = Ledger::open(db, Ledger::Access::kWrite, fe.env.get());
  REQUIRE_MESSAGE(l.ok(), l.message());
  // Exactly the acknowledged batches: the one cut short by ENOSPC (a torn WAL record) is gone.
  const std::uint64_t kept = (*l)->head_seq() - before.head_seq;
  CHECK(kept == written);
  CHECK(snapshot(**l).values.size() == before.head_seq + kept);
  for (std::uint64_t seq = 1; seq <= before.head_seq; ++seq)
    CHECK((*l)->raw_event(seq).value() == before.values[seq - 1]);
  check_healthy(**l);
  AppendOutcome o = append(**l, more, "more.jsonl", 25);
  REQUIRE_MESSAGE(o.report.ok(), o.report.message());
  CHECK(o.rejections.empty());
  CHECK(o.report->duplicates == kept);
  CHECK(o.report->appended == 200 - kept);
  CHECK(snapshot(**l) == control(first + more));
  check_healthy(**l);
}

TEST_CASE("the disk is full from the start of an append: nothing changes, the error is clear") {
  TempDir dir;
  FaultEnv fe;
  const std::string db = dir / "db";
  auto l = Ledger::open(db, Ledger::Access::kWrite, fe.env.get());
  REQUIRE(l.ok());
  append_ok(**l, base_text());
  const Snapshot before = snapshot(**l);
  fe.faults().space = 0;
  AppendOutcome o = append(**l, adjustments(1, 10));
  REQUIRE_FALSE(o.report.ok());
  CHECK_MESSAGE(o.report.message().starts_with(
                    fmt::format("cannot write to ledger {}: IO error: No space left on device", db)),
                o.report.message());
  CHECK((*l)->head_seq() == before.head_seq);
  CHECK(snapshot(**l) == before);  // the failed batch is not visible, not even to this process
  l = make_error("closed");
  fe.faults().space = INT64_MAX;
  l = Ledger::open(db, Ledger::Access::kWrite, fe.env.get());
  REQUIRE_MESSAGE(l.ok(), l.message());
  CHECK(snapshot(**l) == before);
  check_healthy(**l);
  append_ok(**l, adjustments(1, 10));
  CHECK(snapshot(**l) == control(base_text() + adjustments(1, 10)));
}

TEST_CASE("fsync fails: the batch's fate is settled at reopen, whole or not at all, and re-running is safe") {
  TempDir dir;
  FaultEnv fe;
  const std::string db = dir / "db";
  const std::string batch = adjustments(1, 30);
  Snapshot before;
  {
    auto l = Ledger::open(db, Ledger::Access::kWrite, fe.env.get());
    REQUIRE(l.ok());
    append_ok(**l, base_text());
    before = snapshot(**l);
    fe.faults().sync_fails = true;
    AppendOutcome o = append(**l, batch);
    REQUIRE_FALSE(o.report.ok());
    CHECK_MESSAGE(
        o.report.message().starts_with(fmt::format("cannot write to ledger {}: IO error: While fsync", db)),
        o.report.message());
    CHECK((*l)->head_seq() == before.head_seq);
    fe.faults().sync_fails = false;
  }
  auto l = Ledger::open(db, Ledger::Access::kWrite, fe.env.get());
  REQUIRE_MESSAGE(l.ok(), l.message());
  // The data reached the WAL before fsync failed, so the batch may come back at reopen: all of it or none.
  const std::uint64_t back = (*l)->head_seq() - before.head_seq;
  CHECK((back == 0 || back == 30));
  check_healthy(**l);
  AppendOutcome o = append(**l, batch);
  REQUIRE_MESSAGE(o.report.ok(), o.report.message());
  CHECK(o.report->duplicates == back);
  CHECK(o.report->appended == 30 - back);
  CHECK(snapshot(**l) == control(base_text() + batch));
}

namespace {

// A ledger of enough events that its tables span many blocks, closed (so everything is in SST files).
struct ReadFixture {
  TempDir dir;
  std::string db = dir / "db";
  Snapshot healthy;
  std::vector<engine::BalanceRow> balances;
  std::vector<engine::Posting> journal;
  ReadFixture() {
    auto l = Ledger::open(db, Ledger::Access::kWrite);
    REQUIRE(l.ok());
    append_ok(**l, base_text() + adjustments(1, 1500));
    healthy = snapshot(**l);
    balances = engine::balances(**l, "", std::nullopt, 0).value();
    journal = engine::journal(**l, engine::JournalFilter{}).value();
  }
};

bool loud(const std::string& message) {
  return message.find("IO error") != std::string::npos || message.find("Corruption") != std::string::npos;
}

}  // namespace

TEST_CASE("read errors and corrupted reads of table files: verify and queries fail loudly, never wrongly") {
  ReadFixture fx;
  for (int mode : {Faults::kError, Faults::kFlip}) {
    CAPTURE(mode);
    // Each operation runs on a freshly opened reader (nothing cached but what opening read), with every
    // read of a table file from then on failing or returning one flipped bit.
    auto with_faulty_reader = [&](const std::function<void(const Ledger&)>& op) {
      FaultEnv fe;
      auto l = Ledger::open(fx.db, Ledger::Access::kRead, fe.env.get());
      REQUIRE_MESSAGE(l.ok(), l.message());
      // The projection head (one small block, now cached) reads fine, so the queries get past their
      // currency check and meet the fault in the postings and balances themselves.
      REQUIRE(engine::check_projection_current(**l).ok());
      fe.faults().read_fault = mode;
      op(**l);
    };
    with_faulty_reader([](const Ledger& l) {
      auto r = verify_log(l);
      REQUIRE_FALSE(r.ok());
      CHECK_MESSAGE(r.message().starts_with("seq 1: cannot read: "), r.message());
      CHECK_MESSAGE(loud(r.message()), r.message());
    });
    with_faulty_reader([](const Ledger& l) {
      Status s = engine::check_book(l);
      REQUIRE_FALSE(s.ok());
      CHECK_MESSAGE(s.message().starts_with("cannot read postings: "), s.message());
      CHECK_MESSAGE(loud(s.message()), s.message());
    });
    with_faulty_reader([](const Ledger& l) {
      auto d = engine::projection_digest(l);
      REQUIRE_FALSE(d.ok());
      CHECK_MESSAGE(d.message().starts_with("cannot read the projection: "), d.message());
    });
    with_faulty_reader([&](const Ledger& l) {
      auto rows = engine::balances(l, "", std::nullopt, 0);
      REQUIRE_FALSE(rows.ok());
      CHECK_MESSAGE(rows.message().starts_with("cannot read balances: "), rows.message());
      CHECK_MESSAGE(loud(rows.message()), rows.message());
    });
    with_faulty_reader([&](const Ledger& l) {
      auto rows = engine::balances(l, "@streamer:*", parse_rfc3339("2026-10-15T00:00:00Z").value(), 0);
      REQUIRE_FALSE(rows.ok());
      CHECK_MESSAGE(rows.message().starts_with("cannot read balances: "), rows.message());
      CHECK_MESSAGE(loud(rows.message()), rows.message());
    });
    with_faulty_reader([&](const Ledger& l) {
      auto ps = engine::journal(l, engine::JournalFilter{});
      REQUIRE_FALSE(ps.ok());
      CHECK_MESSAGE(ps.message().starts_with("cannot read postings: "), ps.message());
      CHECK_MESSAGE(loud(ps.message()), ps.message());
    });
    with_faulty_reader([&](const Ledger& l) {
      engine::JournalFilter f;
      f.account_pattern = "@streamer:s1:cps";
      auto ps = engine::journal(l, f);
      REQUIRE_FALSE(ps.ok());
      CHECK_MESSAGE(ps.message().starts_with("cannot read the journal of @streamer:s1:cps: "), ps.message());
      CHECK_MESSAGE(loud(ps.message()), ps.message());
    });
    with_faulty_reader([&](const Ledger& l) {
      Status s = l.scan(1, l.head_seq(), [](const StoredEvent&) { return Status::Ok(); });
      REQUIRE_FALSE(s.ok());
      CHECK_MESSAGE(loud(s.message()), s.message());
    });
    with_faulty_reader([&](const Ledger& l) {
      // Point reads: an event, its id.
      auto e = l.read(700);
      REQUIRE_FALSE(e.ok());
      CHECK_MESSAGE(e.message().starts_with("cannot read event 700: "), e.message());
      auto id = l.seq_of("adj-900");
      REQUIRE_FALSE(id.ok());
      CHECK_MESSAGE(id.message().starts_with("cannot read the id index: "), id.message());
    });
    with_faulty_reader([&](const Ledger& l) {
      Status s = verify_all(l);
      REQUIRE_FALSE(s.ok());
      CHECK_MESSAGE(loud(s.message()), s.message());
    });
  }
  // The same reader with healthy reads answers exactly as before: the faults were in the reads only.
  FaultEnv fe;
  auto l = Ledger::open(fx.db, Ledger::Access::kRead, fe.env.get());
  REQUIRE(l.ok());
  CHECK(snapshot(**l) == fx.healthy);
  CHECK(engine::balances(**l, "", std::nullopt, 0).value().size() == fx.balances.size());
  CHECK(engine::journal(**l, engine::JournalFilter{}).value() == fx.journal);
  check_healthy(**l);
}

TEST_CASE(
    "a corrupted or unreadable WAL at recovery stops the open instead of dropping acknowledged events") {
  // A crash image: the ledger directory copied while its writer is still open, every batch synced to the
  // WAL but not yet flushed to a table file.
  TempDir dir;
  const std::string db = dir / "db", image = dir / "image";
  Snapshot acknowledged;
  {
    auto l = Ledger::open(db, Ledger::Access::kWrite);
    REQUIRE(l.ok());
    append_ok(**l, base_text());
    for (int i = 0; i < 4; ++i) append_ok(**l, adjustments(1 + 25 * i, 25));
    acknowledged = snapshot(**l);
    std::filesystem::copy(db, image);
  }
  std::string wal;
  for (const auto& f : std::filesystem::directory_iterator(image)) {
    if (f.path().extension() == ".log") wal = f.path().filename();
  }
  REQUIRE(!wal.empty());
  const auto wal_size = static_cast<std::int64_t>(std::filesystem::file_size(image + "/" + wal));
  auto fresh_copy = [&](const std::string& name) {
    const std::string to = dir / name;
    std::filesystem::copy(image, to);
    return to;
  };
  {  // Healthy: the WAL replays every acknowledged batch.
    auto l = Ledger::open(fresh_copy("healthy"), Ledger::Access::kWrite);
    REQUIRE_MESSAGE(l.ok(), l.message());
    CHECK(snapshot(**l) == acknowledged);
    check_healthy(**l);
  }
  for (std::int64_t offset : {std::int64_t{40}, wal_size / 3, wal_size / 2, wal_size - 60}) {
    CAPTURE(offset);
    FaultEnv fe;
    fe.faults().read_suffix = ".log";
    fe.faults().flip_offset = offset;
    fe.faults().read_fault = Faults::kFlip;
    const std::string copy = fresh_copy(fmt::format("flip-{}", offset));
    auto l = Ledger::open(copy, Ledger::Access::kWrite, fe.env.get());
    REQUIRE(fe.faults().injected > 0);
    if (l.ok()) {
      // Opening anyway is only acceptable with every acknowledged event intact.
      CHECK_MESSAGE(snapshot(**l) == acknowledged,
                    "opened with " << (*l)->head_seq() << " of " << acknowledged.head_seq << " events");
    } else {
      CHECK_MESSAGE(l.message().starts_with(fmt::format("cannot open ledger {}: Corruption: ", copy)),
                    l.message());
    }
  }
  {
    FaultEnv fe;
    fe.faults().read_suffix = ".log";
    fe.faults().read_fault = Faults::kError;
    const std::string copy = fresh_copy("unreadable");
    auto l = Ledger::open(copy, Ledger::Access::kWrite, fe.env.get());
    REQUIRE_FALSE(l.ok());
    CHECK_MESSAGE(l.message().starts_with(fmt::format("cannot open ledger {}: IO error: ", copy)),
                  l.message());
  }
}

// Issue 13, item 13: a read failure of the id index or the projection was reported as a rejected input
// line and the append went on with the next line. It is not the line's fault: the append stops at the
// first I/O error or corruption, writes nothing of what it staged, and fails with the error's kind.
TEST_CASE("issue 13 item 13: I/O failures do not masquerade as rejected lines, the append stops") {
  ReadFixture fx;
  for (int mode : {Faults::kError, Faults::kFlip}) {
    CAPTURE(mode);
    Snapshot before;
    {
      // Taken on its own open: a snapshot reads every block, which would leave them all cached.
      auto healthy = Ledger::open(fx.db, Ledger::Access::kWrite);
      REQUIRE_MESSAGE(healthy.ok(), healthy.message());
      before = snapshot(**healthy);
    }
    FaultEnv fe;
    auto l = Ledger::open(fx.db, Ledger::Access::kWrite, fe.env.get());
    REQUIRE_MESSAGE(l.ok(), l.message());
    fe.faults().read_fault = mode;
    // New ids and existing accounts: the id index and the balances are read from the table files.
    AppendOutcome o = append(**l, adjustments(5001, 20));
    fe.faults().read_fault = Faults::kNone;
    CHECK(fe.faults().injected > 0);
    REQUIRE_FALSE(o.report.ok());
    CHECK_MESSAGE(loud(o.report.message()), o.report.message());
    CHECK_MESSAGE(o.rejections.empty(), (o.rejections.empty() ? "" : o.rejections[0].reason));
    l->reset();
    auto reopened = Ledger::open(fx.db, Ledger::Access::kWrite);
    REQUIRE_MESSAGE(reopened.ok(), reopened.message());
    CHECK(snapshot(**reopened) == before);
  }
}

TEST_CASE("issue 13 item 13: errors carry a kind: rejected input, corruption, I/O") {
  CHECK(make_error("x").kind == ErrorKind::kInvalid);
  CHECK_FALSE(make_error("x").fatal());
  CHECK(make_io_error("x").fatal());
  CHECK(make_corruption_error("x").fatal());
  Status s = make_io_error("disk");
  CHECK(s.kind() == ErrorKind::kIO);
  CHECK(s.fatal());
  CHECK(s.error().kind == ErrorKind::kIO);
  CHECK(rocks_error(rocksdb::Status::Corruption("bad block"), "read").kind == ErrorKind::kCorruption);
  CHECK(rocks_error(rocksdb::Status::IOError("EIO"), "read").kind == ErrorKind::kIO);
  CHECK(rocks_error(rocksdb::Status::NoSpace("full"), "write").kind == ErrorKind::kIO);
}
