// `fenzhang export events`: the log as canonical JSON Lines (docs/exports.md).
#include <fmt/format.h>
#include <boost/json.hpp>

#include "export/export.hpp"
#include "model/event_json.hpp"
#include "store/codec.hpp"

namespace fz::exports {
namespace {

// A rules.published line carries where it stood in the chain, so that `append` may publish it again
// at the same position (model/event_json.hpp, engine/publish.hpp).
std::string rules_line(const Event& e, const format::Hash& previous, const format::Hash& hash) {
  boost::json::object o = boost::json::parse(event_to_json(e)).as_object();
  o[kChainPreviousKey] = hash_hex(previous);
  o[kChainHashKey] = hash_hex(hash);
  return boost::json::serialize(o);
}

}  // namespace

Status write_events(const Ledger& ledger, std::uint64_t from_seq, std::ostream& out) {
  format::Hash previous{};
  if (from_seq > 1 && from_seq <= ledger.head_seq()) {
    auto before = ledger.read(from_seq - 1);
    if (!before) return before.error();
    previous = before->hash;
  }
  FZ_TRY(ledger.scan(from_seq, ledger.head_seq(), [&](const StoredEvent& stored) -> Status {
    const Event& e = stored.event;
    if (e.type == EventType::kRulesPublished) {
      out << rules_line(e, previous, stored.hash) << '\n';
    } else {
      out << event_to_json(e) << '\n';
    }
    previous = stored.hash;
    if (!out) return make_error("cannot write the output");
    return {};
  }));
  out.flush();
  if (!out) return make_error("cannot write the output");
  return {};
}

}  // namespace fz::exports
