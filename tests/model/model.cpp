#include "tests/model/model.hpp"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <stdexcept>

namespace fzmodel {

// ---- calendar --------------------------------------------------------------------------------------

i64 floor_div(i64 a, i64 b) {
  i64 q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm, written out again).
i64 days_from_civil(i64 y, i64 m, i64 d) {
  y -= m <= 2 ? 1 : 0;
  const i64 era = floor_div(y, 400);
  const i64 yoe = y - era * 400;
  const i64 doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const i64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void civil_from_days(i64 z, i64* y, i64* m, i64* d) {
  z += 719468;
  const i64 era = floor_div(z, 146097);
  const i64 doe = z - era * 146097;
  const i64 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const i64 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const i64 mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

}  // namespace

i64 civil(int y, int mo, int d, int h, int mi, int s, int off_sec) {
  const i64 days = days_from_civil(y, mo, d);
  return (days * 86'400 + h * 3'600 + mi * 60 + s - off_sec) * kUs;
}

std::string format_time(i64 us, int off_sec) {
  const i64 local = us + static_cast<i64>(off_sec) * kUs;
  const i64 day = floor_div(local, kDay);
  i64 rem = local - day * kDay;
  i64 y = 0, m = 0, d = 0;
  civil_from_days(day, &y, &m, &d);
  const i64 micros = rem % kUs;
  rem /= kUs;
  char buf[160];
  const int off = off_sec < 0 ? -off_sec : off_sec;
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld", static_cast<long long>(y),
                static_cast<long long>(m), static_cast<long long>(d), static_cast<long long>(rem / 3600),
                static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60));
  std::string out = buf;
  if (micros != 0) {
    std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(micros));
    out += buf;
  }
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", off_sec < 0 ? '-' : '+', off / 3600, off / 60 % 60);
  return out + buf;
}

i64 next_midnight(i64 t, int off_sec) {
  const i64 off = static_cast<i64>(off_sec) * kUs;
  return (floor_div(t + off, kDay) + 1) * kDay - off;
}

i64 settlement(i64 t, int day, int off_sec) {
  i64 y = 0, m = 0, d = 0;
  civil_from_days(floor_div(t + static_cast<i64>(off_sec) * kUs, kDay), &y, &m, &d);
  if (++m == 13) {
    m = 1;
    ++y;
  }
  return civil(static_cast<int>(y), static_cast<int>(m), day, 0, 0, 0, off_sec);
}

std::string month_of(i64 t, int off_sec) {
  i64 y = 0, m = 0, d = 0;
  civil_from_days(floor_div(t + static_cast<i64>(off_sec) * kUs, kDay), &y, &m, &d);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld", static_cast<long long>(y), static_cast<long long>(m));
  return buf;
}

std::string format_money(i64 fen) {
  const bool neg = fen < 0;
  const unsigned long long v =
      neg ? 0ULL - static_cast<unsigned long long>(fen) : static_cast<unsigned long long>(fen);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s%llu.%02llu", neg ? "-" : "", v / 100, v % 100);
  return buf;
}

// ---- events ----------------------------------------------------------------------------------------

const Field* Ev::find(const std::string& name) const {
  for (const auto& [k, v] : fields) {
    if (k == name) return &v;
  }
  return nullptr;
}

const std::string& Ev::s(const std::string& name) const {
  const Field* f = find(name);
  if (f == nullptr) throw std::logic_error("model: event " + id + " has no field " + name);
  return f->s;
}

i64 Ev::i(const std::string& name) const {
  const Field* f = find(name);
  if (f == nullptr) throw std::logic_error("model: event " + id + " has no field " + name);
  return f->i;
}

bool Ev::same_body(const Ev& o) const {
  if (type != o.type || at != o.at || meta != o.meta || fields.size() != o.fields.size()) return false;
  for (const auto& [k, v] : fields) {
    const Field* w = o.find(k);
    if (w == nullptr || !(*w == v)) return false;
  }
  return true;
}

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kAccepted:
      return "accepted";
    case Verdict::kDuplicate:
      return "duplicate";
    case Verdict::kRejected:
      return "rejected";
  }
  return "?";
}

// ---- rules helpers -----------------------------------------------------------------------------------

