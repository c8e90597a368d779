// An independent, deliberately simple model of the SPEC's semantics for the model-based test
// (tests/model/model_test.cpp). It shares no code with engine/, dsl/, store/ or core/: its own calendar
// arithmetic, its own money formatting, its own entity state, and the two rules files it is checked
// against (rules/taobao-live.rules and tests/model/variant.rules) hard-coded as plain C++.
//
// Everything is kept in std::maps and recomputed by brute force; speed does not matter here, being
// obviously right does.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace fzmodel {

using i64 = std::int64_t;
__extension__ typedef __int128 i128;

inline constexpr i64 kUs = 1'000'000;
inline constexpr i64 kDay = 86'400 * kUs;
inline constexpr i64 kHour = 3'600 * kUs;

// ---- calendar (proleptic Gregorian, fixed UTC offsets) ------------------------------------------------
i64 floor_div(i64 a, i64 b);
// Local wall-clock time at offset `off_sec` east of UTC -> UTC microseconds.
i64 civil(int y, int mo, int d, int h, int mi, int s, int off_sec);
// RFC 3339 in the given offset, fractional seconds only when not zero.
std::string format_time(i64 us, int off_sec);
i64 next_midnight(i64 t, int off_sec);        // first local midnight strictly after t
i64 settlement(i64 t, int day, int off_sec);  // local midnight of `day` in the month after t's
std::string month_of(i64 t, int off_sec);     // "2026-10"

// ---- money -----------------------------------------------------------------------------------------
std::string format_money(i64 fen);  // "12.30", "-0.05"

// ---- events ----------------------------------------------------------------------------------------
// A field value as the model understands it. Kinds: 'i' identifier, 'p' party, 'a' account, 'e' enum,
// 't' free text, 'm' money (fen), 'r' percent (percent x 10^4, so 20% is 200000), 'b' bool.
struct Field {
  char kind = 'i';
  std::string s;
  i64 i = 0;
  friend bool operator==(const Field&, const Field&) = default;
};

struct Ev {
  std::string id;
  std::string type;
  i64 at = 0;
  std::vector<std::pair<std::string, Field>> fields;
  std::map<std::string, std::string> meta;

  const Field* find(const std::string& name) const;
  const std::string& s(const std::string& name) const;
  i64 i(const std::string& name) const;
  // Same type, instant, fields (in any order) and meta: the SPEC's "identical body".
  bool same_body(const Ev& other) const;
};

enum class Verdict { kAccepted, kDuplicate, kRejected };
const char* verdict_name(Verdict v);

struct Outcome {
  Verdict verdict = Verdict::kRejected;
  std::string why;           // the model's own reason, for failure reports
  std::string require_msg;   // set when a rule's `require` failed: the rules file's message
  std::size_t postings = 0;  // how many postings the accepted event made
};

struct Posting {
  std::string account;
  i64 amount = 0;
  i64 event_at = 0;
  i64 avail = 0;
};

// ---- entity state (SPEC 4) ---------------------------------------------------------------------------
struct Membership {
  std::string agency;
  i64 from = 0;
  i64 to = 0;  // kOpen while signed
};
inline constexpr i64 kOpen = INT64_MAX;

struct Plan {
  std::string merchant;
  bool directed = false;
  i64 rate_ppm = 0;  // percent x 10^4
  bool auto_approve = false;
  i64 created = 0;
};

enum class AppStatus { kPending, kApproved, kRejected };
struct Application {
  AppStatus status = AppStatus::kPending;
  i64 decided = 0;
};

struct Order {
  std::string merchant, streamer, plan;
  i64 amount = 0, refunded = 0, paid_at = 0;
  bool via_link = false, confirmed = false;
  std::set<std::string> cases;
  i64 net() const { return amount - refunded; }
};

enum class TaskState { kOpen, kConfirmed, kCancelled };
struct Task {
  std::string merchant, streamer, kind;
  i64 price = 0, created = 0;
  TaskState state = TaskState::kOpen;
};

struct State {
  std::map<std::string, i64> agencies;  // contracted_at
  std::map<std::string, std::vector<Membership>> streamers;
  std::map<std::string, bool> payout_verified;  // by party "streamer:s1"
  std::map<std::string, Plan> plans;
  std::map<std::pair<std::string, std::string>, Application> apps;  // (plan, streamer)
  std::map<std::string, Order> orders;
  std::map<std::string, Task> tasks;
  std::map<std::string, std::map<std::string, i64>> targets;  // per key: what was posted to each account
};

// ---- the model -------------------------------------------------------------------------------------
class Model {
 public:
  enum class Rules { kTaobaoLive, kVariant };
  // `published`: the rules file is in the ledger before the first event; else publish() comes later.
  explicit Model(Rules rules, bool published = true);

  // Decides an event exactly as SPEC 3-6 say; the state changes only when it is accepted.
  Outcome apply(const Ev& e);
  // The rules file is published after the events so far: they are replayed under it.
  void publish();
  bool published() const { return published_; }
  // A line the generator broke on purpose (not JSON, a bad value, a missing field): rejected, no change.
  Outcome malformed(const std::string& what);

  struct Balance {
    i64 total = 0;
    i64 available = 0;
    friend bool operator==(const Balance&, const Balance&) = default;
  };
  // SPEC 6: with `at`, postings of events whose at <= *at, availability at *at; without, every posting
  // and availability at `now`. Every account with a posting in range, zero totals included.
  std::map<std::string, Balance> balances(std::optional<i64> at, i64 now) const;
  // Postings so far to `account` whose availability is at or before `t` (the rules' available()).
  i64 available(const std::string& account, i64 t) const;

  const State& state() const { return st_; }
  const std::map<std::string, Ev>& accepted() const { return ids_; }
  std::size_t posting_count() const { return book_.size(); }

  // What the rules file sets (the generator aims times at its boundaries).
  int tz() const;
  i64 effective() const;
  i64 contract_lag() const;
  std::vector<i64> boundaries() const;  // campaign ends, the effective time

  // The agency a streamer is signed to at t ("" if none): the latest signing whose interval covers t.
  std::string agency_at(const std::string& streamer, i64 t) const;

 private:
  struct Eval;
  std::string preconditions(const Ev& e);
  void run_rules(const Ev& e, Eval& x);
  void taobao_live(const Ev& e, i64 terms, Eval& x);
  void variant(const Ev& e, i64 terms, Eval& x);
  bool eligible(const Order& o) const;
  bool agency_active(const std::string& agency, i64 terms) const;
  void book(Eval& x);

  Rules rules_;
  bool published_ = true;
  State st_;
  std::vector<Ev> log_;            // accepted events in append order
  std::map<std::string, Ev> ids_;  // accepted events by id
  std::vector<Posting> book_;
  std::map<std::string, std::map<i64, i128>> schedule_;  // per account: amount by available-from time
};

}  // namespace fzmodel
