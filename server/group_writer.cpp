#include "server/group_writer.hpp"

#include <fmt/format.h>

#include <chrono>

#include "engine/engine.hpp"
#include "engine/rebuild.hpp"
#include "store/appender.hpp"
#include "store/ledger.hpp"

namespace fz::server {

// Events staged into one synced batch at most (more wait for the next batch). A request is never split.
constexpr std::uint64_t kGroupEvents = 16384;
// How long the writer waits, with nothing in flight, for the clients it has just answered to post again.
// Measured with 64 single-event clients (docs/performance.md): 0.25-0.5 ms gave the most events/s;
// 3 ms, tuned when a batch took 10 ms to sync, now left the writer idle a third of the time.
constexpr std::chrono::microseconds kGatherWait{500};

class GroupWriter::State {
 public:
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<engine::Engine> engine;
  std::optional<Appender> appender;
  std::uint64_t checkpoint_events = 0;
  std::size_t hot_entries = engine::Engine::kDefaultHotEntries;
  std::unordered_set<std::string> shared_seen;  // unused by JSON Lines records (InputRecord::shared)

  Status attach() {
    auto eng = engine::Engine::for_append(*ledger);
    if (!eng) return eng.error();
    engine = std::move(*eng);
    engine->set_checkpoint_interval(checkpoint_events);
    engine->set_hot_entries(hot_entries);
    appender.emplace(*ledger, engine.get());
    return Status::Ok();
  }
  void detach() {
    appender.reset();
    engine.reset();
  }
};

Result<std::unique_ptr<GroupWriter>> GroupWriter::open(const std::string& dir,
                                                       std::uint64_t checkpoint_events,
                                                       std::size_t hot_entries,
                                                       std::uint64_t max_queued_events) {
  auto state = std::make_unique<State>();
  auto ledger = Ledger::open(dir, Ledger::Access::kWrite);
  if (!ledger) return ledger.error();
  state->ledger = std::move(*ledger);
  // Finish a projection rebuild (or replay the log after the last checkpoint) that a crash left behind.
  if (auto caught = engine::catch_up_projection(*state->ledger, *state->ledger, state->ledger->head_seq());
      !caught) {
    return caught.error();
  }
  state->checkpoint_events = checkpoint_events;
  state->hot_entries = hot_entries;
  FZ_TRY(state->attach());
  std::unique_ptr<GroupWriter> w(new GroupWriter());
  w->acked_seq_ = state->ledger->head_seq();
  w->stored_seq_ = state->engine->projection_head();
  w->state_ = std::move(state);
  w->max_queued_events_ = max_queued_events;
  w->thread_ = std::thread([p = w.get()] { p->run(); });
  return w;
}

GroupWriter::~GroupWriter() {
  (void)stop();
}

bool GroupWriter::enqueue(Item item) {
  std::unique_lock lock(mu_);
  if (stopping_ || failed_) return false;
  queue_.push_back(std::move(item));
  cv_.notify_one();
  return true;
}

void GroupWriter::submit_events(std::vector<InputRecord> records, std::string file_name, EventsDone done) {
  auto job = std::make_unique<EventsJob>();
  for (const InputRecord& r : records) job->events += r.events.empty() ? 1 : r.events.size();
  job->records = std::move(records);
  job->file_name = std::move(file_name);
  job->done = std::move(done);
  std::unique_lock lock(mu_);
  EventsOutcome refused;
  if (stopping_) {
    refused = {503, "the server is shutting down; retry the request (with the same ids) later", {}, {}};
  } else if (failed_) {
    refused = {503, "the ledger cannot be written: " + *failed_, {}, {}};
  } else if (queued_events_ > 0 && queued_events_ + job->events > max_queued_events_) {
    refused = {503,
               fmt::format("the writer's queue is full ({} events); retry the request later", queued_events_),
               {},
               {}};
  } else {
    queued_events_ += job->events;
    Item item;
    item.events = std::move(job);
    queue_.push_back(std::move(item));
    cv_.notify_one();
    return;
  }
  lock.unlock();
  job->done(std::move(refused));
}

void GroupWriter::submit_publish(std::string source, std::string file_name, engine::PublishOptions options,
                                 PublishDone done) {
  Item item;
  item.publish =
      std::make_unique<PublishJob>(PublishJob{std::move(source), std::move(file_name), options, done});
  if (!enqueue(std::move(item))) {
    std::unique_lock lock(mu_);
    PublishOutcome out;
    out.failure_status = 503;
    out.error = failed_ ? "the ledger cannot be written: " + *failed_ : "the server is shutting down";
    lock.unlock();
    done(std::move(out));
  }
}

void GroupWriter::sync_reads(std::function<void(std::string)> done) {
  const std::uint64_t target = acked_seq_.load();
  if (stored_seq_.load() >= target) {
    done("");
    return;
  }
  Item item;
  item.sync = std::make_unique<SyncJob>(SyncJob{target, done});
  // A writer that stops or failed answers from the projection as stored (an acknowledged state).
  if (!enqueue(std::move(item))) done("");
}

WriterHealth GroupWriter::health() const {
  std::lock_guard lock(mu_);
  WriterHealth h;
  h.acked_seq = acked_seq_.load();
  h.stored_seq = stored_seq_.load();
  h.queued_events = queued_events_;
  h.batches = batches_.load();
  h.stopping = stopping_;
  h.failed = failed_;
  return h;
}

Status GroupWriter::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  return stop_status_;
}

