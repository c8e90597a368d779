#include "tools/append_job.hpp"

#include <fmt/format.h>
#include <cstdlib>
#include <memory>
#include <optional>
#include <span>
#include <thread>
#include <unordered_set>

#include "core/bounded_queue.hpp"
#include "model/event_json.hpp"
#include "store/codec.hpp"
#include "tools/input_file.hpp"

namespace fz {
namespace {

struct Chunk {
  std::size_t input = 0;
  std::vector<InputRecord> lines;
  bool end_of_input = false;
  // The input could not be read after these lines: the producer stops here (SPEC section 8: a read
  // error is an error, never the end of the input).
  std::optional<std::string> read_error;
  std::uint64_t last_line = 0;  // the number of the last line read before the error
  // Read-ahead of the projection records the lines' events will read (item i: lines[i]).
  ReadAheadChunk ahead;
  bool read_ahead_done = false;  // the ids and the projection records were looked up (read_ahead)
};

// Parsing runs ahead of staging by at most a few chunks.
using ChunkQueue = BoundedQueue<Chunk>;

constexpr std::size_t kLinesPerChunk = 4096;
// Parsing may run ahead by a few chunks; a chunk of long lines is handed over early so that the
// queue holds megabytes, not gigabytes (4096 lines of 64 KiB would be 256 MiB a chunk).
constexpr std::size_t kBytesPerChunk = 4 * 1024 * 1024;

// SPEC section 7's limit. The event parser says the same of a line it holds (model/event_json.cpp).
std::string too_long_reason(std::uint64_t line_bytes) {
  return fmt::format("line is {} bytes; an event line has at most {}", line_bytes, kMaxEventLineBytes);
}

// Encodes on the parsing thread, so the staging thread (the busier one) does not.
// Not the shared definitions: every record repeats them and the staging thread takes each once per run
// (stage_record), so it encodes the one it takes.
void encode_records(InputRecord& record) {
  if (!record.reason.empty() || record.chain || record.skipped) return;
  record.encoded.reserve(record.events.size());
  for (std::size_t k = 0; k < record.events.size(); ++k)
    record.encoded.push_back(k < record.shared ? std::string() : encode_event(record.events[k]));
}

// What the parsing thread reads ahead for the staging thread (Ledger::seqs_of_many, get_many): whether each
// event's id is in the log, and the projection records the Projector names. A failed read-ahead only
// leaves the staging thread to read for itself (and report the failure).
struct ReadAheadSource {
  const Ledger* ledger = nullptr;  // null: no read-ahead
  ReadAheadPlan plan;
  bool always = false;  // else only while chunks are waiting (AppendOptions::ReadAhead::kWhenAhead)
};

// Chunks waiting for the staging thread before the parsing thread reads ahead (see produce).
constexpr std::size_t kReadAheadQueued = 2;

// Events of a record the read-ahead covers: the bits of InputRecord::ahead_absent.
constexpr std::size_t kAheadEventsPerRecord = 64;

bool staged_normally(const InputRecord& r) {
  return r.reason.empty() && !r.skipped && !r.chain;
}

// A record's shared definitions (an import's implicit plan, repeated on every row) are staged once per
// run and skipped after that: not read ahead.
void read_ahead_ids(const Ledger& ledger, Chunk& chunk) {
  std::vector<std::string_view> ids;
  ids.reserve(chunk.lines.size());
  for (const InputRecord& r : chunk.lines) {
    if (!staged_normally(r)) continue;
    for (std::size_t k = r.shared; k < r.events.size() && k < kAheadEventsPerRecord; ++k)
      ids.push_back(r.events[k].id);
  }
  const std::uint64_t log_writes = ledger.log_writes();  // before the read: see Ledger::log_writes
  std::vector<std::optional<std::uint64_t>> seqs;
  if (!ledger.seqs_of_many(ids, &seqs).ok()) return;
  std::size_t i = 0;
  for (InputRecord& r : chunk.lines) {
    if (!staged_normally(r)) continue;
    r.ahead_log_writes = log_writes;
    for (std::size_t k = r.shared; k < r.events.size() && k < kAheadEventsPerRecord; ++k, ++i) {
      if (!seqs[i]) r.ahead_absent |= std::uint64_t{1} << k;
    }
  }
}

void read_ahead_projection(const Ledger& ledger, const ReadAheadPlan& plan, Chunk& chunk) {
  chunk.ahead.ends.reserve(chunk.lines.size());
  for (const InputRecord& r : chunk.lines) {
    if (staged_normally(r)) {
      for (std::size_t k = r.shared; k < r.events.size(); ++k) plan.keys(r.events[k], &chunk.ahead.records);
    }
    chunk.ahead.end_item();
  }
  chunk.ahead.read(ledger, plan);
}

void read_ahead(const ReadAheadSource& ra, Chunk& chunk) {
  if (ra.ledger == nullptr || chunk.read_ahead_done) return;
  chunk.read_ahead_done = true;
  read_ahead_ids(*ra.ledger, chunk);
  if (ra.plan) read_ahead_projection(*ra.ledger, ra.plan, chunk);
}

}  // namespace

Status read_jsonl_records(std::istream& in, const std::function<void(InputRecord&&, std::size_t)>& fn,
                          std::uint64_t* last_line) {
  std::string line;
  LineReader reader(in, kMaxEventLineBytes);
  std::uint64_t line_no = 0;
  for (;;) {
    std::uint64_t too_long_bytes = 0;
    auto got = reader.next(&line, &too_long_bytes);
    if (!got) {
      *last_line = line_no;
      return got.error();
    }
    if (*got == LineReader::Got::kEnd) break;
    ++line_no;
    if (*got == LineReader::Got::kBlank) continue;
    if (*got == LineReader::Got::kTooLong) {
      InputRecord refused;
      refused.line = line_no;
      refused.reason = too_long_reason(too_long_bytes);
      fn(std::move(refused), 0);
      continue;
    }
    if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank lines carry no event
    LineResult parsed = parse_event_line(line);
    InputRecord record;
    record.line = line_no;
    record.id = std::move(parsed.id);
    if (parsed.event) {
      record.events.push_back(std::move(*parsed.event));
      record.chain = std::move(parsed.chain);
    } else {
      record.reason = std::move(parsed.reason);
    }
    encode_records(record);
    fn(std::move(record), line.size());
  }
  *last_line = line_no;
  return Status::Ok();
}

namespace {

void produce(const std::vector<AppendInput>& inputs, const ReadAheadSource& ra, ChunkQueue& q) {
  if (ra.ledger != nullptr) disable_rocksdb_perf_counters();
  auto push = [&](Chunk& c) {
    // Only while parsing runs ahead of staging (chunks are waiting): when staging waits for parsing (an
    // import, whose rows cost more to parse than to stage), reading ahead here would slow the slower side.
    if (ra.always || q.size() >= kReadAheadQueued) read_ahead(ra, c);
    (void)q.take_back();  // chunks the staging thread is done with, freed here
    q.push(std::move(c));
  };
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    Chunk chunk;
    chunk.input = i;
    chunk.lines.reserve(kLinesPerChunk);
    std::size_t chunk_bytes = 0;
    std::uint64_t line_no = 0;
    if (inputs[i].records != nullptr) {
      for (;;) {
        InputRecord record;
        auto got = inputs[i].records->next(&record);
        if (!got) {
          chunk.read_error = got.message();
          chunk.last_line = line_no;
          push(chunk);
          q.finish();
          return;
        }
        if (!*got) break;
        line_no = record.line;
        encode_records(record);
        chunk.lines.push_back(std::move(record));
        if (chunk.lines.size() == kLinesPerChunk) {
          push(chunk);
          chunk = Chunk{};
          chunk.input = i;
          chunk.lines.reserve(kLinesPerChunk);
        }
      }
      chunk.end_of_input = true;
      push(chunk);
      continue;
    }
    std::uint64_t last_line = 0;
    const Status read = read_jsonl_records(
        *inputs[i].in,
        [&](InputRecord&& record, std::size_t line_bytes) {
          chunk_bytes += line_bytes;
          chunk.lines.push_back(std::move(record));
          if (chunk.lines.size() == kLinesPerChunk || chunk_bytes >= kBytesPerChunk) {
            push(chunk);
            chunk = Chunk{};
            chunk.input = i;
            chunk.lines.reserve(kLinesPerChunk);
            chunk_bytes = 0;
          }
        },
        &last_line);
    if (!read.ok()) {
      chunk.read_error = read.message();
      chunk.last_line = last_line;
      push(chunk);
      q.finish();
      return;
    }
    chunk.end_of_input = true;
    push(chunk);
  }
  q.finish();
}

Error read_failure(const std::string& file, const std::string& reason, std::uint64_t last_line,
                   std::uint64_t durable_events) {
  const std::string what = fmt::format("cannot read {}: {} (at line {})", file, reason, last_line + 1);
  if (durable_events == 0) return make_error(what + "; nothing was appended");
  return make_error(fmt::format(
      "{}; the append stopped there: the {} event{} of earlier synced batches stay appended, the batch being "
      "read was not (re-running the append reports the ones that stayed as duplicates)",
      what, durable_events, durable_events == 1 ? "" : "s"));
}

}  // namespace

