#include "store/codec.hpp"

#include "core/bytes.hpp"

#include <openssl/evp.h>

#include <fmt/format.h>
#include <boost/crc.hpp>
#include <cassert>
#include <cstdlib>

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
  if (spec.appended && !v.present) return;  // an absent appended field takes no bytes
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
  if (spec.appended && r.at_end()) {  // trailing, absent: no bytes
    v->present = false;
    return true;
  }
  if (spec.optional) {
    std::uint8_t present = 0;
    // An appended field present is 1 then its value; absent it has no byte at all (a 0 is not canonical).
    if (!r.u8(&present) || present > 1 || (spec.appended && present == 0)) return false;
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

namespace {

// One SHA-256 context per thread, made once: a new context and OpenSSL 3's implicit fetch of the
// algorithm on every call cost more than hashing a small record. Thread-local because the appender
// hashes on one thread while readers may verify on others.
class Sha256Context {
 public:
  Sha256Context() : md_(EVP_MD_fetch(nullptr, "SHA256", nullptr)), ctx_(EVP_MD_CTX_new()) {
    if (md_ == nullptr || ctx_ == nullptr) std::abort();  // OpenSSL without SHA-256: nothing can be checked
  }
  ~Sha256Context() {
    EVP_MD_CTX_free(ctx_);
    EVP_MD_free(md_);
  }
  Sha256Context(const Sha256Context&) = delete;
  Sha256Context& operator=(const Sha256Context&) = delete;

  format::Hash digest(std::string_view a, std::string_view b) {
    format::Hash out{};
    unsigned int len = 0;
    const bool ok =
        EVP_DigestInit_ex2(ctx_, md_, nullptr) == 1 && EVP_DigestUpdate(ctx_, a.data(), a.size()) == 1 &&
        EVP_DigestUpdate(ctx_, b.data(), b.size()) == 1 && EVP_DigestFinal_ex(ctx_, out.data(), &len) == 1;
    // SHA-256 from OpenSSL does not fail on valid inputs; if it ever did, a ledger must not go on.
    if (!ok || len != out.size()) std::abort();
    return out;
  }

 private:
  EVP_MD* md_;
  EVP_MD_CTX* ctx_;
};

Sha256Context& thread_sha256() {
  thread_local Sha256Context context;
  return context;
}

}  // namespace

format::Hash chain_hash(const format::Hash& previous, std::string_view record) {
  return thread_sha256().digest(
      std::string_view(reinterpret_cast<const char*>(previous.data()), previous.size()), record);
}

std::string sha256_hex(std::string_view bytes) {
  return hash_hex(thread_sha256().digest(bytes, {}));
}

std::string hash_hex(const format::Hash& hash) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(hash.size() * 2, '0');
  for (std::size_t i = 0; i < hash.size(); ++i) {
    out[2 * i] = kHex[hash[i] >> 4];
    out[2 * i + 1] = kHex[hash[i] & 0xF];
  }
  return out;
}

}  // namespace fz
