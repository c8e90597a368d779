// Identifiers (event, order, plan, task, party, case ids): 1-128 printable ASCII characters,
// no whitespace, no ':' (SPEC section 2). Validation returns the reason a user can act on.
#pragma once

#include <string_view>

#include "core/result.hpp"

namespace fz {

inline constexpr std::size_t kMaxIdentBytes = 128;

Status check_ident(std::string_view id);

}  // namespace fz
