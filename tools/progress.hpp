// A progress line for long-running commands (`fenzhang replay`), written to a terminal:
//
//   \rreplay: 412,000 / 1,000,000 events (41%)
//
// Nothing is shown during the first second (short runs stay quiet), the line is rewritten at most four
// times a second, and finish() shows the final figure and ends the line with a newline so whatever is
// printed next starts on a fresh line. When disabled (standard error is not a terminal) it prints nothing.
// The clock is injectable so the timing rules can be tested without waiting.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace fz::cli {

// 1234567 -> "1,234,567".
inline std::string group_thousands(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  const std::size_t lead = digits.size() % 3 == 0 ? 3 : digits.size() % 3;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i >= lead && (i - lead) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

class ProgressLine {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  static constexpr std::chrono::milliseconds kQuietFor{1000};  // nothing before this
  static constexpr std::chrono::milliseconds kInterval{250};   // at most 4 updates a second

  ProgressLine(
      std::string label, std::uint64_t total, std::FILE* out, bool enabled,
      Clock clock = [] { return std::chrono::steady_clock::now(); })
      : label_(std::move(label)),
        total_(total),
        out_(out),
        enabled_(enabled),
        clock_(std::move(clock)),
        start_(clock_()) {}
  ~ProgressLine() { finish(); }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // `done` events of `total` are processed.
  void update(std::uint64_t done) {
    done_ = done;
    if (!enabled_ || finished_) return;
    const auto now = clock_();
    if (now - start_ < kQuietFor) return;
    if (shown_ && now - last_ < kInterval) return;
    draw();
    last_ = now;
  }

  // Shows the last figure and ends the line, if anything was shown; idempotent.
  void finish() {
    if (finished_) return;
    finished_ = true;
    if (!shown_) return;
    draw();
    std::fputc('\n', out_);
    std::fflush(out_);
  }

  // "replay: 412,000 / 1,000,000 events (41%)", without the leading carriage return.
  std::string text() const {
    const std::uint64_t percent = total_ == 0 || done_ >= total_ ? 100
                                  : done_ < UINT64_MAX / 100     ? done_ * 100 / total_
                                                                 : done_ / (total_ / 100);
    return label_ + ": " + group_thousands(done_) + " / " + group_thousands(total_) + " events (" +
           std::to_string(percent) + "%)";
  }

 private:
  void draw() {
    const std::string line = "\r" + text();
    std::fputs(line.c_str(), out_);
    std::fflush(out_);
    shown_ = true;
  }

  std::string label_;
  std::uint64_t total_;
  std::uint64_t done_ = 0;
  std::FILE* out_;
  bool enabled_;
  Clock clock_;
  std::chrono::steady_clock::time_point start_, last_{};
  bool shown_ = false;
  bool finished_ = false;
};

}  // namespace fz::cli
