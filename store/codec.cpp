#include "store/codec.hpp"

#include "core/bytes.hpp"

#include <openssl/evp.h>

#include <fmt/format.h>
#include <boost/crc.hpp>
#include <cassert>

namespace fz {
namespace {

using Crc32c = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

std::uint32_t crc32c(std::string_view bytes) {
  Crc32c crc;
  crc.process_bytes(bytes.data(), bytes.size());
  return crc.checksum();
}

using bytes::put_str;
using bytes::put_svar;
using bytes::put_uvar;
using Reader = bytes::ByteReader;

void encode_field(std::string& out, const FieldSpec& spec, const FieldValue& v) {
  if (spec.optional) {
    out.push_back(v.present ? 1 : 0);
    if (!v.present) return;
  }
  switch (spec.kind) {
    case FieldKind::kIdent:
    case FieldKind::kParty:
    case FieldKind::kAccount:
    case FieldKind::kText:
    case FieldKind::kSha256:
      put_str(out, v.s);
      break;
    case FieldKind::kEnum:
    case FieldKind::kBool:
      out.push_back(static_cast<char>(v.i));
      break;
    case FieldKind::kMoney:
    case FieldKind::kTime:
      put_svar(out, v.i);
      break;
    case FieldKind::kPercent:
    case FieldKind::kInt:
      put_uvar(out, static_cast<std::uint64_t>(v.i));
      break;
  }
}

bool decode_field(Reader& r, const FieldSpec& spec, FieldValue* v) {
  if (spec.optional) {
    std::uint8_t present = 0;
    if (!r.u8(&present) || present > 1) return false;
    v->present = present == 1;
    if (!v->present) return true;
  }
  switch (spec.kind) {
    case FieldKind::kIdent:
    case FieldKind::kParty:
    case FieldKind::kAccount:
    case FieldKind::kText:
    case FieldKind::kSha256:
      return r.str(&v->s);
    case FieldKind::kEnum: {
      std::uint8_t b = 0;
      if (!r.u8(&b) || b >= spec.values.size()) return false;
      v->i = b;
      v->s = std::string(spec.values[b]);
      return true;
    }
    case FieldKind::kBool: {
      std::uint8_t b = 0;
      if (!r.u8(&b) || b > 1) return false;
      v->i = b;
      return true;
    }
    case FieldKind::kMoney:
    case FieldKind::kTime:
      return r.svar(&v->i);
    case FieldKind::kPercent:
    case FieldKind::kInt: {
      std::uint64_t u = 0;
      if (!r.uvar(&u) || u > static_cast<std::uint64_t>(INT64_MAX)) return false;
      v->i = static_cast<std::int64_t>(u);
      return true;
    }
  }
  return false;
}

}  // namespace

std::string encode_event(const Event& e) {
  const EventSpec& spec = spec_of(e.type);
  assert(e.fields.size() == spec.fields.size());
  std::string out;
  out.reserve(64 + e.id.size());
  out.push_back(static_cast<char>(format::kFormatVersion));
  out.push_back(static_cast<char>(e.type));
  put_str(out, e.id);
  put_svar(out, e.at_us);
  put_uvar(out, e.meta.size());
  for (const auto& [k, v] : e.meta) {
    put_str(out, k);
    put_str(out, v);
  }
  for (std::size_t i = 0; i < spec.fields.size(); ++i) encode_field(out, spec.fields[i], e.fields[i]);
  const std::uint32_t crc = crc32c(out);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  return out;
}

Result<Event> decode_event(std::string_view record) {
  if (record.size() < 6) return make_error("record too short");
  const std::string_view body = record.substr(0, record.size() - 4);
  std::uint32_t stored = 0;
  for (int i = 0; i < 4; ++i)
    stored |= std::uint32_t{static_cast<std::uint8_t>(record[body.size() + i])} << (8 * i);
  if (crc32c(body) != stored) return make_error("record checksum mismatch");
  Reader r(body);
  std::uint8_t version = 0, type = 0;
  if (!r.u8(&version) || version != format::kFormatVersion) {
    return make_error(fmt::format("unknown record format version {}", version));
  }
  if (!r.u8(&type) || type < 1 || type > kEventTypeCount) return make_error("unknown event type");
  Event e;
  e.type = static_cast<EventType>(type);
  std::uint64_t meta_count = 0;
  if (!r.str(&e.id) || !r.svar(&e.at_us) || !r.uvar(&meta_count) || meta_count > body.size()) {
    return make_error("malformed record envelope");
  }
  e.meta.resize(meta_count);
  for (std::size_t i = 0; i < meta_count; ++i) {
    if (!r.str(&e.meta[i].first) || !r.str(&e.meta[i].second)) return make_error("malformed record meta");
    if (i > 0 && !(e.meta[i - 1].first < e.meta[i].first)) return make_error("record meta keys out of order");
  }
  const EventSpec& spec = spec_of(e.type);
  e.fields.resize(spec.fields.size());
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    if (!decode_field(r, spec.fields[i], &e.fields[i])) {
      return make_error(fmt::format("malformed record field {}", spec.fields[i].name));
    }
  }
  if (!r.at_end()) return make_error("trailing bytes in record");
  return e;
}

format::Hash chain_hash(const format::Hash& previous, std::string_view record) {
  format::Hash out{};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned int len = 0;
  const bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, previous.data(), previous.size()) == 1 &&
                  EVP_DigestUpdate(ctx, record.data(), record.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, out.data(), &len) == 1;
  EVP_MD_CTX_free(ctx);
  // SHA-256 from OpenSSL does not fail on valid inputs; if it ever did, a ledger must not go on.
  if (!ok || len != out.size()) std::abort();
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  format::Hash out{};
  unsigned int n = 0;
  // As in chain_hash: OpenSSL's SHA-256 does not fail on valid inputs; if it did, stop.
  if (EVP_Digest(bytes.data(), bytes.size(), out.data(), &n, EVP_sha256(), nullptr) != 1 || n != out.size()) {
    std::abort();
  }
  return hash_hex(out);
}

std::string hash_hex(const format::Hash& hash) {
  std::string out;
  out.reserve(64);
  for (std::uint8_t b : hash) out += fmt::format("{:02x}", b);
  return out;
}

}  // namespace fz
