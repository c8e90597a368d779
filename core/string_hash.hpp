// StringMap<V>: a flat hash map keyed by std::string that is looked up by std::string_view too, so a
// lookup builds no string. StringHash hashes both alike (heterogeneous lookup needs the same hash).
#pragma once

#include <boost/container_hash/hash.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace fz {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return boost::hash<std::string_view>()(s); }
};

template <class V>
using StringMap = boost::unordered_flat_map<std::string, V, StringHash, std::equal_to<>>;

}  // namespace fz