namespace {

struct Q {  // an exact ratio n/d, d > 0
  i128 n = 0, d = 1;
};

i128 floor_q(i128 n, i128 d) {
  i128 q = n / d;
  if (n % d != 0 && ((n < 0) != (d < 0))) --q;
  return q;
}
i128 ceil_q(i128 n, i128 d) {
  return -floor_q(-n, d);
}
// Half away from zero.
i128 round_q(i128 n, i128 d) {
  if (n >= 0) return floor_q(2 * n + d, 2 * d);
  return -floor_q(-2 * n + d, 2 * d);
}

// SPEC 5's largest remainder: floors first, the leftover fen to the largest fractional parts, ties to
// the share written first.
std::vector<i64> allocate(i64 amount, const std::vector<Q>& shares) {
  const std::size_t n = shares.size();
  std::vector<i64> parts(n);
  std::vector<i128> rem(n);
  i128 given = 0;
  for (std::size_t k = 0; k < n; ++k) {
    const i128 exact_num = static_cast<i128>(amount) * shares[k].n;
    const i128 f = floor_q(exact_num, shares[k].d);
    parts[k] = static_cast<i64>(f);
    rem[k] = exact_num - f * shares[k].d;  // fractional part = rem / d
    given += f;
  }
  i128 left = static_cast<i128>(amount) - given;
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return rem[a] * shares[b].d > rem[b] * shares[a].d; });
  for (std::size_t k = 0; k < n && left > 0; ++k, --left) ++parts[order[k]];
  return parts;
}

}  // namespace

struct Model::Eval {
  std::vector<Posting> out;
  std::map<std::string, std::map<std::string, i64>> targets;  // staged target allocations
  std::string fail;
  std::string require_msg;
  i64 event_at = 0;
  bool enforce = true;  // append: a failed `require` rejects; replay: it is only reported (SPEC 5)

  // `require C else msg`: false when evaluation must stop.
  bool require(bool cond, const char* msg) {
    if (cond || !enforce) return true;
    require_msg = msg;
    return false;
  }

  // An account computed by a rule: every segment a non-empty name of letters, digits, _ - . (ids may hold
  // other printable characters, which make the statement an evaluation error).
  bool valid_account(const std::string& account) {
    std::size_t start = 1;
    while (true) {
      const std::size_t end = std::min(account.find(':', start), account.size());
      if (end == start) {
        fail = "empty account segment in " + account;
        return false;
      }
      for (std::size_t k = start; k < end; ++k) {
        const char c = account[k];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || c == '.')) {
          fail = "invalid account segment in " + account;
          return false;
        }
      }
      if (end == account.size()) return true;
      start = end + 1;
    }
  }
  void post(const std::string& account, i64 amount, i64 avail) {
    if (amount != 0) out.push_back(Posting{account, amount, event_at, avail});
  }
  bool move(i64 amount, const std::string& from, const std::string& to, i64 avail) {
    if (!fail.empty() || !valid_account(from) || !valid_account(to)) return false;
    if (amount < 0) {
      fail = "negative amount " + format_money(amount);
      return false;
    }
    post(from, -amount, avail);
    post(to, amount, avail);
    return true;
  }
  // A target: post the difference between the new allocation and what the key holds.
  void target(const State& st, const std::string& key, const std::vector<std::pair<std::string, i64>>& alloc,
              i64 avail) {
    if (!fail.empty()) return;
    for (const auto& [acct, v] : alloc) {
      if (!valid_account(acct)) return;
    }
    std::map<std::string, i64> prev;
    if (auto it = targets.find(key); it != targets.end()) {
      prev = it->second;
    } else if (auto jt = st.targets.find(key); jt != st.targets.end()) {
      prev = jt->second;
    }
    std::map<std::string, i64> next;
    for (const auto& [acct, v] : prev) next[acct] = 0;
    for (const auto& [acct, v] : alloc) next[acct] += v;
    for (const auto& [acct, v] : next) post(acct, v - prev[acct], avail);
    targets[key] = next;
  }
  // split amount from `from` among shares (the last one may be "rest": nullopt).
  bool split(const State& st, i64 amount, const std::string& from,
             const std::vector<std::pair<std::optional<Q>, std::string>>& shares, i64 avail,
             const std::optional<std::string>& key) {
    if (!fail.empty() || !valid_account(from)) return false;
    for (const auto& [q, acct] : shares) {
      if (!valid_account(acct)) return false;
    }
    if (amount < 0) {
      fail = "negative amount " + format_money(amount);
      return false;
    }
    std::vector<Q> qs;
    Q sum{0, 1};
    for (const auto& [q, acct] : shares) {
      if (q) {
        sum = Q{sum.n * q->d + q->n * sum.d, sum.d * q->d};
        qs.push_back(*q);
      }
    }
    for (std::size_t k = 0; k < shares.size(); ++k) {
      if (!shares[k].first) qs.insert(qs.begin() + static_cast<std::ptrdiff_t>(k), Q{sum.d - sum.n, sum.d});
    }
    const std::vector<i64> parts = allocate(amount, qs);
    std::vector<std::pair<std::string, i64>> alloc{{from, -amount}};
    for (std::size_t k = 0; k < shares.size(); ++k) alloc.emplace_back(shares[k].second, parts[k]);
    if (key) {
      target(st, *key, alloc, avail);
    } else {
      for (const auto& [acct, v] : alloc) post(acct, v, avail);
    }
    return true;
  }
};

