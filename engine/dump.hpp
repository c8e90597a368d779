// projection_dump(): the projection as canonical text, with every sequence number replaced by the id of
// the event it numbers. Two ledgers holding the same events in a different order of `rules.published`
// (rules published before the events, or after them and recomputed) number their events differently,
// so their stored projections cannot be byte-identical; their dumps are, when they settle alike.
// Used by tests and for debugging; reads the whole projection, so not for large ledgers' hot paths.
#pragma once

#include <string>

#include "core/result.hpp"
#include "store/ledger.hpp"

namespace fz::engine {

Result<std::string> projection_dump(const Ledger& ledger);

}  // namespace fz::engine
