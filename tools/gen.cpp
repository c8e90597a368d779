#include "tools/gen.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/money.hpp"
#include "core/time.hpp"

namespace fz {
namespace {

constexpr std::int64_t kMinute = 60 * kUsPerSecond;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;

// A follow-up that happens later in business time (confirmation, refund, V-task end, ...).
struct Pending {
  TimeUs at;
  std::uint64_t order;  // tie-break: creation order, so output is deterministic
  std::string line;
  bool operator>(const Pending& o) const { return at != o.at ? at > o.at : order > o.order; }
};

struct StreamerSim {
  int agency = -1;  // index, -1 when unsigned
  bool verified = true;
  std::vector<bool> approved;                  // per merchant: approved for its directed plan
  std::vector<std::pair<TimeUs, Fen>> income;  // (available from, conservative CPS income)
  Fen withdrawn = 0;
};

class Generator {
 public:
  Generator(const GenOptions& o, std::ostream& out) : o_(o), out_(out), rng_(o.seed) {
    start_ = parse_rfc3339("2026-01-01T09:00:00+08:00").value();
    agencies_ = std::max<std::uint32_t>(1, o.streamers / 25);
    merchants_ = std::max<std::uint32_t>(4, o.streamers / 5);
    orders_per_day_ = std::max<std::uint64_t>(o.streamers, o.events / (365 * 5 / 2));
  }

  void run() {
    setup();
    for (std::int64_t day = 5; emitted_ < o_.events; ++day) simulate_day(day);
  }

 private:
  std::uint64_t uniform(std::uint64_t lo, std::uint64_t hi) {  // inclusive, portable across stdlibs
    return lo + rng_() % (hi - lo + 1);
  }
  bool chance(int percent) { return uniform(1, 100) <= static_cast<std::uint64_t>(percent); }
  std::string t(TimeUs at) { return format_time(at); }

  // Emits follow-ups due before `until`, then the line itself.
  void emit(TimeUs at, const std::string& line) {
    drain(at);
    write(line);
  }
  void later(TimeUs at, std::string line) { pending_.push(Pending{at, ++pending_order_, std::move(line)}); }
  void drain(TimeUs until) {
    while (!pending_.empty() && pending_.top().at <= until && emitted_ < o_.events) {
      write(pending_.top().line);
      pending_.pop();
    }
  }
  void write(const std::string& line) {
    if (emitted_ >= o_.events) return;
    out_ << line << '\n';
    ++emitted_;
  }
  std::string id() { return fmt::format("g-{}", ++next_id_); }