// ---- the model -------------------------------------------------------------------------------------

namespace {
constexpr int kTaobaoTz = 8 * 3600;
constexpr int kVariantTz = -(3 * 3600 + 30 * 60);
}  // namespace

Model::Model(Rules rules, bool published) : rules_(rules), published_(published) {}

int Model::tz() const {
  return rules_ == Rules::kTaobaoLive ? kTaobaoTz : kVariantTz;
}
i64 Model::effective() const {
  return rules_ == Rules::kTaobaoLive ? civil(2026, 1, 1, 0, 0, 0, kTaobaoTz)
                                      : civil(2026, 10, 15, 12, 0, 0, kVariantTz);
}
i64 Model::contract_lag() const {
  return rules_ == Rules::kTaobaoLive ? 14 * kDay : 3 * kDay + 12 * kHour;
}
std::vector<i64> Model::boundaries() const {
  if (rules_ == Rules::kTaobaoLive) {
    return {civil(2026, 10, 20, 20, 0, 0, kTaobaoTz), civil(2026, 11, 12, 0, 0, 0, kTaobaoTz)};
  }
  return {effective(), civil(2026, 12, 1, 0, 0, 0, kVariantTz), civil(2027, 1, 1, 0, 0, 0, kVariantTz)};
}

std::string Model::agency_at(const std::string& streamer, i64 t) const {
  auto it = st_.streamers.find(streamer);
  if (it == st_.streamers.end()) return "";
  for (auto m = it->second.rbegin(); m != it->second.rend(); ++m) {
    if (m->from <= t && t < m->to) return m->agency;
  }
  return "";
}

bool Model::agency_active(const std::string& agency, i64 terms) const {
  if (agency.empty()) return false;
  auto it = st_.agencies.find(agency);
  return it != st_.agencies.end() && it->second + contract_lag() <= terms;
}

bool Model::eligible(const Order& o) const {
  if (!o.via_link) return false;
  auto p = st_.plans.find(o.plan);
  if (p == st_.plans.end() || p->second.merchant != o.merchant) return false;
  const i64 effective_at = p->second.directed ? next_midnight(p->second.created, tz()) : p->second.created;
  if (effective_at > o.paid_at) return false;
  if (!p->second.directed) return true;
  auto a = st_.apps.find({o.plan, o.streamer});
  return a != st_.apps.end() && a->second.status == AppStatus::kApproved && a->second.decided <= o.paid_at;
}

// SPEC 5 (2026-12-01): the least, over every moment u >= t, of the sum of the account's postings so far
// whose availability is <= u. Written the slow, obvious way: evaluate the sum at t and at every later
// availability time and keep the least.
i64 Model::available(const std::string& account, i64 t) const {
  auto sum_at = [&](i64 u) {
    i128 sum = 0;
    for (const Posting& p : book_) {
      if (p.account == account && p.avail <= u) sum += p.amount;
    }
    return sum;
  };
  i128 least = sum_at(t);
  for (const Posting& p : book_) {
    if (p.account == account && p.avail > t) least = std::min(least, sum_at(p.avail));
  }
  return static_cast<i64>(least);
}

