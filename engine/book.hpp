// The book: postings and account balances (SPEC section 6), as values the engine's Tables persist.
//
// A Posting is one signed amount on one account, with where it came from (event, rule, line, ruleset
// version, target key) and when it becomes available. An AccountSummary holds an account's total and
// its availability schedule (available-from time -> amount), so that "available at T" is answered
// without reading the journal.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.hpp"
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
  std::map<TimeUs, Fen> schedule;  // available-from -> sum of postings; zero entries removed
  Fen available_at(TimeUs t) const;
};

// A keyed target's last allocation: account -> fen, in the order first posted.
struct Allocation {
  std::vector<std::pair<std::string, Fen>> parts;
  Fen get(std::string_view account) const;
  void set(const std::string& account, Fen amount);
};

std::string encode(const AccountSummary&);
bool decode(std::string_view, AccountSummary*);
std::string encode(const Allocation&);
bool decode(std::string_view, Allocation*);
// All postings of one event.
std::string encode_postings(const std::vector<Posting>&);
bool decode_postings(std::string_view, std::vector<Posting>*);

}  // namespace fz::engine
