// Byte encoding primitives shared by every binary format of the ledger: minimal LEB128 unsigned
// varints (uvar), zigzag signed varints (svar), length-prefixed strings (str). ByteReader accepts only
// minimal encodings, so decoding then re-encoding gives back the same bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace fz::bytes {

// Stored bytes as one line of text for reports (verify, dumps): printable ASCII as is, every other byte
// and the backslash as \xHH, so the text is unambiguous and carries no control characters.
inline std::string printable(std::string_view raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size());
  for (const char ch : raw) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(ch);
    } else {
      out += {'\\', 'x', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

inline void put_u8(std::string& out, std::uint8_t v) {
  out.push_back(static_cast<char>(v));
}

// How many bytes put_uvar and put_svar write for v, to size a buffer exactly up front.
inline std::size_t uvar_size(std::uint64_t v) {
  std::size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}
inline std::size_t svar_size(std::int64_t v) {
  return uvar_size((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
}
inline std::size_t str_size(std::string_view s) {
  return uvar_size(s.size()) + s.size();
}

inline void put_uvar(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

inline void put_svar(std::string& out, std::int64_t v) {
  put_uvar(out, (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
}

inline void put_str(std::string& out, std::string_view s) {
  put_uvar(out, s.size());
  out.append(s);
}

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}

  bool u8(std::uint8_t* v) {
    if (pos_ >= in_.size()) return false;
    *v = static_cast<std::uint8_t>(in_[pos_++]);
    return true;
  }
  bool uvar(std::uint64_t* v) {
    std::uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      std::uint8_t b = 0;
      if (!u8(&b)) return false;
      if (shift == 63 && b > 1) return false;
      r |= std::uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) {
        if (b == 0 && shift != 0) return false;  // not minimal
        *v = r;
        return true;
      }
    }
    return false;
  }
  bool svar(std::int64_t* v) {
    std::uint64_t u = 0;
    if (!uvar(&u)) return false;
    *v = static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
    return true;
  }
  bool str(std::string* s) {
    std::uint64_t n = 0;
    if (!uvar(&n) || n > in_.size() - pos_) return false;
    s->assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool boolean(bool* b) {
    std::uint8_t v = 0;
    if (!u8(&v) || v > 1) return false;
    *b = v == 1;
    return true;
  }
  bool at_end() const { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace fz::bytes
