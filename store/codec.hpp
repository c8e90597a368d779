// Binary encoding of events (layout in store/format.hpp) and the SHA-256 hash chain.
//
// encode_event() is a pure function of the Event: equal events give equal bytes, which is how
// idempotency tells a duplicate from a conflict. decode_event() accepts only what encode_event()
// produces (minimal varints, ascending meta keys, valid enum indexes, correct checksum, no trailing
// bytes), so decode followed by encode returns the same bytes. Thread-safe (no shared state).
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"
#include "model/event.hpp"
#include "store/format.hpp"

namespace fz {

std::string encode_event(const Event& event);
Result<Event> decode_event(std::string_view record);

format::Hash chain_hash(const format::Hash& previous, std::string_view record);
std::string hash_hex(const format::Hash& hash);
// SHA-256 of arbitrary bytes as 64 lowercase hex digits (the rules source digest).
std::string sha256_hex(std::string_view bytes);

}  // namespace fz