std::map<std::string, Model::Balance> Model::balances(std::optional<i64> at, i64 now) const {
  std::map<std::string, std::pair<i128, i128>> sums;
  const i64 when = at ? *at : now;
  for (const Posting& p : book_) {
    if (at && p.event_at > *at) continue;
    auto& s = sums[p.account];
    s.first += p.amount;
    if (p.avail <= when) s.second += p.amount;
  }
  std::map<std::string, Balance> out;
  for (const auto& [acct, s] : sums)
    out[acct] = Balance{static_cast<i64>(s.first), static_cast<i64>(s.second)};
  return out;
}

Outcome Model::malformed(const std::string& what) {
  return Outcome{Verdict::kRejected, "malformed line: " + what, ""};
}

// SPEC 3's engine preconditions, and the entity changes of an accepted event. "" when accepted.
std::string Model::preconditions(const Ev& e) {
  const std::string& t = e.type;
  if (t == "agency.contracted") {
    if (st_.agencies.count(e.s("agency")) != 0) return "agency already contracted";
    st_.agencies[e.s("agency")] = e.at;
  } else if (t == "streamer.signed") {
    if (st_.agencies.count(e.s("agency")) == 0) return "agency not contracted";
    auto& ms = st_.streamers[e.s("streamer")];
    if (!ms.empty() && ms.back().to == kOpen) return "streamer currently signed";
    ms.push_back(Membership{e.s("agency"), e.at, kOpen});
  } else if (t == "streamer.released") {
    auto it = st_.streamers.find(e.s("streamer"));
    if (it == st_.streamers.end() || it->second.empty() || it->second.back().to != kOpen)
      return "streamer not signed";
    // docs/decisions.md: a release before the signing it would close is refused.
    if (e.at < it->second.back().from) return "release before signing";
    it->second.back().to = e.at;
  } else if (t == "payout.bound") {
    st_.payout_verified[e.s("party")] = e.i("verified") != 0;
  } else if (t == "plan.created") {
    if (st_.plans.count(e.s("plan")) != 0) return "plan exists";
    const Field* approval = e.find("approval");
    st_.plans[e.s("plan")] = Plan{e.s("merchant"), e.s("kind") == "directed", e.i("rate"),
                                  approval != nullptr && approval->s == "auto", e.at};
  } else if (t == "plan.applied") {
    auto p = st_.plans.find(e.s("plan"));
    if (p == st_.plans.end()) return "unknown plan";
    if (!p->second.directed) return "general plan takes no applications";
    const auto key = std::make_pair(e.s("plan"), e.s("streamer"));
    if (auto a = st_.apps.find(key); a != st_.apps.end() && a->second.status != AppStatus::kRejected)
      return "pending or approved application exists";
    st_.apps[key] = p->second.auto_approve ? Application{AppStatus::kApproved, e.at} : Application{};
  } else if (t == "plan.approved" || t == "plan.rejected") {
    auto a = st_.apps.find({e.s("plan"), e.s("streamer")});
    if (a == st_.apps.end() || a->second.status != AppStatus::kPending) return "no pending application";
    a->second = Application{t == "plan.approved" ? AppStatus::kApproved : AppStatus::kRejected, e.at};
  } else if (t == "order.paid") {
    if (st_.orders.count(e.s("order")) != 0) return "order exists";
    Order o;
    o.merchant = e.s("merchant");
    o.streamer = e.s("streamer");
    o.plan = e.s("plan");
    o.amount = e.i("amount");
    o.paid_at = e.at;
    o.via_link = e.i("via_link") != 0;
    st_.orders[e.s("order")] = o;
  } else if (t == "order.confirmed") {
    auto o = st_.orders.find(e.s("order"));
    if (o == st_.orders.end()) return "unknown order";
    if (o->second.confirmed) return "order already confirmed";
    if (o->second.net() == 0) return "order fully refunded";
    o->second.confirmed = true;
  } else if (t == "order.refunded") {
    auto o = st_.orders.find(e.s("order"));
    if (o == st_.orders.end()) return "unknown order";
    if (o->second.cases.count(e.s("case")) != 0) return "refund case already recorded";
    if (e.i("amount") > o->second.net()) return "refund exceeds what is not yet refunded";
    o->second.refunded += e.i("amount");
    o->second.cases.insert(e.s("case"));
  } else if (t == "vtask.created") {
    if (st_.tasks.count(e.s("task")) != 0) return "task exists";
    st_.tasks[e.s("task")] =
        Task{e.s("merchant"), e.s("streamer"), e.s("kind"), e.i("price"), e.at, TaskState::kOpen};
  } else if (t == "vtask.confirmed" || t == "vtask.cancelled") {
    auto k = st_.tasks.find(e.s("task"));
    if (k == st_.tasks.end()) return "unknown task";
    // SPEC: confirm needs "not confirmed or cancelled"; cancel "not confirmed" (and, docs/decisions.md,
    // not already cancelled).
    if (k->second.state != TaskState::kOpen) return "task already confirmed or cancelled";
    k->second.state = t == "vtask.confirmed" ? TaskState::kConfirmed : TaskState::kCancelled;
  } else if (t == "withdrawal.requested" || t == "adjustment") {
    // no entity preconditions
  } else {
    return "unknown type " + t;
  }
  return "";
}

