#include "engine/book.hpp"

#include "core/bytes.hpp"

namespace fz::engine {

using bytes::ByteReader;

Fen AccountSummary::available_at(TimeUs t) const {
  Fen sum = 0;
  for (auto it = schedule.begin(); it != schedule.end() && it->first <= t; ++it) sum += it->second;
  return sum;
}

Fen Allocation::get(std::string_view account) const {
  for (const auto& [a, v] : parts) {
    if (a == account) return v;
  }
  return 0;
}

void Allocation::set(const std::string& account, Fen amount) {
  for (auto& [a, v] : parts) {
    if (a == account) {
      v = amount;
      return;
    }
  }
  parts.emplace_back(account, amount);
}

std::string encode(const AccountSummary& s) {
  std::string out;
  bytes::put_u8(out, 1);
  bytes::put_svar(out, s.total_fen);
  bytes::put_uvar(out, s.schedule.size());
  for (const auto& [t, v] : s.schedule) {
    bytes::put_svar(out, t);
    bytes::put_svar(out, v);
  }
  return out;
}

bool decode(std::string_view in, AccountSummary* s) {
  ByteReader r(in);
  std::uint8_t version = 0;
  std::uint64_t n = 0;
  if (!r.u8(&version) || version != 1 || !r.svar(&s->total_fen) || !r.uvar(&n) || n > in.size()) return false;
  s->schedule.clear();
  for (std::uint64_t i = 0; i < n; ++i) {
    TimeUs t = 0;
    Fen v = 0;
    if (!r.svar(&t) || !r.svar(&v)) return false;
    s->schedule.emplace_hint(s->schedule.end(), t, v);
  }
  return r.at_end();
}

std::string encode(const Allocation& a) {
  std::string out;
  bytes::put_u8(out, 1);
  bytes::put_uvar(out, a.parts.size());
  for (const auto& [acct, v] : a.parts) {
    bytes::put_str(out, acct);
    bytes::put_svar(out, v);
  }
  return out;
}

bool decode(std::string_view in, Allocation* a) {
  ByteReader r(in);
  std::uint8_t version = 0;
  std::uint64_t n = 0;
  if (!r.u8(&version) || version != 1 || !r.uvar(&n) || n > in.size()) return false;
  a->parts.resize(n);
  for (auto& [acct, v] : a->parts) {
    if (!r.str(&acct) || !r.svar(&v)) return false;
  }
  return r.at_end();
}

std::string encode_postings(const std::vector<Posting>& ps) {
  std::string out;
  bytes::put_u8(out, 1);
  bytes::put_uvar(out, ps.size());
  for (const Posting& p : ps) {
    bytes::put_uvar(out, p.seq);
    bytes::put_str(out, p.event_id);
    bytes::put_svar(out, p.event_at);
    bytes::put_str(out, p.account);
    bytes::put_svar(out, p.amount_fen);
    bytes::put_svar(out, p.available_at);
    bytes::put_uvar(out, p.version);
    bytes::put_str(out, p.rule);
    bytes::put_uvar(out, p.line);
    bytes::put_str(out, p.key);
  }
  return out;
}

bool decode_postings(std::string_view in, std::vector<Posting>* ps) {
  ByteReader r(in);
  std::uint8_t version = 0;
  std::uint64_t n = 0;
  if (!r.u8(&version) || version != 1 || !r.uvar(&n) || n > in.size()) return false;
  ps->resize(n);
  for (Posting& p : *ps) {
    std::uint64_t v = 0, line = 0;
    if (!(r.uvar(&p.seq) && r.str(&p.event_id) && r.svar(&p.event_at) && r.str(&p.account) &&
          r.svar(&p.amount_fen) && r.svar(&p.available_at) && r.uvar(&v) && r.str(&p.rule) && r.uvar(&line) &&
          r.str(&p.key))) {
      return false;
    }
    p.version = static_cast<std::uint32_t>(v);
    p.line = static_cast<std::uint32_t>(line);
  }
  return r.at_end();
}

}  // namespace fz::engine
