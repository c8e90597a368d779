#include "engine/book.hpp"

#include <cassert>

#include "core/bytes.hpp"
#include "core/rational.hpp"
#include "engine/projection_format.hpp"

namespace fz::engine {

using bytes::ByteReader;

Fen AccountSummary::available_at(TimeUs t) const {
  Int128 later = 0;  // entries fit in 64 bits each; a run of them is summed in 128
  for (auto it = schedule.rbegin(); it != schedule.rend() && it->first > t; ++it) later += it->second;
  return static_cast<Fen>(Int128{total_fen} - later);
}

namespace {
Int128 magnitude_of(Fen v) {
  return v < 0 ? -Int128{v} : Int128{v};
}
}  // namespace

void AccountSummary::add(TimeUs available_at, Fen amount_fen) {
  total_fen += amount_fen;
  Fen& entry = schedule[available_at];
  magnitude -= magnitude_of(entry);
  entry += amount_fen;
  magnitude += magnitude_of(entry);
}

bool AccountSummary::fits() const {
  constexpr Int128 kMax = INT64_MAX, kMin = INT64_MIN;
  if (magnitude <= kMax) return true;
  Int128 running = 0;
  for (const auto& [_, v] : schedule) {
    running += v;
    if (running > kMax || running < kMin) return false;
  }
  return running == total_fen;
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

std::string encode_fen_value(Fen v) {
  std::string out;
  bytes::put_u8(out, 1);
  bytes::put_svar(out, v);
  return out;
}

bool decode_fen_value(std::string_view in, Fen* v) {
  ByteReader r(in);
  std::uint8_t version = 0;
  return r.u8(&version) && version == 1 && r.svar(v) && r.at_end();
}

std::string empty_journal_bucket() {
  return std::string(1, '\x01');
}

void append_journal_entry(std::string* bucket, std::uint64_t bucket_base, const JournalEntry& e) {
  bytes::put_uvar(*bucket, e.seq - bucket_base);
  bytes::put_uvar(*bucket, e.index);
  bytes::put_svar(*bucket, e.amount_fen);
  bytes::put_svar(*bucket, e.available_at);
  bytes::put_svar(*bucket, e.event_at);
}

bool decode_journal_bucket(std::string_view in, std::uint64_t bucket_base, std::vector<JournalEntry>* out) {
  ByteReader r(in);
  std::uint8_t version = 0;
  if (!r.u8(&version) || version != 1) return false;
  out->clear();
  while (!r.at_end()) {
    JournalEntry e;
    std::uint64_t offset = 0, index = 0;
    if (!r.uvar(&offset) || !r.uvar(&index) || !r.svar(&e.amount_fen) || !r.svar(&e.available_at) ||
        !r.svar(&e.event_at) || index > 0xffff || offset >= pformat::kJournalBucketSeqs) {
      return false;
    }
    e.seq = bucket_base + offset;
    e.index = static_cast<std::uint16_t>(index);
    if (!out->empty() &&
        (e.seq < out->back().seq || (e.seq == out->back().seq && e.index <= out->back().index)))
      return false;  // entries are in log order
    out->push_back(e);
  }
  return true;
}

void encode(const Allocation& a, std::string* buffer) {
  std::string& out = *buffer;
  out.clear();
  bytes::put_u8(out, 1);
  bytes::put_uvar(out, a.parts.size());
  for (const auto& [acct, v] : a.parts) {
    bytes::put_str(out, acct);
    bytes::put_svar(out, v);
  }
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
  // Sized exactly first: this runs for every event with postings, and the value is kept until the next
  // checkpoint, so neither repeated growth nor spare capacity.
  std::size_t size = 1 + bytes::uvar_size(ps.size());
  for (const Posting& p : ps) {
    size += bytes::uvar_size(p.seq) + bytes::str_size(p.event_id) + bytes::svar_size(p.event_at) +
            bytes::str_size(p.account) + bytes::svar_size(p.amount_fen) + bytes::svar_size(p.available_at) +
            bytes::uvar_size(p.version) + bytes::str_size(p.rule) + bytes::uvar_size(p.line) +
            bytes::str_size(p.key);
  }
  out.reserve(size);
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
  assert(out.size() == size);
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