  void setup() {
    for (std::uint32_t a = 0; a < agencies_; ++a) {
      const TimeUs at = start_ + a * kMinute;
      emit(at, fmt::format(R"({{"id":"{}","type":"agency.contracted","at":"{}","agency":"a{}"}})", id(),
                           t(at), a));
      emit(
          at + kHour,
          fmt::format(
              R"({{"id":"{}","type":"payout.bound","at":"{}","party":"agency:a{}","alipay":"a{}@alipay.example","verified":true}})",
              id(), t(at + kHour), a, a));
    }
    streamers_.resize(o_.streamers);
    for (std::uint32_t s = 0; s < o_.streamers; ++s) {
      StreamerSim& st = streamers_[s];
      st.approved.assign(merchants_, false);
      const TimeUs at = start_ + kDay + s * kMinute;
      if (chance(90)) {
        st.agency = static_cast<int>(s % agencies_);
        emit(at, fmt::format(
                     R"({{"id":"{}","type":"streamer.signed","at":"{}","streamer":"s{}","agency":"a{}"}})",
                     id(), t(at), s, st.agency));
      }
      st.verified = chance(97);
      emit(
          at + kHour,
          fmt::format(
              R"({{"id":"{}","type":"payout.bound","at":"{}","party":"streamer:s{}","alipay":"s{}@alipay.example","verified":{}}})",
              id(), t(at + kHour), s, s, st.verified));
    }
    for (std::uint32_t m = 0; m < merchants_; ++m) {
      const TimeUs at = start_ + m * kMinute;
      emit(
          at,
          fmt::format(
              R"({{"id":"{}","type":"plan.created","at":"{}","plan":"pg{}","merchant":"m{}","kind":"general","rate":"{}.{}%"}})",
              id(), t(at), m, m, uniform(1, 20), uniform(0, 1) * 5));
      const TimeUs dat = start_ + 2 * kDay + m * kMinute;
      emit(
          dat,
          fmt::format(
              R"({{"id":"{}","type":"plan.created","at":"{}","plan":"pd{}","merchant":"m{}","kind":"directed","rate":"{}%","approval":"{}"}})",
              id(), t(dat), m, m, uniform(10, 40), m % 2 == 0 ? "auto" : "manual"));
    }
    // Applications on day 3; manual plans decide a few hours later.
    for (std::uint32_t s = 0; s < o_.streamers; ++s) {
      for (int k = 0; k < 3; ++k) {
        const std::uint32_t m = static_cast<std::uint32_t>(uniform(0, merchants_ - 1));
        if (streamers_[s].approved[m] || applied_.count({s, m})) continue;
        applied_.insert({s, m});
        const TimeUs at = start_ + 3 * kDay + (s * 3 + k) * kMinute;
        emit(at,
             fmt::format(R"({{"id":"{}","type":"plan.applied","at":"{}","plan":"pd{}","streamer":"s{}"}})",
                         id(), t(at), m, s));
        if (m % 2 == 0) {
          streamers_[s].approved[m] = true;
        } else {
          const bool ok = chance(85);
          const TimeUs dec = at + uniform(1, 6) * kHour;
          emit(dec, fmt::format(R"({{"id":"{}","type":"{}","at":"{}","plan":"pd{}","streamer":"s{}"}})", id(),
                                ok ? "plan.approved" : "plan.rejected", t(dec), m, s));
          streamers_[s].approved[m] = ok;
        }
      }
    }
  }

  void simulate_day(std::int64_t day) {
    const TimeUs day_start = start_ + day * kDay;
    for (std::uint64_t i = 0; i < orders_per_day_ && emitted_ < o_.events; ++i) {
      order(day_start + static_cast<TimeUs>(i * (12 * kHour) / orders_per_day_));
    }
    if (uniform(1, 3) == 1) vtask(day_start + 13 * kHour);
    if (civil_day(day_start) == 21) withdrawals(day_start + 14 * kHour);
    if (chance(10)) move_streamer(day_start + 15 * kHour);
    drain(day_start + kDay - 1);
  }

  int civil_day(TimeUs at) {
    const std::string s = format_time(at);
    return std::stoi(s.substr(8, 2));
  }

  void order(TimeUs at) {
    const std::uint32_t s = static_cast<std::uint32_t>(uniform(0, o_.streamers - 1));
    const std::uint32_t m = static_cast<std::uint32_t>(uniform(0, merchants_ - 1));
    StreamerSim& st = streamers_[s];
    const bool directed = st.approved[m] && chance(70);
    const bool ghost = chance(3);
    const std::string plan = ghost ? "p-missing" : fmt::format("{}{}", directed ? "pd" : "pg", m);
    const bool via_link = chance(95);
    const Fen amount = static_cast<Fen>(uniform(990, 299900));
    const std::uint64_t n = ++orders_;
    emit(
        at,
        fmt::format(
            R"({{"id":"{}","type":"order.paid","at":"{}","order":"o{}","merchant":"m{}","streamer":"s{}","plan":"{}","amount":"{}","via_link":{}}})",
            id(), t(at), n, m, s, plan, format_money(amount), via_link));
    // Refund decided now so that the income estimate uses the final net.
    Fen refund = 0;
    if (chance(10)) refund = chance(50) ? amount : amount * static_cast<Fen>(uniform(10, 90)) / 100;
    const bool confirm = refund < amount && chance(95);
    const TimeUs confirm_at = at + static_cast<TimeUs>(uniform(3, 12)) * kDay;
    if (confirm)
      later(confirm_at, fmt::format(R"({{"id":"{}","type":"order.confirmed","at":"{}","order":"o{}"}})", id(),
                                    t(confirm_at), n));
    if (refund > 0) {
      // Before or after confirmation; a third after settlement (clawed back).
      const TimeUs refund_at =
          refund == amount ? at + kDay : (chance(33) ? confirm_at + 40 * kDay : at + 2 * kDay);
      later(refund_at,
            fmt::format(
                R"({{"id":"{}","type":"order.refunded","at":"{}","order":"o{}","amount":"{}","case":"c{}"}})",
                id(), t(refund_at), n, format_money(refund), n));
    }
    if (confirm && via_link && !ghost) {
      // Conservative CPS income for the streamer: 80% of the commission on the final net (the default
      // policy gives 80% or 100%), available from the settlement day after confirmation.
      const std::int64_t rate_pct = directed ? 10 : 1;  // lower bound of the plan's rate
      const Fen income = (amount - refund) * rate_pct / 100 * 8 / 10;
      st.income.emplace_back(settlement_day_after(confirm_at, 20, kDefaultOffsetSec), income);
    }
  }

