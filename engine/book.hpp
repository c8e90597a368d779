// The book: postings and account balances (SPEC section 6), as values the engine's Tables persist.
//
// A Posting is one signed amount on one account, with where it came from (event, rule, line, ruleset
// version, target key) and when it becomes available. An AccountSummary holds an account's total and
// its availability schedule (available-from time -> amount), so that "available at T" is answered
// without reading the journal. A JournalEntry is one posting as the per-account journal index keeps it.
#pragma once

#include <boost/container/flat_map.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.hpp"
#include "core/rational.hpp"
#include "core/time.hpp"

namespace fz::engine {

struct Posting {
  std::uint64_t seq = 0;
  std::string event_id;
  TimeUs event_at = 0;
  std::string account;
  Fen amount_fen = 0;
  TimeUs available_at = 0;
  std::uint32_t version = 0;  // 0 for operator adjustments, which run no rules
  std::string rule;           // "adjustment" for operator adjustments
  std::uint32_t line = 0;
  std::string key;  // target key of a `per` statement, "" otherwise
  friend bool operator==(const Posting&, const Posting&) = default;
};

struct AccountSummary {
  Fen total_fen = 0;
  // available-from -> sum of postings. An entry stays once posted, even when it sums to zero, so the
  // stored schedule is the same however the events were batched. Invariant: the entries sum to total_fen.
  // A sorted vector: an account has few entries (a settlement day a month, say), new ones mostly come
  // last, and a posting's lookup then stays in one cache line or two instead of chasing tree nodes.
  boost::container::flat_map<TimeUs, Fen> schedule;
  // The sum of the entries' magnitudes (not stored). While it fits in 64 bits, every partial sum of the
  // schedule, so the available balance at any time, fits too, and overflow checks need not walk it.
  Int128 magnitude = 0;
  // total minus what becomes available after t: walks only the (few) entries later than t.
  Fen available_at(TimeUs t) const;
  // Adds a posting's amount at its available-from time (the caller has checked it fits).
  void add(TimeUs available_at, Fen amount_fen);
  // Whether the total, every entry and the available balance at every time fit in 64 bits.
  bool fits() const;
};

struct JournalEntry {
  std::uint64_t seq = 0;
  std::uint16_t index = 0;  // the posting's position among its event's postings
  Fen amount_fen = 0;
  TimeUs available_at = 0;
  TimeUs event_at = 0;
  friend bool operator==(const JournalEntry&, const JournalEntry&) = default;
};

// A keyed target's last allocation: account -> fen, in the order first posted.
struct Allocation {
  std::vector<std::pair<std::string, Fen>> parts;
  Fen get(std::string_view account) const;
  void set(const std::string& account, Fen amount);
};

// An account's total or one schedule entry: u8 1, svar fen.
std::string encode_fen_value(Fen);
bool decode_fen_value(std::string_view, Fen*);
// A journal bucket: u8 1, then per entry uvar(seq - bucket base), uvar index, svar amount,
// svar available-from, svar event time. Appending an entry appends its bytes.
std::string empty_journal_bucket();
void append_journal_entry(std::string* bucket, std::uint64_t bucket_base, const JournalEntry&);
bool decode_journal_bucket(std::string_view, std::uint64_t bucket_base, std::vector<JournalEntry>*);
void encode(const Allocation&, std::string* out);  // replaces what *out held
bool decode(std::string_view, Allocation*);
// All postings of one event.
std::string encode_postings(const std::vector<Posting>&);
bool decode_postings(std::string_view, std::vector<Posting>*);

}  // namespace fz::engine
