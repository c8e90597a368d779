// Keys of the engine's projection. DO NOT CHANGE: part of the on-disk format (see store/format.hpp and
// docs/storage.md). The projection is derived data: `fenzhang replay` rebuilds it from the event log.
//
//   entities CF  'a'+agency  's'+streamer  'p'+party  'P'+plan  'A'+plan+'\0'+streamer  'o'+order  't'+task
//                -> engine/entities.hpp encodings
//   accounts CF  'S'+account                      -> AccountSummary (total, availability schedule)
//                'J'+account+'\0'+seq(8)+index(2)  -> JournalEntry (amount, available-from, event at)
//   postings CF  seq(8)                            -> all postings of that event (engine/book.hpp)
//   targets CF   'T'+key                           -> Allocation of a `per KEY` target
//   meta CF      "projection_head"                 -> seq(8): the projection reflects events 1..seq
//                "version/"+seq(8)                 -> "" : the event at seq is a rules.published
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/bytes.hpp"
#include "store/format.hpp"

namespace fz::engine::pformat {

inline constexpr char kSummary = 'S';
inline constexpr char kJournal = 'J';
inline constexpr char kTarget = 'T';
inline constexpr std::string_view kProjectionHead = "projection_head";
inline constexpr std::string_view kVersionPrefix = "version/";

inline std::string journal_prefix(std::string_view account) {
  std::string k(1, kJournal);
  k.append(account);
  k.push_back('\0');
  return k;
}

inline std::string journal_key(std::string_view account, std::uint64_t seq, std::uint16_t index) {
  std::string k = journal_prefix(account);
  k += format::seq_key(seq);
  k.push_back(static_cast<char>(index >> 8));
  k.push_back(static_cast<char>(index & 0xff));
  return k;
}

}  // namespace fz::engine::pformat