void GroupWriter::stage_group(Group& group) {
  Appender& appender = *state_->appender;
  for (auto& job : group.jobs) {
    EventsOutcome& out = job->outcome;
    for (InputRecord& rec : job->records) {
      std::string reason = rec.reason;
      Disposition d = Disposition::kRejected;
      if (rec.chain && rec.reason.empty()) {
        // An exported rules.published line (`export events`): `fenzhang append` publishes it through
        // `rules publish`'s path; here it is refused, as append refuses it without that path.
        reason = "type: rules.published events are written only by 'fenzhang rules publish'";
      } else {
        const std::size_t before = appender.staged();
        d = stage_record(appender, rec, state_->shared_seen, &reason, &out.report.duplicates);
        if (d == Disposition::kFailed) return;  // the caller sees appender.failure()
        out.report.appended += appender.staged() - before;
      }
      if (d == Disposition::kRejected) {
        ++out.report.rejected;
        out.rejections.push_back(LineRejection{job->file_name, rec.line, rec.id, reason});
      }
    }
    job->records.clear();
    job->records.shrink_to_fit();
  }
  group.head_seq = appender.staged_head_seq();
}

void GroupWriter::ack(Group& group) {
  last_acked_jobs_ = group.jobs.size();
  acked_seq_.store(group.head_seq);
  stored_seq_.store(state_->engine->projection_head());
  for (auto& job : group.jobs) job->done(std::move(job->outcome));
  group.jobs.clear();
}

void GroupWriter::fail_all(Group* inflight, Group* staged, const std::string& why) {
  {
    std::lock_guard lock(mu_);
    if (!failed_) failed_ = why;
  }
  if (stop_status_.ok()) stop_status_ = make_error(why);
  for (Group* g : {inflight, staged}) {
    if (g == nullptr) continue;
    for (auto& job : g->jobs) {
      job->done(EventsOutcome{
          500, "the ledger could not be written; nothing of this request is durable: " + why, {}, {}});
    }
    g->jobs.clear();
  }
}

Status GroupWriter::finish_inflight(std::optional<Group>& inflight) {
  if (!inflight) return Status::Ok();
  Status s = state_->appender->wait();
  if (!s.ok()) {
    fail_all(&*inflight, nullptr, s.message());
  } else {
    ack(*inflight);
  }
  inflight.reset();
  return s;
}

void GroupWriter::handle_publish(PublishJob& job, std::optional<Group>& inflight) {
  PublishOutcome out;
  if (failed_) {  // only this thread sets it
    out.failure_status = 503;
    out.error = "the ledger cannot be written: " + *failed_;
    job.done(std::move(out));
    return;
  }
  Status s = finish_inflight(inflight);
  // publish_rules makes its own Engine and may rebuild the projection in place: the write-back
  // projection is written first, and a fresh Engine that knows the new version goes on afterwards.
  if (s.ok()) s = state_->appender->checkpoint();
  if (!s.ok()) {
    fail_all(nullptr, nullptr, s.message());
    job.done(PublishOutcome{500, s.message(), "", std::nullopt});
    return;
  }
  state_->detach();
  const TimeUs now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  auto r =
      engine::publish_rules(*state_->ledger, job.source, job.file_name, now, &out.diagnostics, job.options);
  if (Status a = state_->attach(); !a.ok()) {
    fail_all(nullptr, nullptr, a.message());
    job.done(PublishOutcome{500, a.message(), out.diagnostics, std::nullopt});
    return;
  }
  if (!r) {
    out.failure_status = r.error().fatal() ? 500 : 422;
    out.error = r.message();
  } else {
    out.report = std::move(*r);
  }
  acked_seq_.store(state_->ledger->head_seq());
  stored_seq_.store(state_->engine->projection_head());
  job.done(std::move(out));
}