  void vtask(TimeUs at) {
    const std::uint32_t s = static_cast<std::uint32_t>(uniform(0, o_.streamers - 1));
    const std::uint64_t n = ++tasks_;
    static constexpr const char* kKinds[] = {"ordinary", "showcase", "title"};
    emit(
        at,
        fmt::format(
            R"({{"id":"{}","type":"vtask.created","at":"{}","task":"t{}","merchant":"m{}","streamer":"s{}","kind":"{}","price":"{}.00"}})",
            id(), t(at), n, uniform(0, merchants_ - 1), s, kKinds[uniform(0, 2)], uniform(500, 50000)));
    const TimeUs end = at + static_cast<TimeUs>(uniform(5, 15)) * kDay;
    later(end, fmt::format(R"({{"id":"{}","type":"{}","at":"{}","task":"t{}"}})", id(),
                           chance(80) ? "vtask.confirmed" : "vtask.cancelled", t(end), n));
  }

  void withdrawals(TimeUs at) {
    for (std::uint32_t s = 0; s < o_.streamers; ++s) {
      StreamerSim& st = streamers_[s];
      if (!st.verified) continue;
      Fen available = -st.withdrawn;
      for (const auto& [from, fen] : st.income) available += from <= at ? fen : 0;
      const Fen amount = available / 2;
      if (amount < 100) continue;
      st.withdrawn += amount;
      emit(
          at + s,
          fmt::format(
              R"({{"id":"{}","type":"withdrawal.requested","at":"{}","party":"streamer:s{}","source":"cps","amount":"{}"}})",
              id(), t(at + s), s, format_money(amount)));
    }
  }

  void move_streamer(TimeUs at) {
    if (agencies_ < 2) return;
    const std::uint32_t s = static_cast<std::uint32_t>(uniform(0, o_.streamers - 1));
    StreamerSim& st = streamers_[s];
    if (st.agency < 0) return;
    emit(at, fmt::format(R"({{"id":"{}","type":"streamer.released","at":"{}","streamer":"s{}"}})", id(),
                         t(at), s));
    st.agency = static_cast<int>((static_cast<std::uint32_t>(st.agency) + 1) % agencies_);
    emit(at + kDay,
         fmt::format(R"({{"id":"{}","type":"streamer.signed","at":"{}","streamer":"s{}","agency":"a{}"}})",
                     id(), t(at + kDay), s, st.agency));
  }

  GenOptions o_;
  std::ostream& out_;
  std::mt19937_64 rng_;
  TimeUs start_ = 0;
  std::uint32_t agencies_ = 1, merchants_ = 4;
  std::uint64_t orders_per_day_ = 1;
  std::vector<StreamerSim> streamers_;
  std::set<std::pair<std::uint32_t, std::uint32_t>> applied_;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<>> pending_;
  std::uint64_t pending_order_ = 0, next_id_ = 0, emitted_ = 0, orders_ = 0, tasks_ = 0;
};

}  // namespace

void generate_events(const GenOptions& options, std::ostream& out) {
  Generator(options, out).run();
}

}  // namespace fz