Disposition stage_record(Appender& appender, InputRecord& rec, std::unordered_set<std::string>& shared_seen,
                         std::string* reason, std::uint64_t* duplicates) {
  if (!rec.reason.empty() || rec.skipped) return Disposition::kRejected;
  std::vector<std::size_t> take;  // indexes of the events to stage
  take.reserve(rec.events.size());
  for (std::size_t k = 0; k < rec.events.size(); ++k) {
    if (k < rec.shared && shared_seen.contains(rec.events[k].id)) continue;
    take.push_back(k);
  }
  std::vector<std::string> records;
  records.reserve(take.size());
  const bool encoded = rec.encoded.size() == rec.events.size();
  for (std::size_t k : take)
    records.push_back(encoded && k >= rec.shared ? std::move(rec.encoded[k]) : encode_event(rec.events[k]));
  // The read-ahead's answer for event k: not in the log as of ahead_log_writes.
  auto absent_at = [&](std::size_t k) -> std::optional<std::uint64_t> {
    if (k < kAheadEventsPerRecord && (rec.ahead_absent >> k & 1) != 0) return rec.ahead_log_writes;
    return std::nullopt;
  };
  if (take.size() > 1) {
    for (std::size_t j = 0; j < take.size(); ++j) {
      const Disposition d = appender.probe(rec.events[take[j]], records[j], reason, absent_at(take[j]));
      if (d == Disposition::kFailed || d == Disposition::kRejected) return d;
    }
  }
  std::size_t staged = 0, dup = 0;
  for (std::size_t j = 0; j < take.size(); ++j) {
    const Event& e = rec.events[take[j]];
    const Disposition d = appender.stage_encoded(e, std::move(records[j]), reason, absent_at(take[j]));
    if (d == Disposition::kFailed) return d;
    if (d == Disposition::kRejected) {
      if (staged > 0) *reason = fmt::format("{}: {} (the row's earlier events stay appended)", e.id, *reason);
      *duplicates += dup;
      return d;
    }
    if (take[j] < rec.shared) {
      shared_seen.insert(e.id);
      continue;  // a shared definition is not counted as the record's own
    }
    if (d == Disposition::kDuplicate) {
      ++dup;
    } else {
      ++staged;
    }
  }
  *duplicates += dup;
  return staged > 0 ? Disposition::kAppended : Disposition::kDuplicate;
}