void Model::run_rules(const Ev& e, Eval& x) {
  if (e.type == "adjustment") {
    x.move(e.i("amount"), e.s("from"), e.s("to"), e.at);
    return;
  }
  if (!published_) return;  // no ruleset in the ledger yet: no rules run
  i64 terms = e.at;
  if (e.type == "order.confirmed" || e.type == "order.refunded") terms = st_.orders.at(e.s("order")).paid_at;
  if (e.type == "vtask.confirmed" || e.type == "vtask.cancelled") terms = st_.tasks.at(e.s("task")).created;
  if (terms < effective()) return;  // no version governs the event: no rules run
  if (rules_ == Rules::kTaobaoLive) {
    taobao_live(e, terms, x);
  } else {
    variant(e, terms, x);
  }
}

// rules/taobao-live.rules
void Model::taobao_live(const Ev& e, i64 terms, Eval& x) {
  const std::string& t = e.type;
  if (t == "order.confirmed" || t == "order.refunded") {
    const Order& o = st_.orders.at(e.s("order"));
    if (!o.confirmed || !eligible(o)) return;
    const i128 exact = round_q(static_cast<i128>(o.net()) * st_.plans.at(o.plan).rate_ppm, 1'000'000);
    if (exact > INT64_MAX) {
      x.fail = "overflow computing the commission";
      return;
    }
    const i64 commission = static_cast<i64>(exact);
    const std::string agency = agency_at(o.streamer, terms);
    const i64 avail = settlement(e.at, 20, kTaobaoTz);
    const std::string key = "cps/" + e.s("order");
    const std::string merchant = "@merchant:" + o.merchant + ":cps";
    const std::string streamer = "@streamer:" + o.streamer + ":cps";
    if (agency_active(agency, terms)) {
      x.split(st_, commission, merchant, {{Q{1, 5}, "@agency:" + agency + ":cps"}, {std::nullopt, streamer}},
              avail, key);
    } else {
      x.target(st_, key, {{merchant, -commission}, {streamer, commission}}, avail);
    }
  } else if (t == "withdrawal.requested") {
    const std::string& party = e.s("party");
    const std::string kind = party.substr(0, party.find(':'));
    const std::string id = party.substr(party.find(':') + 1);
    const i64 amount = e.i("amount");
    const std::string account = "@" + kind + ":" + id + ":" + e.s("source");
    auto v = st_.payout_verified.find(party);
    if ((v == st_.payout_verified.end() || !v->second) &&
        !x.require(false, "withdrawal needs a verified Alipay account bound to the party"))
      return;
    if (!x.valid_account(account)) return;
    if (available(account, e.at) < amount &&
        !x.require(false, "not enough available balance for this withdrawal"))
      return;
    if (kind == "streamer" && e.s("source") == "cps") {
      const i64 fee = static_cast<i64>(round_q(amount, 8));  // amount x 10% / 80%
      x.move(fee, account, "@platform:fees", e.at);
      x.move(amount - fee, account, "@payout:streamer:" + id, e.at);
    } else {
      x.move(amount, account, "@payout:" + kind + ":" + id, e.at);
    }
  } else if (t == "vtask.confirmed") {
    const Task& k = st_.tasks.at(e.s("task"));
    const std::vector<i64> campaign = boundaries();
    const bool in_campaign = campaign[0] <= e.at && e.at < campaign[1];
    const i64 fee = in_campaign ? static_cast<i64>(round_q(k.price, 5)) : 0;
    const i64 net = k.price - fee;
    const std::string merchant = "@merchant:" + k.merchant + ":vtask";
    x.move(fee, merchant, "@platform:fees", e.at);
    const std::string agency = agency_at(k.streamer, terms);
    if (!agency.empty()) {
      x.move(net, merchant, "@agency:" + agency + ":vtask", e.at);
      x.move(static_cast<i64>(round_q(net, 2)), "@agency:" + agency + ":vtask",
             "@streamer:" + k.streamer + ":vtask", e.at);
    } else {
      x.move(net, merchant, "@streamer:" + k.streamer + ":vtask", e.at);
    }
  }
}

