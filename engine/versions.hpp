// Published ruleset versions and the choice of the one that governs an event (SPEC section 5):
// of all versions in the ledger, the one with the greatest `effective` <= the event's terms time; on
// equal `effective`, the later published. Values; not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "dsl/ruleset.hpp"
#include "model/event.hpp"
#include "store/ledger.hpp"

namespace fz::engine {

struct PublishedVersion {
  std::uint64_t seq = 0;  // of its rules.published event
  std::string sha256;
  dsl::Ruleset rules;
};

class Versions {
 public:
  void add(PublishedVersion v);
  // Drops versions published after `seq` (a batch that was not committed).
  void drop_after(std::uint64_t seq);
  const PublishedVersion* governing(TimeUs terms_time) const;
  const std::vector<PublishedVersion>& all() const { return list_; }
  const PublishedVersion* find(const std::string& name, std::int64_t version) const;
  bool empty() const { return list_.empty(); }
  bool has_seq(std::uint64_t seq) const;

 private:
  std::vector<PublishedVersion> list_;  // sorted by (effective, seq)
};

// Compiles the ruleset carried by a rules.published event.
Result<PublishedVersion> version_from_event(const Event& event, std::uint64_t seq);

// Every version published in source's events 1..until_seq (reads only the rules.published events).
Result<Versions> load_versions(const Ledger& source, std::uint64_t until_seq);

}  // namespace fz::engine
