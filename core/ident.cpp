#include "core/ident.hpp"

#include <fmt/format.h>

namespace fz {

Status check_ident(std::string_view id) {
  if (id.empty()) return make_error("is empty; identifiers have 1-128 characters");
  if (id.size() > kMaxIdentBytes) {
    return make_error(fmt::format("is {} characters long; identifiers have at most 128", id.size()));
  }
  for (std::size_t i = 0; i < id.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(id[i]);
    if (c == ':') return make_error(fmt::format("\"{}\" contains ':', which identifiers may not", id));
    if (c <= 0x20 || c >= 0x7f) {
      return make_error(
          fmt::format("contains {} at position {}; identifiers are printable ASCII without spaces",
                      c == ' ' ? std::string("a space") : fmt::format("byte 0x{:02x}", c), i + 1));
    }
  }
  return Status::Ok();
}

}  // namespace fz
