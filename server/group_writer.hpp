// GroupWriter: the one writer of `fenzhang serve` (SPEC section 11), with group commit.
//
// It owns the Ledger opened for writing (and so the ledger's lock), the Engine (the write-back
// projection) and the Appender, all used on its own thread only. Requests from any thread are queued;
// the thread takes every queued request at once, stages their events in arrival order (the same rules
// as `fenzhang append`: stage_record in tools/append_job.hpp) and writes them as one synced batch, while
// the requests that arrive meanwhile wait for the next batch (one batch is written while the next is
// staged; with nothing in flight, the writer waits up to 0.5 ms for the clients it has just answered, so
// that they share the next batch). A request's callback runs only once its batch is durable, with that
// request's own counts and rejections; a failed write fails every request not yet durable, and the writer
// then refuses more.
//
// Readers do not go through it, except to ask for read-your-writes: sync_reads() calls back once the
// stored projection (what engine::open_for_queries answers from) covers every batch acknowledged before
// the call, writing a checkpoint when it does not.
//
// Thread safety: every public member may be called from any thread; callbacks run on the writer's thread
// and must not block (post the work elsewhere).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/result.hpp"
#include "engine/publish.hpp"
#include "tools/append_job.hpp"

namespace fz::server {

// The outcome of one POST /events.
struct EventsOutcome {
  // 0: done (the counts and rejections hold); else an HTTP status with `error` (500: the ledger could not
  // be written, nothing of the request is durable; 503: the writer is stopping or has failed).
  int failure_status = 0;
  std::string error;
  AppendReport report;  // appended, duplicates, rejected
  std::vector<LineRejection> rejections;
};

struct PublishOutcome {
  int failure_status = 0;  // as EventsOutcome
  std::string error;       // also a refused rules file (then failure_status is 422)
  std::string diagnostics;
  std::optional<engine::PublishReport> report;
};

struct WriterHealth {
  std::uint64_t acked_seq = 0;   // last event of the last acknowledged batch
  std::uint64_t stored_seq = 0;  // last event the stored projection covers
  std::uint64_t queued_events = 0;
  std::uint64_t batches = 0;  // synced event batches written
  bool stopping = false;
  std::optional<std::string> failed;  // why the writer stopped writing
};

class GroupWriter {
 public:
  // Opens the ledger for writing (a second writer gets "ledger is locked by pid N"), brings the stored
  // projection up to the log when a crash left it behind, and starts the writer thread.
  static Result<std::unique_ptr<GroupWriter>> open(const std::string& dir, std::uint64_t checkpoint_events,
                                                   std::size_t hot_entries, std::uint64_t max_queued_events);
  ~GroupWriter();  // stop()s
  GroupWriter(const GroupWriter&) = delete;
  GroupWriter& operator=(const GroupWriter&) = delete;

  using EventsDone = std::function<void(EventsOutcome)>;
  // Queues the records of one request (tools/append_job.hpp: read_jsonl_records). Over the queue limit
  // (events waiting), done is called at once with 503.
  void submit_events(std::vector<InputRecord> records, std::string file_name, EventsDone done);

  using PublishDone = std::function<void(PublishOutcome)>;
  void submit_publish(std::string source, std::string file_name, engine::PublishOptions options,
                      PublishDone done);

  // Calls done (with an error message, or "" when the projection is current) once the stored projection
  // covers every event acknowledged before this call.
  void sync_reads(std::function<void(std::string)> done);

  WriterHealth health() const;
  // The last event of the last acknowledged batch.
  std::uint64_t acked_seq() const { return acked_seq_.load(); }

  // Refuses new work (503), finishes everything queued, writes the projection's checkpoint and joins.
  // Returns the first write failure, if any.
  Status stop();

 private:
  struct EventsJob {
    std::vector<InputRecord> records;
    std::string file_name;
    std::uint64_t events = 0;
    EventsDone done;
    EventsOutcome outcome;
  };
  struct PublishJob {
    std::string source, file_name;
    engine::PublishOptions options;
    PublishDone done;
  };
  struct SyncJob {
    std::uint64_t target = 0;
    std::function<void(std::string)> done;
  };
  struct Item {
    std::unique_ptr<EventsJob> events;
    std::unique_ptr<PublishJob> publish;
    std::unique_ptr<SyncJob> sync;
  };
  struct Group {
    std::vector<std::unique_ptr<EventsJob>> jobs;
    std::uint64_t head_seq = 0;
  };

  class State;  // the Ledger, Engine and Appender (writer thread only)

  GroupWriter() = default;
  void run();
  bool enqueue(Item item);
  void stage_group(Group& group);
  void ack(Group& group);
  void fail_all(Group* inflight, Group* staged, const std::string& why);
  Status finish_inflight(std::optional<Group>& inflight);
  void handle_publish(PublishJob& job, std::optional<Group>& inflight);
  void handle_syncs(std::vector<std::unique_ptr<SyncJob>>& syncs, std::optional<Group>& inflight);
  void flush_memtables_if_large();

  std::unique_ptr<State> state_;
  std::uint64_t max_queued_events_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  std::uint64_t queued_events_ = 0;
  bool stopping_ = false;
  std::optional<std::string> failed_;
  std::thread thread_;
  Status stop_status_ = Status::Ok();

  std::atomic<std::uint64_t> acked_seq_{0};
  std::atomic<std::uint64_t> stored_seq_{0};
  std::atomic<std::uint64_t> batches_{0};
  std::size_t last_acked_jobs_ = 0;  // writer thread only: requests answered by the last ack
};

}  // namespace fz::server