namespace {

// An exported rules.published record: what is staged is committed first (the publish writes on its
// own and rebuilds the projection), then the hook publishes it, then a fresh Appender goes on with the
// Projector the hook hands back. Not with --atomic: a publish cannot be undone with the file.
Result<ExportedRulesOutcome> publish_exported_record(Ledger& ledger, std::optional<Appender>& appender,
                                                     Projector*& projector, const AppendOptions& options,
                                                     const InputRecord& rec, std::uint64_t* earlier_durable) {
  ExportedRulesOutcome out;
  if (!options.publish_exported) {
    out.reason = "type: rules.published events are written only by 'fenzhang rules publish'";
    return out;
  }
  if (options.atomic) {
    out.reason = "an exported rules.published line cannot be appended with --atomic";
    return out;
  }
  if (Status s = appender->commit(); !s.ok()) return s.error();
  // The projection of what is committed, before this Appender and its Projector are let go.
  if (Status s = appender->checkpoint(); !s.ok()) return s.error();
  *earlier_durable += appender->durable_events();
  appender.reset();
  auto published = options.publish_exported(rec.events.front(), *rec.chain);
  if (published && published->projector != nullptr) projector = published->projector;
  appender.emplace(ledger, projector);  // also after an error: the caller drains and waits on it
  if (!published) return published.error();
  if (published->disposition == Disposition::kAppended) ++*earlier_durable;
  return published;
}

}  // namespace