void GroupWriter::handle_syncs(std::vector<std::unique_ptr<SyncJob>>& syncs, std::optional<Group>& inflight) {
  Status s = finish_inflight(inflight);
  if (s.ok() && !failed_) {
    std::uint64_t target = 0;
    for (auto& j : syncs) target = std::max(target, j->target);
    if (stored_seq_.load() < target) {
      s = state_->appender->checkpoint();
      if (!s.ok()) fail_all(nullptr, nullptr, s.message());
      stored_seq_.store(state_->engine->projection_head());
    }
    if (s.ok()) flush_memtables_if_large();
  }
  // After a failure the stored projection is still an acknowledged state: answer from it.
  for (auto& j : syncs) j->done("");
  syncs.clear();
}

// A reader opens the ledger read-only and replays the WAL that is not yet in SST files: with the writer
// running for long, tens of megabytes a query. Before readers are let in, memtables over this are flushed
// (as Ledger's destructor does at the end of an append), so a reader's open stays in milliseconds.
constexpr std::uint64_t kFlushMemtableBytes = std::uint64_t{4} << 20;

void GroupWriter::flush_memtables_if_large() {
  state_->ledger->flush_memtables_over(kFlushMemtableBytes);
}

void GroupWriter::run() {
  disable_rocksdb_perf_counters();
  std::optional<Group> inflight;
  bool gather = false;  // a batch was just acknowledged with nothing else in flight
  for (;;) {
    std::vector<Item> taken;
    {
      std::unique_lock lock(mu_);
      if (queue_.empty() && !inflight) {
        cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
        if (queue_.empty()) break;  // stopping, everything done
      }
      if (gather && last_acked_jobs_ > 1 && !stopping_) {
        // The clients just answered are about to post again: give them a moment to, so that they share
        // the next synced batch with those already waiting, instead of the first of them starting a
        // batch of its own and the rest waiting a whole sync for the one after it.
        const std::size_t want = queue_.size() + last_acked_jobs_;
        const auto deadline = std::chrono::steady_clock::now() + kGatherWait;
        cv_.wait_until(lock, deadline, [&] { return queue_.size() >= want || stopping_; });
      }
      gather = false;
      std::uint64_t events = 0;
      // Every queued request up to kGroupEvents, stopping before a publish or a sync (handled alone).
      while (!queue_.empty()) {
        Item& front = queue_.front();
        if (front.events) {
          if (!taken.empty() && (!taken.back().events || events + front.events->events > kGroupEvents)) break;
          events += front.events->events;
          queued_events_ -= front.events->events;
        } else if (!taken.empty() && (taken.back().events || !front.sync || !taken.back().sync)) {
          break;  // syncs are taken together, a publish alone
        }
        taken.push_back(std::move(front));
        queue_.pop_front();
      }
    }
    if (taken.empty()) {
      // Nothing new arrived: acknowledge the batch in flight.
      (void)finish_inflight(inflight);
      gather = true;
      continue;
    }
    if (taken.front().publish) {
      handle_publish(*taken.front().publish, inflight);
      continue;
    }
    if (taken.front().sync) {
      std::vector<std::unique_ptr<SyncJob>> syncs;
      for (Item& i : taken) syncs.push_back(std::move(i.sync));
      handle_syncs(syncs, inflight);
      continue;
    }
    Group group;
    for (Item& i : taken) group.jobs.push_back(std::move(i.events));
    if (failed_) {
      for (auto& job : group.jobs)
        job->done(EventsOutcome{503, "the ledger cannot be written: " + *failed_, {}, {}});
      continue;
    }
    stage_group(group);
    if (state_->appender->failure()) {
      const std::string why = state_->appender->failure()->message;
      (void)state_->appender->discard();
      fail_all(inflight ? &*inflight : nullptr, &group, why);
      inflight.reset();
      continue;
    }
    // Writes this group's batch once the one in flight is durable; that one is acknowledged now.
    Status s = state_->appender->start_commit();
    if (!s.ok()) {
      fail_all(inflight ? &*inflight : nullptr, &group, s.message());
      inflight.reset();
      continue;
    }
    if (inflight) ack(*inflight);
    ++batches_;
    inflight = std::move(group);
  }
  (void)finish_inflight(inflight);
  if (!failed_) {
    if (Status s = state_->appender->checkpoint(); !s.ok()) {
      stop_status_ = s;
    } else {
      stored_seq_.store(state_->engine->projection_head());
    }
  }
  state_->detach();
  state_->ledger.reset();
}

}  // namespace fz::server
