// Taobao Union order and refund reports -> events (SPEC section 10). Only the mapping is written here;
// reading the file is text.cpp, csv.cpp and xlsx.cpp, validating the events is store/event_json.cpp.
#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <deque>
#include <unordered_map>

#include "core/ident.hpp"
#include "core/string_hash.hpp"
#include "import/import.hpp"
#include "model/event_json.hpp"
#include "store/codec.hpp"

namespace fz::imports {
namespace {

// ---- cells ------------------------------------------------------------------------------------------

// Trims ASCII spaces and tabs and the ideographic space U+3000; unwraps Excel's ="…" text form.
std::string_view trim(std::string_view s) {
  for (;;) {
    if (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
      s.remove_prefix(1);
    } else if (s.starts_with("\xE3\x80\x80")) {
      s.remove_prefix(3);
    } else {
      break;
    }
  }
  for (;;) {
    if (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
      s.remove_suffix(1);
    } else if (s.ends_with("\xE3\x80\x80")) {
      s.remove_suffix(3);
    } else {
      break;
    }
  }
  if (s.size() >= 3 && s.starts_with("=\"") && s.ends_with("\"")) s = s.substr(2, s.size() - 3);
  return s;
}

// Empty, "-" and "--" (what the back end writes for "none") are an absent value.
bool absent(std::string_view v) {
  return v.empty() || v == "-" || v == "--";
}

std::string quoted(std::string_view v) {
  return fmt::format("\"{}\"", v);
}

// ---- columns ----------------------------------------------------------------------------------------

struct ColumnSpec {
  std::vector<std::string_view> names;  // the first is the one shown
  bool required = true;
};

struct Header {
  std::uint64_t line = 0;
  std::vector<int> index;          // per ColumnSpec: cell index, or -1
  std::vector<std::string> shown;  // per ColumnSpec: the header text found (or the first synonym)
};

std::string looked_for(const ColumnSpec& c) {
  std::string out;
  for (std::string_view n : c.names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

// Reads the table up to the header row (the first row with an order-number column); queues a
// rejection per missing required column. Returns false when the file ended or failed first.
class HeaderedTable {
 public:
  HeaderedTable(std::unique_ptr<Table> table, std::vector<ColumnSpec> specs)
      : table_(std::move(table)), specs_(std::move(specs)) {}

  // The next data row: true with *row, false at the end, or a rejection in *reject (then true too).
  // Returns an error only for what stops the file (a table error becomes one rejection, then the end).
  bool next(Row* row, MappedRow* reject) {
    reject->reason.clear();
    if (!header_ && !done_ && !find_header(reject)) return !reject->reason.empty();
    if (!pending_.empty()) {  // a required column is missing: one rejection each, nothing of the rows read
      *reject = std::move(pending_.front());
      pending_.pop_front();
      done_ = true;
      return true;
    }
    if (done_) return false;
    auto got = table_->next(row);
    if (!got) {
      done_ = true;
      table_error(got.message(), reject);
      return true;
    }
    return *got;
  }

  // Cell of column k in row (trimmed), "" when the column is absent or the row is short.
  std::string_view cell(const Row& row, std::size_t k) const {
    const int i = header_->index[k];
    if (i < 0 || static_cast<std::size_t>(i) >= row.cells.size()) return {};
    return trim(row.cells[static_cast<std::size_t>(i)]);
  }
  bool has(std::size_t k) const { return header_->index[k] >= 0; }
  const std::string& shown(std::size_t k) const { return header_->shown[k]; }

 private:
  void table_error(const std::string& message, MappedRow* reject) {
    // "line 12: malformed CSV …" -> FILE:12: -: malformed CSV …
    reject->line = 0;
    reject->id = "-";
    std::string m = message;
    std::uint64_t line = 0;
    if (m.starts_with("line ") || m.starts_with("row ")) {
      const std::size_t sp = m.find(' ');
      const std::size_t colon = m.find(": ");
      if (colon != std::string::npos) {
        line = std::strtoull(m.c_str() + sp + 1, nullptr, 10);
        m = m.substr(colon + 2);
      }
    }
    reject->line = line;
    reject->reason = m + "; the rest of the file is not read";
  }

  bool find_header(MappedRow* reject) {
    Row row;
    std::uint64_t last_line = 0;
    for (;;) {
      auto got = table_->next(&row);
      if (!got) {
        done_ = true;
        table_error(got.message(), reject);
        return false;
      }
      if (!*got) break;
      last_line = row.line;
      for (const std::string& c : row.cells) {
        const std::string_view t = trim(c);
        for (std::string_view n : specs_[0].names) {
          if (t == n) return take_header(row);
        }
      }
    }
    done_ = true;
    (void)last_line;
    reject->line = 1;
    reject->id = "-";
    reject->reason = fmt::format("column {}: missing (looked for {} in the header of every row)",
                                 specs_[0].names[0], looked_for(specs_[0]));
    return false;
  }

  bool take_header(const Row& row) {
    Header h;
    h.line = row.line;
    for (const ColumnSpec& spec : specs_) {
      int found = -1;
      std::string shown(spec.names[0]);
      for (std::string_view n : spec.names) {
        for (std::size_t i = 0; i < row.cells.size() && found < 0; ++i) {
          if (trim(row.cells[i]) == n) {
            found = static_cast<int>(i);
            shown = std::string(n);
          }
        }
        if (found >= 0) break;
      }
      h.index.push_back(found);
      h.shown.push_back(shown);
      if (found < 0 && spec.required) {
        MappedRow r;
        r.line = row.line;
        r.reason = fmt::format("column {}: missing (looked for {})", spec.names[0], looked_for(spec));
        pending_.push_back(std::move(r));
      }
    }
    header_ = std::move(h);
    return true;
  }

  std::unique_ptr<Table> table_;
  std::vector<ColumnSpec> specs_;
  std::optional<Header> header_;
  std::deque<MappedRow> pending_;
  bool done_ = false;
};

// ---- order report columns ------------------------------------------------------------------------------

enum OrderCol : std::size_t {
  kOrder,
  kStatus,
  kPaidAt,
  kAmount,
  kSettledAt,
  kRate,
  kShop,
  kPid,
  kRelation,
  kParent,
  kTitle,
  kCommission
};

std::vector<ColumnSpec> order_columns(bool for_reconcile) {
  const bool mapping = !for_reconcile;
  return {
      {{"子订单编号", "淘宝子订单号"}, true},
      {{"订单状态"}, true},
      {{"付款时间", "创建时间"}, mapping},
      {{"付款金额"}, mapping},
      {{"结算时间"}, mapping},
      {{"佣金比率"}, mapping},
      {{"掌柜旺旺", "店铺名称"}, mapping},
      {{"推广位ID", "广告位ID"}, mapping},
      {{"渠道关系ID"}, false},
      {{"订单编号"}, false},
      {{"商品信息", "商品名称", "商品标题"}, false},
      {{"佣金金额"}, false},
  };
}

Result<OrderStatus> parse_status(std::string_view s) {
  if (s == "已付款" || s == "订单付款") return OrderStatus::kPaid;
  if (s == "已收货" || s == "订单成功") return OrderStatus::kReceived;
  if (s == "已结算" || s == "订单结算") return OrderStatus::kSettled;
  if (s == "已失效" || s == "订单失效") return OrderStatus::kClosed;
  return make_error(
      fmt::format("unknown status {} (expected 已付款, 已收货, 已结算, 已失效, or 订单付款, 订单成功, "
                  "订单结算, 订单失效)",
                  quoted(s)));
}

// The order number: digits only (a sub-order number; "1.23E+18" means a spreadsheet turned it into a
// number and lost digits).
Status check_order_number(std::string_view s) {
  if (s.empty()) return make_error("empty");
  if (s.size() > 100) return make_error(fmt::format("{} bytes; an order number has at most 100", s.size()));
  for (char c : s) {
    if (c < '0' || c > '9') {
      return make_error(
          fmt::format("{} is not an order number (digits only; a spreadsheet that shows 1.23E+18 lost its "
                      "digits: format the "
                      "column as text)",
                      quoted(s)));
    }
  }
  return Status::Ok();
}

std::string column_error(const std::string& column, const std::string& reason) {
  return fmt::format("column {}: {}", column, reason);
}

std::string json_event(boost::json::object o) {
  return boost::json::serialize(o);
}

// Validates through the same parser as `append`; a failure is the row's rejection.
Result<Event> to_event(std::string_view line) {
  LineResult r = parse_event_line(line);
  if (!r.event) return make_error(r.reason);
  return std::move(*r.event);
}
Result<Event> to_event(const boost::json::object& o) {
  return to_event(json_event(o));
}

// An event of a report row, built from typed values (a report has millions of rows: building JSON
// lines to parse them back took half of an import's mapping). Taken as built when parse_event_line
// would accept its line and give it back (accepted_as_line); otherwise, and always for
// ReportOptions::reference_mapping, its line is parsed as `append` parses one, for the exact reason.
class EventBuilder {
 public:
  EventBuilder(std::string id, EventType type, TimeUs at_us) {
    event_.id = std::move(id);
    event_.type = type;
    event_.at_us = at_us;
    event_.fields.assign(spec_of(type).fields.size(), FieldValue{});
  }
  EventBuilder& text(FieldRef field, std::string value) {
    event_.fields[field.index].s = std::move(value);
    return *this;
  }
  EventBuilder& number(FieldRef field, std::int64_t value) {
    event_.fields[field.index].i = value;
    return *this;
  }
  // Added in key order (an Event's meta is sorted).
  EventBuilder& meta(std::string key, std::string_view value) {
    event_.meta.emplace_back(std::move(key), std::string(value));
    return *this;
  }
  // Gives the event away: call once.
  Result<Event> checked(const ReportOptions& options) {
    if (!options.reference_mapping && accepted_as_line(event_)) return std::move(event_);
    return to_event(event_to_json(event_, options.offset));
  }

 private:
  Event event_;
};

class OrderReport final : public Report {
 public:
  OrderReport(std::unique_ptr<Table> table, const ImportMap& map, ReportOptions options)
      : table_(std::move(table), order_columns(false)), map_(map), options_(options) {}

  Result<bool> next(MappedRow* out) override {
    Row row;
    *out = MappedRow{};
    if (!table_.next(&row, out)) return false;
    if (!out->reason.empty()) return true;
    out->line = row.line;
    map_row(row, out);
    if (!out->reason.empty()) out->events.clear(), out->shared = 0;
    return true;
  }

  std::vector<std::string> notes() const override { return notes_; }

 private:
  void map_row(const Row& row, MappedRow* out) {
    auto reject = [&](std::size_t col, const std::string& why) {
      out->reason = column_error(table_.shown(col), why);
    };
    const std::string_view order = table_.cell(row, kOrder);
    if (Status s = check_order_number(order); !s.ok()) return reject(kOrder, s.message());
    out->id = std::string(order);

    auto status = parse_status(table_.cell(row, kStatus));
    if (!status) return reject(kStatus, status.message());

    auto time_of = [&](std::size_t col) -> Result<TimeUs> {
      auto t = parse_report_time(table_.cell(row, col), options_.offset);
      if (!t) return make_error(column_error(table_.shown(col), t.message()));
      return t;
    };
    auto paid_at = time_of(kPaidAt);
    if (!paid_at) return void(out->reason = paid_at.message());
    std::optional<TimeUs> settled_at;
    if (!absent(table_.cell(row, kSettledAt))) {
      auto t = time_of(kSettledAt);
      if (!t) return void(out->reason = t.message());
      settled_at = *t;
    }
    auto amount = parse_report_money(table_.cell(row, kAmount));
    if (!amount) return reject(kAmount, amount.message());
    if (*amount <= 0)
      return reject(kAmount, fmt::format("{} must be greater than 0", quoted(table_.cell(row, kAmount))));
    auto rate = parse_report_rate(table_.cell(row, kRate));
    if (!rate) return reject(kRate, rate.message());

    // The streamer: the relation id first, then the promotion position id.
    std::string streamer;
    const std::string_view relation =
        table_.has(kRelation) ? table_.cell(row, kRelation) : std::string_view{};
    if (!absent(relation)) {
      if (auto it = map_.relation.find(relation); it != map_.relation.end()) streamer = it->second;
    }
    if (streamer.empty()) {
      const std::string_view pid = table_.cell(row, kPid);
      if (auto it = map_.pid.find(pid); !absent(pid) && it != map_.pid.end()) {
        streamer = it->second;
      } else {
        std::string what =
            fmt::format("{} {}: not in the map", table_.shown(kPid), absent(pid) ? "(empty)" : pid);
        if (!absent(relation)) what = fmt::format("{} {} and {}", table_.shown(kRelation), relation, what);
        out->reason = what;
        return;
      }
    }
    const std::string_view shop = table_.cell(row, kShop);
    if (absent(shop)) return reject(kShop, "empty");
    std::string merchant;
    if (auto it = map_.merchant.find(shop); it != map_.merchant.end()) {
      merchant = it->second;
    } else if (auto named = unmapped_.find(shop); named != unmapped_.end()) {
      merchant = named->second;  // its SHA-256 once per shop, not once per row
    } else {
      merchant = shop_id(shop);
      unmapped_.emplace(std::string(shop), merchant);
      notes_.push_back(fmt::format("merchant {} is not in the map: named {}", quoted(shop), merchant));
    }

    // plan.created, once per merchant and rate (the same Event for every row that uses it).
    std::string plan = "tbk-plan-";
    plan += merchant;
    plan += '-';
    plan += fmt::format_int(*rate).c_str();
    auto cached = plans_.find(plan);
    if (cached == plans_.end()) {
      TimeUs epoch = 0;
      (void)civil_to_us(2000, 1, 1, 0, 0, 0, 0, options_.offset, &epoch);
      auto e = to_event({{"id", plan},
                         {"type", "plan.created"},
                         {"at", format_time(epoch, options_.offset)},
                         {"plan", plan},
                         {"merchant", merchant},
                         {"kind", "general"},
                         {"rate", format_rate(*rate)}});
      if (!e) return void(out->reason = e.message());
      cached = plans_.emplace(plan, std::move(*e)).first;
    }
    out->events.reserve(3);  // the plan, paid, and confirmed or closed
    out->events.push_back(cached->second);
    out->shared = 1;

    const std::string o(order);
    const auto event_id = [&o](std::string_view suffix) {
      std::string id = "tbk-";
      id += o;
      id += suffix;
      return id;
    };
    EventBuilder paid(event_id("-paid"), EventType::kOrderPaid, *paid_at);
    paid.text(fields::kOrder, o)
        .text(fields::order_paid::kMerchant, merchant)
        .text(fields::order_paid::kStreamer, streamer)
        .text(fields::order_paid::kPlan, plan)
        .number(fields::order_paid::kAmount, *amount)
        .number(fields::order_paid::kViaLink, 1);
    if (table_.has(kTitle) && !absent(table_.cell(row, kTitle))) paid.meta("item", table_.cell(row, kTitle));
    if (table_.has(kParent) && !absent(table_.cell(row, kParent)))
      paid.meta("parent_order", table_.cell(row, kParent));
    auto e = paid.checked(options_);
    if (!e) return void(out->reason = e.message());
    out->events.push_back(std::move(*e));

    if (*status == OrderStatus::kSettled) {
      if (!settled_at) return reject(kSettledAt, "empty for a settled order");
      auto c = EventBuilder(event_id("-confirmed"), EventType::kOrderConfirmed, *settled_at)
                   .text(fields::kOrder, o)
                   .checked(options_);
      if (!c) return void(out->reason = c.message());
      out->events.push_back(std::move(*c));
    } else if (*status == OrderStatus::kClosed) {
      auto c = EventBuilder(event_id("-closed"), EventType::kOrderRefunded, settled_at.value_or(*paid_at))
                   .text(fields::kOrder, o)
                   .number(fields::order_refunded::kAmount, *amount)
                   .text(fields::order_refunded::kCase, "closed")
                   .checked(options_);
      if (!c) return void(out->reason = c.message());
      out->events.push_back(std::move(*c));
    }
  }

  HeaderedTable table_;
  const ImportMap& map_;
  ReportOptions options_;
  std::unordered_map<std::string, Event> plans_;
  StringMap<std::string> unmapped_;  // shop name not in the map -> its shop id (noted once)
  std::vector<std::string> notes_;
};

// ---- refund report ----------------------------------------------------------------------------------------

enum RefundCol : std::size_t { kROrder, kRStatus, kRAmount, kRTime, kRCase };

class RefundReport final : public Report {
 public:
  RefundReport(std::unique_ptr<Table> table, ReportOptions options)
      : table_(std::move(table), {{{"淘宝子订单编号", "子订单编号"}, true},
                                  {{"维权状态"}, true},
                                  {{"维权退款金额"}, true},
                                  {{"维权完成时间", "维权创建时间"}, true},
                                  {{"维权编号"}, false}}),
        options_(options) {}

  Result<bool> next(MappedRow* out) override {
    Row row;
    *out = MappedRow{};
    if (!table_.next(&row, out)) return false;
    if (!out->reason.empty()) return true;
    out->line = row.line;
    map_row(row, out);
    if (!out->reason.empty()) out->events.clear();
    return true;
  }
  std::vector<std::string> notes() const override { return {}; }

 private:
  void map_row(const Row& row, MappedRow* out) {
    auto reject = [&](std::size_t col, const std::string& why) {
      out->reason = column_error(table_.shown(col), why);
    };
    const std::string_view order = table_.cell(row, kROrder);
    if (Status s = check_order_number(order); !s.ok()) return reject(kROrder, s.message());
    out->id = std::string(order);
    if (table_.cell(row, kRStatus) != "维权成功") {
      out->skipped = true;
      return;
    }
    auto amount = parse_report_money(table_.cell(row, kRAmount));
    if (!amount) return reject(kRAmount, amount.message());
    const std::string_view time_text = table_.cell(row, kRTime);
    auto at = parse_report_time(time_text, options_.offset);
    if (!at) return reject(kRTime, at.message());
    std::string case_id;
    if (table_.has(kRCase) && !absent(table_.cell(row, kRCase))) {
      case_id = std::string(table_.cell(row, kRCase));
      if (Status s = check_ident(case_id); !s.ok())
        return reject(kRCase, fmt::format("{}: {}", quoted(case_id), s.message()));
    } else {
      case_id = "r";
      for (char c : time_text) {
        if (c >= '0' && c <= '9') case_id += c;
      }
    }
    const std::string o(order);
    auto e = EventBuilder(fmt::format("tbk-{}-refund-{}", o, case_id), EventType::kOrderRefunded, *at)
                 .text(fields::kOrder, o)
                 .number(fields::order_refunded::kAmount, *amount)
                 .text(fields::order_refunded::kCase, case_id)
                 .checked(options_);
    if (!e) return void(out->reason = e.message());
    out->events.push_back(std::move(*e));
  }

  HeaderedTable table_;
  ReportOptions options_;
};

class OrderLinesReader final : public OrderLines {
 public:
  explicit OrderLinesReader(std::unique_ptr<Table> table) : table_(std::move(table), order_columns(true)) {}
  Result<bool> next(ReconcileRow* out) override {
    Row row;
    MappedRow reject;
    *out = ReconcileRow{};
    if (!table_.next(&row, &reject)) return false;
    if (!reject.reason.empty()) {
      out->line = reject.line;
      out->reason = std::move(reject.reason);
      return true;
    }
    out->line = row.line;
    const std::string_view order = table_.cell(row, kOrder);
    if (Status s = check_order_number(order); !s.ok()) {
      out->reason = column_error(table_.shown(kOrder), s.message());
      return true;
    }
    out->id = std::string(order);
    out->order.order = out->id;
    auto status = parse_status(table_.cell(row, kStatus));
    if (!status) {
      out->reason = column_error(table_.shown(kStatus), status.message());
      return true;
    }
    out->order.status = *status;
    if (table_.has(kCommission) && !absent(table_.cell(row, kCommission))) {
      auto c = parse_report_money(table_.cell(row, kCommission));
      if (!c) {
        out->reason = column_error(table_.shown(kCommission), c.message());
        return true;
      }
      out->order.commission = *c;
    }
    return true;
  }

 private:
  HeaderedTable table_;
};

}  // namespace

// ---- values
// -------------------------------------------------------------------------------------------------

Result<Fen> parse_report_money(std::string_view text) {
  std::string_view s = trim(text);
  if (s.starts_with("\xC2\xA5")) {
    s.remove_prefix(2);  // ¥ U+00A5
  } else if (s.starts_with("\xEF\xBF\xA5")) {
    s.remove_prefix(3);  // ￥ U+FFE5
  }
  s = trim(s);
  if (s.empty()) return make_error("empty; an amount such as 1,299.00 is required");
  // Thousands separators: groups of three digits before the decimal point.
  std::string plain;
  plain.reserve(s.size());
  const std::size_t dot = s.find('.');
  const std::string_view whole = s.substr(0, dot);
  if (whole.find(',') != std::string_view::npos) {
    std::size_t group = 0;
    bool first = true;
    for (std::size_t i = 0; i < whole.size(); ++i) {
      const char c = whole[i];
      if (c == ',') {
        if (group == 0 || (!first && group != 3) || group > 3)
          return make_error(fmt::format("{} is not an amount such as 1,299.00", quoted(s)));
        first = false;
        group = 0;
        continue;
      }
      if (c != '-' || i != 0) ++group;
      plain += c;
    }
    if (group != 3) return make_error(fmt::format("{} is not an amount such as 1,299.00", quoted(s)));
    if (dot != std::string_view::npos) plain.append(s.substr(dot));
    s = plain;
  }
  auto fen = parse_money(s);
  if (!fen) return fen.error();  // parse_money quotes the text
  return fen;
}

Result<std::int64_t> parse_report_rate(std::string_view text) {
  std::string_view s = trim(text);
  if (!s.ends_with("%")) return make_error(fmt::format("{} is not a rate such as 9.10 %", quoted(s)));
  s.remove_suffix(1);
  s = trim(s);
  const std::size_t dot = s.find('.');
  const std::string_view whole = s.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  auto digits = [](std::string_view d) {
    return std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (whole.empty() || whole.size() > 6 || !digits(whole) || !digits(frac) ||
      (dot != std::string_view::npos && frac.empty())) {
    return make_error(fmt::format("{} is not a rate such as 9.10 %", quoted(trim(text))));
  }
  if (frac.size() > 4)
    return make_error(fmt::format("{} has {} decimals; at most 4", quoted(trim(text)), frac.size()));
  std::int64_t v = 0;
  for (char c : whole) v = v * 10 + (c - '0');
  for (std::size_t i = 0; i < 4; ++i) v = v * 10 + (i < frac.size() ? frac[i] - '0' : 0);
  return v;
}

std::string format_rate(std::int64_t rate4) {
  std::string frac = fmt::format("{:04d}", rate4 % 10000);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return frac.empty() ? fmt::format("{}%", rate4 / 10000) : fmt::format("{}.{}%", rate4 / 10000, frac);
}

Result<TimeUs> parse_report_time(std::string_view text, OffsetSec offset) {
  const std::string_view s = trim(text);
  auto bad = [&] {
    return make_error(fmt::format("{} is not a time such as 2026-10-05 20:00:00", quoted(s)));
  };
  if (s.size() != 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':')
    return bad();
  auto num = [&](std::size_t at, std::size_t n, int* out) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (!num(0, 4, &y) || !num(5, 2, &mo) || !num(8, 2, &d) || !num(11, 2, &h) || !num(14, 2, &mi) ||
      !num(17, 2, &se)) {
    return bad();
  }
  TimeUs t = 0;
  if (!civil_to_us(y, mo, d, h, mi, se, 0, offset, &t))
    return make_error(fmt::format("{} is not a valid date and time", quoted(s)));
  if (!in_supported_range(t)) return make_error(fmt::format("{} is outside {}", quoted(s), kSupportedRange));
  return t;
}

std::string shop_id(std::string_view merchant_name) {
  return "shop-" + sha256_hex(merchant_name).substr(0, 12);
}

std::string_view status_name(OrderStatus s) {
  switch (s) {
    case OrderStatus::kPaid:
      return "paid";
    case OrderStatus::kReceived:
      return "received";
    case OrderStatus::kSettled:
      return "settled";
    case OrderStatus::kClosed:
      return "closed";
  }
  return "?";
}

// ---- the MAP file
// -------------------------------------------------------------------------------------------

Result<ImportMap> parse_import_map(std::string_view bytes, const std::string& name) {
  Encoding e = Encoding::kUtf8;
  auto text = to_utf8(bytes, &e);
  if (!text) return make_error(fmt::format("{}: {}", name, text.message()));
  if (e != Encoding::kUtf8 && e != Encoding::kUtf8Bom)
    return make_error(fmt::format("{}: a MAP file is UTF-8 CSV", name));
  auto table = open_csv(std::move(*text), "UTF-8");
  if (!table) return make_error(fmt::format("{}: {}", name, table.message()));
  ImportMap map;
  Row row;
  bool header = false;
  for (;;) {
    auto got = (*table)->next(&row);
    if (!got) return make_error(fmt::format("{}:{}", name, got.message()));
    if (!*got) break;
    auto where = [&] { return fmt::format("{}:{}", name, row.line); };
    if (!header) {
      if (row.cells.size() != 3 || trim(row.cells[0]) != "kind" || trim(row.cells[1]) != "key" ||
          trim(row.cells[2]) != "id") {
        return make_error(fmt::format("{}: the first row must be the header kind,key,id", where()));
      }
      header = true;
      continue;
    }
    if (row.cells.size() != 3)
      return make_error(fmt::format("{}: {} cells; a row is kind,key,id", where(), row.cells.size()));
    const std::string_view kind = trim(row.cells[0]), key = trim(row.cells[1]), id = trim(row.cells[2]);
    if (key.empty()) return make_error(fmt::format("{}: the key is empty", where()));
    if (Status s = check_ident(id); !s.ok())
      return make_error(fmt::format("{}: id {}: {}", where(), quoted(id), s.message()));
    std::map<std::string, std::string, std::less<>>* target = nullptr;
    if (kind == "pid") target = &map.pid;
    if (kind == "relation") target = &map.relation;
    if (kind == "merchant") target = &map.merchant;
    if (target == nullptr)
      return make_error(
          fmt::format("{}: kind {}: expected pid, relation or merchant", where(), quoted(kind)));
    auto [it, inserted] = target->emplace(std::string(key), std::string(id));
    if (!inserted && it->second != id) {
      return make_error(
          fmt::format("{}: {} {} is mapped twice ({} and {})", where(), kind, key, it->second, id));
    }
  }
  if (!header)
    return make_error(fmt::format("{}: empty; the first row must be the header kind,key,id", name));
  return map;
}

std::unique_ptr<Report> order_report(std::unique_ptr<Table> table, const ImportMap& map,
                                     ReportOptions options) {
  return std::make_unique<OrderReport>(std::move(table), map, options);
}
std::unique_ptr<Report> refund_report(std::unique_ptr<Table> table, ReportOptions options) {
  return std::make_unique<RefundReport>(std::move(table), options);
}
std::unique_ptr<OrderLines> order_lines(std::unique_ptr<Table> table) {
  return std::make_unique<OrderLinesReader>(std::move(table));
}

}  // namespace fz::imports