// tests/model/variant.rules
void Model::variant(const Ev& e, i64 terms, Eval& x) {
  const std::string& t = e.type;
  if (t == "order.confirmed" || t == "order.refunded") {
    const Order& o = st_.orders.at(e.s("order"));
    if (!o.confirmed || !eligible(o)) return;
    const i128 exact = floor_q(static_cast<i128>(o.net()) * st_.plans.at(o.plan).rate_ppm, 1'000'000);
    if (exact > INT64_MAX) {
      x.fail = "overflow computing the commission";
      return;
    }
    const i64 commission = static_cast<i64>(exact);
    const std::string agency = agency_at(o.streamer, terms);
    const i64 avail = settlement(e.at, 5, kVariantTz);
    const std::string key = "cps/" + e.s("order");
    const std::string merchant = "@merchant:" + o.merchant + ":cps";
    const std::string streamer = "@streamer:" + o.streamer + ":cps";
    if (agency_active(agency, terms)) {
      x.split(
          st_, commission, merchant,
          {{Q{1, 10}, "@platform:cps"}, {Q{3, 10}, "@agency:" + agency + ":cps"}, {std::nullopt, streamer}},
          avail, key);
    } else {
      x.split(st_, commission, merchant, {{Q{1, 10}, "@platform:cps"}, {std::nullopt, streamer}}, avail, key);
    }
  } else if (t == "order.paid") {
    if (e.i("amount") >= 100'000 && month_of(e.at, kVariantTz) == "2026-12") {
      x.move(100, "@platform:promo", "@streamer:" + e.s("streamer") + ":bonus", e.at);
    }
  } else if (t == "streamer.signed") {
    const std::string agency = agency_at(e.s("streamer"), terms);
    if (agency_active(agency, terms)) {
      x.move(1, "@agency:" + agency + ":promo", "@streamer:" + e.s("streamer") + ":welcome", e.at);
    }
  } else if (t == "withdrawal.requested") {
    const std::string& party = e.s("party");
    const std::string kind = party.substr(0, party.find(':'));
    const std::string id = party.substr(party.find(':') + 1);
    const i64 amount = e.i("amount");
    const std::string account = "@" + kind + ":" + id + ":" + e.s("source");
    auto v = st_.payout_verified.find(party);
    if ((v == st_.payout_verified.end() || !v->second) &&
        !x.require(false, "a verified payout account is required"))
      return;
    if (!x.valid_account(account)) return;
    if (available(account, e.at) < amount && !x.require(false, "insufficient available funds")) return;
    const i64 fee = e.s("source") == "vtask" ? static_cast<i64>(ceil_q(amount, 7)) : 0;
    x.move(fee, account, "@platform:fees", e.at);
    x.move(amount - fee, account, "@payout:" + kind + ":" + id, e.at);
  } else if (t == "vtask.confirmed") {
    const Task& k = st_.tasks.at(e.s("task"));
    const std::string merchant = "@merchant:" + k.merchant + ":vtask";
    const std::string streamer = "@streamer:" + k.streamer + ":vtask";
    if (k.kind != "title") {
      const i64 avail = next_midnight(e.at, kVariantTz);
      const std::string agency = agency_at(k.streamer, terms);
      if (agency_active(agency, terms)) {
        const Q pass = k.streamer == "s1" ? Q{1, 3} : k.streamer == "s2" ? Q{1, 1} : Q{3, 5};
        x.move(k.price, merchant, "@agency:" + agency + ":vtask", avail);
        x.move(static_cast<i64>(round_q(static_cast<i128>(k.price) * pass.n, pass.d)),
               "@agency:" + agency + ":vtask", streamer, avail);
      } else {
        x.move(k.price, merchant, streamer, avail);
      }
    } else {
      x.split(st_, k.price, merchant, {{Q{5, 100}, "@platform:fees"}, {std::nullopt, streamer}},
              e.at + 2 * kDay, std::nullopt);
    }
  } else if (t == "vtask.cancelled") {
    const Task& k = st_.tasks.at(e.s("task"));
    x.move(static_cast<i64>(ceil_q(k.price, 200)), "@merchant:" + k.merchant + ":vtask", "@platform:fees",
           e.at);
  }
}