Result<AppendReport> run_append(Ledger& ledger, Projector* projector, const std::vector<AppendInput>& inputs,
                                const AppendOptions& options,
                                const std::function<void(const LineRejection&)>& on_reject) {
  AppendReport report;
  std::optional<Appender> appender;
  appender.emplace(ledger, projector);
  std::uint64_t earlier_durable = 0;  // events acknowledged by earlier Appenders and exported publishes
  ChunkQueue queue(4);
  // The parsing thread reads ahead with the first Projector's key function, which holds what it needs
  // (the Projector itself may be replaced by a publish meanwhile).
  ReadAheadSource ra;
  if (options.read_ahead != AppendOptions::ReadAhead::kNever) {
    ra.ledger = &ledger;
    ra.always = options.read_ahead == AppendOptions::ReadAhead::kAlways;
    if (projector != nullptr) ra.plan = projector->read_ahead_plan();
  }
  // A publish replaces the Projector the plan came from; its successor gets no read-ahead (its epochs
  // are not the plan's).
  bool ahead_usable = static_cast<bool>(ra.plan);
  std::thread producer([&] { produce(inputs, ra, queue); });

  std::optional<Error> failure;
  std::uint64_t file_rejected = 0, file_duplicates = 0, file_skipped = 0;
  std::unordered_set<std::string> shared_seen;
  // Batches are written on the Appender's writer thread while the next one is staged here.
  auto start_commit = [&]() -> bool {
    if (Status s = appender->start_commit(); !s.ok()) {
      failure = s.error();
      return false;
    }
    return true;
  };

  auto give_back = [&queue](Chunk* done) { queue.give_back(std::move(*done)); };
  while (auto popped = queue.pop()) {
    // Freed on the parsing thread, however this iteration ends (the staging thread is the busier).
    const std::unique_ptr<Chunk, decltype(give_back)> chunk(&*popped, give_back);
    if (failure) continue;  // drain so the producer can finish
    // A chunk the parsing thread handed over without reading ahead (it was not ahead: the start of the
    // input, an import whose rows cost more to parse than to stage) is read ahead here, in one MultiGet
    // per family: cheaper than the staging thread's point lookup per event that it replaces (at 1M events
    // about 1 in 11 chunks, 175,000 Gets on this thread before).
    read_ahead(ra, *chunk);
    const std::string& file = inputs[chunk->input].name;
    for (std::size_t line = 0; line < chunk->lines.size(); ++line) {
      InputRecord& rec = chunk->lines[line];
      if (ahead_usable) projector->read_ahead(chunk->ahead.of(line), chunk->ahead.epoch);
      std::string reason = rec.reason;
      Disposition d = Disposition::kRejected;
      if (rec.chain && rec.reason.empty()) {
        ahead_usable = false;
        auto published = publish_exported_record(ledger, appender, projector, options, rec, &earlier_durable);
        if (!published) {
          failure = published.error();
          break;
        }
        d = published->disposition;
        reason = published->reason;
        if (d == Disposition::kDuplicate) ++file_duplicates;
      } else {
        d = stage_record(*appender, rec, shared_seen, &reason, &file_duplicates);
      }
      if (d == Disposition::kFailed) {
        // The ledger could not be read: stop here, and write nothing of what is staged.
        failure = *appender->failure();
        (void)appender->discard();
        break;
      }
      if (rec.skipped && rec.reason.empty()) {
        ++file_skipped;
      } else if (d == Disposition::kRejected) {
        ++file_rejected;
        on_reject(LineRejection{file, rec.line, rec.id, reason});
      }
      if (!options.atomic && appender->staged() >= options.batch_events && !start_commit()) break;
    }
    if (chunk->read_error && !failure) {
      // Batches already synced stay; the one being staged is dropped, so no event after the last
      // acknowledged batch is written and nothing after the error is taken for the end of the input.
      Status s = appender->discard();
      failure = s.ok() ? read_failure(file, *chunk->read_error, chunk->last_line,
                                      earlier_durable + appender->durable_events())
                       : s.error();
      continue;
    }
    if (!chunk->end_of_input || failure) continue;
    if (options.atomic && file_rejected > 0) {
      report.notes.push_back(fmt::format("{}: nothing appended (--atomic): {} line{} rejected", file,
                                         file_rejected, file_rejected == 1 ? "" : "s"));
      if (Status s = appender->discard(); !s.ok()) failure = s.error();
    } else if (!start_commit()) {
      continue;
    } else {
      report.duplicates += file_duplicates;
    }
    report.rejected += file_rejected;
    report.skipped += file_skipped;
    file_rejected = file_duplicates = file_skipped = 0;
  }
  if (!failure) {
    if (Status s = appender->wait(); !s.ok()) failure = s.error();
  }
  if (!failure) {
    // The events are durable; a failed checkpoint only leaves the stored projection at the previous one.
    if (Status s = appender->checkpoint(); !s.ok()) {
      failure = Error{fmt::format("{} (the {} events appended are durable; the next append or 'fenzhang "
                                  "replay' brings the projection up to date)",
                                  s.message(), earlier_durable + appender->durable_events()),
                      s.error().kind};
    }
  }
  report.appended = earlier_durable + appender->durable_events();
  report.ids_read_ahead = appender->read_ahead_counters().taken;
  if (const char* env = std::getenv("FZ_ENGINE_STATS"); env != nullptr && *env != '\0') {
    const auto& c = appender->read_ahead_counters();
    fmt::print(stderr, "read-ahead ids: taken {}, read again {} (last Appender)\n", c.taken, c.stale);
  }
  queue.close();
  producer.join();
  if (failure) return *failure;
  return report;
}

}  // namespace fz
