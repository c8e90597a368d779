// BoundedQueue: a single-producer single-consumer queue that holds at most `cap` items, so a producer
// (parsing an input, decoding the log) runs ahead of its consumer by a bounded amount of memory.
//
// Thread-safe: push() on the producer's thread, pop() on the consumer's, the rest on either. The producer
// calls finish() after its last push; pop() then drains what is left and returns nullopt. A consumer that
// gives up calls close(): later pushes are dropped and a blocked push returns, so the producer can finish.
// An item the consumer is done with may be given back (give_back) to be destroyed on the producer's
// thread, which takes them (take_back) before each push: at most cap + 1 wait there.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace fz {

template <class T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t cap) : cap_(cap) {}
  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  // False when the consumer has closed the queue (the item is dropped): the producer may stop.
  bool push(T item) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return q_.size() < cap_ || closed_; });
    if (closed_) return false;
    q_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }
  std::optional<T> pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !q_.empty() || done_; });
    if (q_.empty()) return std::nullopt;
    T item = std::move(q_.front());
    q_.pop_front();
    not_full_.notify_one();
    return item;
  }
  void give_back(T item) {
    std::lock_guard lock(mu_);
    spent_.push_back(std::move(item));
  }
  // The caller destroys them, outside the lock.
  std::vector<T> take_back() {
    std::lock_guard lock(mu_);
    return std::exchange(spent_, {});
  }
  void finish() {
    std::lock_guard lock(mu_);
    done_ = true;
    not_empty_.notify_all();
  }
  std::size_t size() {
    std::lock_guard lock(mu_);
    return q_.size();
  }
  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_full_.notify_all();
  }

 private:
  std::size_t cap_;
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<T> q_;
  std::vector<T> spent_;
  bool done_ = false;
  bool closed_ = false;
};

}  // namespace fz