Outcome Model::apply(const Ev& e) {
  if (auto it = ids_.find(e.id); it != ids_.end()) {
    if (it->second.same_body(e)) return Outcome{Verdict::kDuplicate, "same id, same body", ""};
    return Outcome{Verdict::kRejected, "conflict: same id, other body", ""};
  }
  const State saved = st_;
  if (std::string why = preconditions(e); !why.empty()) {
    st_ = saved;
    return Outcome{Verdict::kRejected, why, ""};
  }
  Eval x;
  x.event_at = e.at;
  run_rules(e, x);
  if (!x.require_msg.empty() || !x.fail.empty()) {
    st_ = saved;
    return Outcome{Verdict::kRejected, x.require_msg.empty() ? x.fail : "require: " + x.require_msg,
                   x.require_msg};
  }
  // Money is a signed 64-bit count of fen and arithmetic that would overflow is an error (SPEC 2, 5): an
  // event is rejected when it would take an account's total, or its available balance at any time (the
  // running sum of its postings in order of availability), or the amount becoming available at one time,
  // out of range. All of the event's postings count together.
  std::map<std::string, std::map<i64, i128>> touched;
  for (const Posting& p : x.out) {
    auto [it, fresh] = touched.try_emplace(p.account);
    if (fresh) {
      if (auto cur = schedule_.find(p.account); cur != schedule_.end()) it->second = cur->second;
    }
    it->second[p.avail] += p.amount;
  }
  for (const auto& [acct, sched] : touched) {
    i128 running = 0;
    for (const auto& [when, v] : sched) {
      running += v;
      // The amount becoming available at one instant is money too (the SPEC is silent; the engine keeps
      // it as one int64 and refuses what does not fit, which this model accepts as a careful choice).
      if (running > INT64_MAX || running < INT64_MIN || v > INT64_MAX || v < INT64_MIN) {
        st_ = saved;
        return Outcome{Verdict::kRejected, "account " + acct + " would overflow", ""};
      }
    }
  }
  const std::size_t made = x.out.size();
  book(x);
  ids_.emplace(e.id, e);
  log_.push_back(e);
  return Outcome{Verdict::kAccepted, "", "", made};
}

void Model::book(Eval& x) {
  for (const Posting& p : x.out) schedule_[p.account][p.avail] += p.amount;
  for (auto& [key, alloc] : x.targets) st_.targets[key] = alloc;
  for (Posting& p : x.out) book_.push_back(std::move(p));
}

// `fenzhang rules publish` into a ledger that already holds events: the projection becomes a replay of the
// log under the ruleset (SPEC 5, Versions), and replay never rejects: a failed `require` is reported and
// the event keeps its postings; an evaluation error leaves the event without postings.
void Model::publish() {
  published_ = true;
  st_ = State{};
  book_.clear();
  schedule_.clear();
  for (const Ev& e : log_) {
    if (std::string why = preconditions(e); !why.empty())
      throw std::logic_error("model: replay of " + e.id + " failed: " + why);
    Eval x;
    x.event_at = e.at;
    x.enforce = false;
    run_rules(e, x);
    if (x.fail.empty()) book(x);
  }
}

}  // namespace fzmodel
