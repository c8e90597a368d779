#include "engine/entities.hpp"

#include "core/bytes.hpp"

namespace fz::engine {
namespace {

using bytes::ByteReader;
using bytes::put_str;
using bytes::put_svar;
using bytes::put_u8;

constexpr std::uint8_t kEntityVersion = 1;

// Starts a record in *out, which is cleared first (its capacity is kept: Table::flush reuses one buffer).
std::string& begin(std::string* out) {
  out->clear();
  put_u8(*out, kEntityVersion);
  return *out;
}

bool open(ByteReader& r) {
  std::uint8_t v = 0;
  return r.u8(&v) && v == kEntityVersion;
}

}  // namespace

const std::string& Streamer::agency_at(TimeUs t) const {
  static const std::string kNone;
  for (auto it = memberships.rbegin(); it != memberships.rend(); ++it) {
    if (it->from_us <= t && t < it->to_us) return it->agency;
  }
  return kNone;
}

Rational Plan::rate() const {
  return make_rational(rate_units, 1'000'000).value_or(Rational{});
}

void encode(const Agency& a, std::string* buffer) {
  std::string& out = begin(buffer);
  put_svar(out, a.contracted_at);
}
bool decode(std::string_view in, Agency* a) {
  ByteReader r(in);
  return open(r) && r.svar(&a->contracted_at) && r.at_end();
}

void encode(const Streamer& s, std::string* buffer) {
  std::string& out = begin(buffer);
  bytes::put_uvar(out, s.memberships.size());
  for (const Membership& m : s.memberships) {
    put_str(out, m.agency);
    put_svar(out, m.from_us);
    put_svar(out, m.to_us);
  }
}
bool decode(std::string_view in, Streamer* s) {
  ByteReader r(in);
  std::uint64_t n = 0;
  if (!open(r) || !r.uvar(&n) || n > in.size()) return false;
  s->memberships.resize(n);
  for (Membership& m : s->memberships) {
    if (!r.str(&m.agency) || !r.svar(&m.from_us) || !r.svar(&m.to_us)) return false;
  }
  return r.at_end();
}

void encode(const Payout& p, std::string* buffer) {
  std::string& out = begin(buffer);
  put_str(out, p.alipay);
  put_u8(out, p.verified ? 1 : 0);
}
bool decode(std::string_view in, Payout* p) {
  ByteReader r(in);
  return open(r) && r.str(&p->alipay) && r.boolean(&p->verified) && r.at_end();
}

void encode(const Plan& p, std::string* buffer) {
  std::string& out = begin(buffer);
  put_str(out, p.merchant);
  put_u8(out, p.directed ? 1 : 0);
  put_svar(out, p.rate_units);
  put_str(out, p.approval);
  put_svar(out, p.created_at);
  put_svar(out, p.effective_at);
}
bool decode(std::string_view in, Plan* p) {
  ByteReader r(in);
  return open(r) && r.str(&p->merchant) && r.boolean(&p->directed) && r.svar(&p->rate_units) &&
         r.str(&p->approval) && r.svar(&p->created_at) && r.svar(&p->effective_at) && r.at_end();
}

void encode(const Application& a, std::string* buffer) {
  std::string& out = begin(buffer);
  put_u8(out, static_cast<std::uint8_t>(a.status));
  put_svar(out, a.applied_at);
  put_svar(out, a.decided_at);
}
bool decode(std::string_view in, Application* a) {
  ByteReader r(in);
  std::uint8_t st = 0;
  if (!open(r) || !r.u8(&st) || st < 1 || st > 3) return false;
  a->status = static_cast<ApplicationStatus>(st);
  return r.svar(&a->applied_at) && r.svar(&a->decided_at) && r.at_end();
}

void encode(const Order& o, std::string* buffer) {
  std::string& out = begin(buffer);
  put_str(out, o.merchant);
  put_str(out, o.streamer);
  put_str(out, o.plan);
  put_svar(out, o.amount);
  put_svar(out, o.refunded);
  put_svar(out, o.paid_at);
  put_u8(out, o.via_link ? 1 : 0);
  put_u8(out, o.confirmed ? 1 : 0);
  put_svar(out, o.confirmed_at);
  bytes::put_uvar(out, o.cases.size());
  for (const auto& c : o.cases) put_str(out, c);
}
bool decode(std::string_view in, Order* o) {
  ByteReader r(in);
  std::uint64_t n = 0;
  if (!(open(r) && r.str(&o->merchant) && r.str(&o->streamer) && r.str(&o->plan) && r.svar(&o->amount) &&
        r.svar(&o->refunded) && r.svar(&o->paid_at) && r.boolean(&o->via_link) && r.boolean(&o->confirmed) &&
        r.svar(&o->confirmed_at) && r.uvar(&n) && n <= in.size())) {
    return false;
  }
  o->cases.resize(n);
  for (auto& c : o->cases) {
    if (!r.str(&c)) return false;
  }
  return r.at_end();
}

void encode(const Task& t, std::string* buffer) {
  std::string& out = begin(buffer);
  put_str(out, t.merchant);
  put_str(out, t.streamer);
  put_str(out, t.kind);
  put_svar(out, t.price);
  put_svar(out, t.created_at);
  put_u8(out, t.confirmed ? 1 : 0);
  put_svar(out, t.confirmed_at);
  put_u8(out, t.cancelled ? 1 : 0);
}
bool decode(std::string_view in, Task* t) {
  ByteReader r(in);
  return open(r) && r.str(&t->merchant) && r.str(&t->streamer) && r.str(&t->kind) && r.svar(&t->price) &&
         r.svar(&t->created_at) && r.boolean(&t->confirmed) && r.svar(&t->confirmed_at) &&
         r.boolean(&t->cancelled) && r.at_end();
}

}  // namespace fz::engine
