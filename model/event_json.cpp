#include "model/event_json.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>

#include "core/ident.hpp"
#include "core/money.hpp"
#include "core/rational.hpp"
#include "core/utf8.hpp"

namespace fz {
namespace {

namespace json = boost::json;

enum class JsonKind : std::uint8_t { kString, kNumber, kBool, kNull, kObject, kArray };

std::string_view kind_name(JsonKind k) {
  switch (k) {
    case JsonKind::kString:
      return "a string";
    case JsonKind::kNumber:
      return "a number";
    case JsonKind::kBool:
      return "a boolean";
    case JsonKind::kNull:
      return "null";
    case JsonKind::kObject:
      return "an object";
    case JsonKind::kArray:
      return "an array";
  }
  return "a value";
}

struct Member {
  std::string key;
  JsonKind kind = JsonKind::kNull;
  std::string text;                     // string contents
  bool flag = false;                    // bool value
  std::optional<std::int64_t> integer;  // a number that is a non-negative 64-bit integer
};

// SAX handler: collects the top-level members of one object and the string pairs of "meta",
// and notices repeated keys (Boost.JSON's DOM would silently keep the last one).
class LineHandler {
 public:
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  std::vector<Member> members;
  std::vector<std::pair<std::string, std::string>> meta;
  bool top_is_object = false;
  std::string problem;  // first structural problem (repeated key, non-string meta value)

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) {
    value(JsonKind::kArray);
    ++depth_;
    return true;
  }
  bool on_array_end(std::size_t, json::error_code&) {
    --depth_;
    return true;
  }
  bool on_object_begin(json::error_code&) {
    if (depth_ == 0) top_is_object = true;
    value(JsonKind::kObject);
    if (member_level() && members.back().key == "meta") in_meta_ = true;
    ++depth_;
    return true;
  }
  bool on_object_end(std::size_t, json::error_code&) {
    --depth_;
    if (depth_ == 1) in_meta_ = false;
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    buf_.append(s.data(), s.size());
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    buf_.append(s.data(), s.size());
    if (member_level()) {
      value(JsonKind::kString);
      members.back().text = std::move(buf_);
    } else if (depth_ == 2 && in_meta_) {
      meta.back().second = std::move(buf_);
    } else {
      value(JsonKind::kString);
    }
    buf_.clear();
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    key_.append(s.data(), s.size());
    if (depth_ == 1 && top_is_object) {
      if (problem.empty() &&
          std::any_of(members.begin(), members.end(), [&](const Member& m) { return m.key == key_; })) {
        problem = fmt::format("{}: appears twice", key_);
      }
      members.push_back(Member{key_, JsonKind::kNull, {}, false, std::nullopt});
    } else if (depth_ == 2 && in_meta_) {
      if (problem.empty() &&
          std::any_of(meta.begin(), meta.end(), [&](const auto& kv) { return kv.first == key_; })) {
        problem = fmt::format("meta.{}: appears twice", key_);
      }
      meta.emplace_back(key_, std::string());
    }
    key_.clear();
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t v, json::string_view, json::error_code&) {
    scalar(JsonKind::kNumber);
    if (member_level() && v >= 0) members.back().integer = v;
    return true;
  }
  bool on_uint64(std::uint64_t v, json::string_view, json::error_code&) {
    scalar(JsonKind::kNumber);
    if (member_level() && v <= static_cast<std::uint64_t>(INT64_MAX))
      members.back().integer = static_cast<std::int64_t>(v);
    return true;
  }
  bool on_double(double, json::string_view, json::error_code&) { return scalar(JsonKind::kNumber); }
  bool on_bool(bool b, json::error_code&) {
    scalar(JsonKind::kBool);
    if (member_level()) members.back().flag = b;
    return true;
  }
  bool on_null(json::error_code&) { return scalar(JsonKind::kNull); }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  // Records the kind of a value that starts at the current depth.
  // True while reading the members of a top-level object (not the elements of a top-level array).
  bool member_level() const { return depth_ == 1 && top_is_object && !members.empty(); }
  void value(JsonKind kind) {
    if (member_level()) {
      members.back().kind = kind;
    } else if (depth_ == 2 && in_meta_ && problem.empty()) {
      problem = fmt::format("meta.{}: expected a string, got {}", meta.back().first, kind_name(kind));
    }
  }
  bool scalar(JsonKind kind) {
    value(kind);
    return true;
  }

  int depth_ = 0;
  bool in_meta_ = false;
  std::string key_;
  std::string buf_;
};

struct Rejection {
  std::string reason;
};

bool is_sha256_hex(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

const Member* find(const std::vector<Member>& ms, std::string_view key) {
  for (const Member& m : ms) {
    if (m.key == key) return &m;
  }
  return nullptr;
}

std::string got(const Member& m) {
  return fmt::format("got {}", kind_name(m.kind));
}

// Validates one schema field; returns an empty string on success.
std::string check_field(const FieldSpec& spec, const Member* m, FieldValue* out) {
  const std::string_view name = spec.name;
  if (m == nullptr) return fmt::format("{}: missing", name);
  auto want_string = [&](std::string_view example) -> std::string {
    if (m->kind == JsonKind::kString) return {};
    return fmt::format("{}: expected a string such as {}, {}", name, example, got(*m));
  };
  switch (spec.kind) {
    case FieldKind::kIdent: {
      if (auto e = want_string("\"s-001\""); !e.empty()) return e;
      if (auto st = check_ident(m->text); !st.ok()) return fmt::format("{}: {}", name, st.message());
      out->s = m->text;
      return {};
    }
    case FieldKind::kParty: {
      if (auto e = want_string("\"streamer:s1\""); !e.empty()) return e;
      const auto colon = m->text.find(':');
      const std::string_view kind = std::string_view(m->text).substr(0, colon);
      if (colon == std::string::npos || (kind != "streamer" && kind != "agency") ||
          !check_ident(std::string_view(m->text).substr(colon + 1)).ok()) {
        return fmt::format("{}: \"{}\" is not a party such as \"streamer:s1\" or \"agency:a1\"", name,
                           m->text);
      }
      out->s = m->text;
      return {};
    }
    case FieldKind::kAccount: {
      if (auto e = want_string("\"@agency:a1:cps\""); !e.empty()) return e;
      const std::string& t = m->text;
      if (t.size() > kMaxAccountBytes) {
        return fmt::format("{}: account name is {} bytes; at most {}", name, t.size(), kMaxAccountBytes);
      }
      bool ok = t.size() >= 2 && t[0] == '@' && t[1] != ':' && t.back() != ':';
      for (std::size_t i = 1; ok && i < t.size(); ++i) {
        const char c = t[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
             c == '-' || c == '.' || (c == ':' && t[i - 1] != ':');
      }
      if (!ok) return fmt::format("{}: \"{}\" is not an account such as \"@agency:a1:cps\"", name, t);
      out->s = t;
      return {};
    }
    case FieldKind::kMoney: {
      if (auto e = want_string("\"199.00\""); !e.empty()) return e;
      auto v = parse_money(m->text);
      if (!v) return fmt::format("{}: {}", name, v.message());
      out->i = *v;
      return {};
    }
    case FieldKind::kPercent: {
      if (auto e = want_string("\"20%\""); !e.empty()) return e;
      auto v = parse_percent(m->text);
      if (!v) return fmt::format("{}: {}", name, v.message());
      // At most 4 decimals, so percent x 10^4 is an exact integer.
      out->i = static_cast<std::int64_t>(Int128{v->num} * kPercentScale / v->den);
      return {};
    }
    case FieldKind::kBool:
      if (m->kind != JsonKind::kBool) return fmt::format("{}: expected true or false, {}", name, got(*m));
      out->i = m->flag ? 1 : 0;
      return {};
    case FieldKind::kEnum: {
      std::string choices;
      for (auto v : spec.values) choices += fmt::format("{}{}", choices.empty() ? "" : ", ", v);
      if (auto e = want_string(fmt::format("\"{}\"", spec.values[0])); !e.empty()) return e;
      for (std::size_t i = 0; i < spec.values.size(); ++i) {
        if (spec.values[i] == m->text) {
          out->i = static_cast<std::int64_t>(i);
          out->s = m->text;
          return {};
        }
      }
      return fmt::format("{}: \"{}\" is not one of {}", name, m->text, choices);
    }
    case FieldKind::kText:
      if (auto e = want_string("\"some text\""); !e.empty()) return e;
      if (m->text.empty()) return fmt::format("{}: is empty", name);
      out->s = m->text;
      return {};
    // Only rules.published has these, and only an exported line carries one (LineResult::chain).
    case FieldKind::kInt:
      if (m->kind != JsonKind::kNumber || !m->integer) {
        return fmt::format("{}: expected a non-negative integer, {}", name, got(*m));
      }
      out->i = *m->integer;
      return {};
    case FieldKind::kTime: {
      if (auto e = want_string("\"2026-10-05T15:00:00+08:00\""); !e.empty()) return e;
      auto t = parse_rfc3339(m->text);
      if (!t) return fmt::format("{}: {}", name, t.message());
      out->i = *t;
      return {};
    }
    case FieldKind::kSha256:
      if (m->kind != JsonKind::kString || !is_sha256_hex(m->text)) {
        return fmt::format("{}: expected 64 lowercase hex digits", name);
      }
      out->s = m->text;
      return {};
  }
  return fmt::format("{}: unsupported field", name);
}

// Preconditions that need no ledger state.
std::string check_stateless(const Event& e) {
  auto positive = [&](FieldRef field) -> std::string {
    if (e.number(field) <= 0) {
      return fmt::format("{}: must be greater than 0, got \"{}\"", spec_of(e.type).fields[field.index].name,
                         format_money(e.number(field)));
    }
    return {};
  };
  switch (e.type) {
    case EventType::kOrderPaid:
      return positive(fields::order_paid::kAmount);
    case EventType::kOrderRefunded:
      return positive(fields::order_refunded::kAmount);
    case EventType::kWithdrawalRequested:
      return positive(fields::withdrawal::kAmount);
    case EventType::kVtaskCreated:
      return positive(fields::vtask_created::kPrice);
    case EventType::kAdjustment: {
      if (auto r = positive(fields::adjustment::kAmount); !r.empty()) return r;
      const std::string& from = e.text(fields::adjustment::kFrom);
      if (from == e.text(fields::adjustment::kTo))
        return fmt::format("to: must differ from from (both {})", from);
      return {};
    }
    case EventType::kPlanCreated: {
      const bool directed = e.text(fields::plan_created::kKind) == "directed";
      const bool approval = e[fields::plan_created::kApproval].present;
      if (directed && !approval) return "approval: missing (directed plans need \"auto\" or \"manual\")";
      if (!directed && approval) return "approval: must be absent for general plans";
      return {};
    }
    default:
      return {};
  }
}

std::string validate(const LineHandler& h, Event* e) {
  const Member* id = find(h.members, "id");
  if (id == nullptr) return "id: missing";
  if (id->kind != JsonKind::kString) return fmt::format("id: expected a string, {}", got(*id));
  if (auto st = check_ident(id->text); !st.ok()) return fmt::format("id: {}", st.message());
  e->id = id->text;
  if (!h.problem.empty()) return h.problem;

  const Member* type = find(h.members, "type");
  if (type == nullptr) return "type: missing";
  if (type->kind != JsonKind::kString) return fmt::format("type: expected a string, {}", got(*type));
  const auto t = event_type_from_name(type->text);
  if (!t) return fmt::format("type: unknown event type \"{}\"", type->text);
  if (*t == EventType::kRulesPublished && find(h.members, kChainHashKey) == nullptr) {
    return "type: rules.published events are written only by 'fenzhang rules publish'";
  }
  e->type = *t;

  const Member* at = find(h.members, "at");
  if (at == nullptr) return "at: missing";
  if (at->kind != JsonKind::kString) return fmt::format("at: expected a string, {}", got(*at));
  auto at_us = parse_rfc3339(at->text);
  if (!at_us) return fmt::format("at: {}", at_us.message());
  e->at_us = *at_us;

  if (const Member* meta = find(h.members, "meta"); meta != nullptr) {
    if (meta->kind != JsonKind::kObject)
      return fmt::format("meta: expected an object of strings, {}", got(*meta));
    e->meta = h.meta;
    std::sort(e->meta.begin(), e->meta.end());
  }

  const EventSpec& spec = spec_of(e->type);
  e->fields.assign(spec.fields.size(), FieldValue{});
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    const FieldSpec& fs = spec.fields[i];
    const Member* m = find(h.members, fs.name);
    if (m == nullptr && fs.optional) {
      e->fields[i].present = false;
      continue;
    }
    if (auto r = check_field(fs, m, &e->fields[i]); !r.empty()) return r;
  }
  for (const Member& m : h.members) {
    if (m.key == "id" || m.key == "type" || m.key == "at" || m.key == "meta") continue;
    if (e->type == EventType::kRulesPublished && (m.key == kChainPreviousKey || m.key == kChainHashKey)) {
      if (m.kind != JsonKind::kString || !is_sha256_hex(m.text))
        return fmt::format("{}: expected 64 lowercase hex digits", m.key);
      continue;
    }
    if (field_index(e->type, m.key) < 0) {
      return fmt::format("{}: unknown field for {}", m.key.empty() ? "\"\"" : m.key, spec.name);
    }
  }
  return check_stateless(*e);
}

// Reasons quote the offending input; a control character in it (a newline, an ESC sequence) must not
// split or restyle the one-line "FILE:LINE: ID: reason" report, so such bytes are shown escaped.
std::string escape_controls(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\u{:04x}", u);
    } else {
      out += c;
    }
  }
  return out;
}

LineResult parse_line(std::string_view line);

}  // namespace

LineResult parse_event_line(std::string_view line) {
  LineResult out = parse_line(line);
  if (!out.event) out.reason = escape_controls(out.reason);
  return out;
}

namespace {

LineResult parse_line(std::string_view line) {
  LineResult out;
  out.id = "-";
  if (line.size() > kMaxEventLineBytes) {
    out.reason =
        fmt::format("line is {} bytes; an event line has at most {}", line.size(), kMaxEventLineBytes);
    return out;
  }
  if (line.starts_with("\xef\xbb\xbf")) {
    out.reason = "not valid JSON: the line starts with a byte order mark; save the file as UTF-8 without BOM";
    return out;
  }
  // Boost.JSON rejects text that is not UTF-8 too, but points at the start of the string that holds it
  // with a bare "syntax error": name the byte.
  if (const std::size_t bad = first_invalid_utf8(line); bad != std::string_view::npos) {
    out.reason =
        fmt::format("not valid UTF-8 at byte {} (0x{:02x})", bad + 1, static_cast<unsigned char>(line[bad]));
    return out;
  }
  json::parse_options opts;
  opts.max_depth = 8;
  json::basic_parser<LineHandler> parser(opts);
  json::error_code ec;
  const std::size_t n = parser.write_some(false, line.data(), line.size(), ec);
  if (ec) {
    // A raw control character (a NUL byte, say) inside a string is the usual cause of a syntax error
    // that Boost.JSON reports at the start of the string: name it and where it is.
    const auto ctl = std::find_if(
        line.begin() + static_cast<std::ptrdiff_t>(std::min(n, line.size())), line.end(),
        [](char c) { return static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\r' && c != '\n'; });
    if (ec == json::error::syntax && ctl != line.end()) {
      out.reason = fmt::format(
          "not valid JSON: control character 0x{:02x} at byte {} (write it as \\u{:04x})",
          static_cast<unsigned char>(*ctl), ctl - line.begin() + 1, static_cast<unsigned char>(*ctl));
      return out;
    }
    out.reason = fmt::format("not valid JSON: {} at byte {}", ec.message(), n + 1);
    return out;
  }
  // The parser stops at the end of the first value; anything but whitespace after it is not one event.
  if (const std::size_t rest = line.find_first_not_of(" \t\r\n", n); rest != std::string_view::npos) {
    out.reason = fmt::format("not valid JSON: unexpected text after the object at byte {}", rest + 1);
    return out;
  }
  const LineHandler& h = parser.handler();
  if (!h.top_is_object) {
    out.reason = "not a JSON object";
    return out;
  }
  Event e;
  std::string reason = validate(h, &e);
  if (!e.id.empty()) out.id = e.id;
  if (!reason.empty()) {
    out.reason = std::move(reason);
    return out;
  }
  if (e.type == EventType::kRulesPublished) {
    const Member* previous = find(h.members, kChainPreviousKey);
    if (previous == nullptr) {
      out.reason = fmt::format("{}: missing (an exported rules.published line carries {} and {})",
                               kChainPreviousKey, kChainPreviousKey, kChainHashKey);
      return out;
    }
    out.chain = ExportedChain{previous->text, find(h.members, kChainHashKey)->text};
  }
  out.event = std::move(e);
  return out;
}

}  // namespace

std::string event_to_json(const Event& e, OffsetSec offset) {
  json::object o;
  o["id"] = e.id;
  o["type"] = spec_of(e.type).name;
  o["at"] = format_time(e.at_us, offset);
  const EventSpec& spec = spec_of(e.type);
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    const FieldSpec& fs = spec.fields[i];
    const FieldValue& v = e.fields[i];
    if (!v.present) continue;
    switch (fs.kind) {
      case FieldKind::kMoney:
        o[fs.name] = format_money(v.i);
        break;
      case FieldKind::kPercent:
        o[fs.name] = format_ratio(*make_rational(v.i, kPercentScale));
        break;
      case FieldKind::kBool:
        o[fs.name] = v.i != 0;
        break;
      case FieldKind::kInt:
        o[fs.name] = v.i;
        break;
      case FieldKind::kTime:
        o[fs.name] = format_time(v.i, offset);
        break;
      default:
        o[fs.name] = v.s;
        break;
    }
  }
  if (!e.meta.empty()) {
    json::object m;
    for (const auto& [k, v] : e.meta) m[k] = v;
    o["meta"] = std::move(m);
  }
  return json::serialize(o);
}

bool accepted_as_line(const Event& e) {
  // At most this many bytes of text: escaped as \u00XX (six bytes a byte) it still fits a line.
  constexpr std::size_t kTextBudget = kMaxEventLineBytes / 8;
  std::size_t text_bytes = e.id.size();
  if (e.type == EventType::kRulesPublished) return false;
  if (!check_ident(e.id).ok() || !in_supported_range(e.at_us)) return false;
  for (std::size_t i = 0; i < e.meta.size(); ++i) {
    const auto& [key, value] = e.meta[i];
    if (i > 0 && !(e.meta[i - 1].first < key)) return false;  // parsed meta is sorted, keys distinct
    if (first_invalid_utf8(key) != std::string_view::npos ||
        first_invalid_utf8(value) != std::string_view::npos)
      return false;
    text_bytes += key.size() + value.size();
  }
  const EventSpec& spec = spec_of(e.type);
  if (e.fields.size() != spec.fields.size()) return false;
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    const FieldSpec& fs = spec.fields[i];
    const FieldValue& v = e.fields[i];
    text_bytes += v.s.size();
    if (!v.present) {
      if (!fs.optional || v.i != 0 || !v.s.empty()) return false;
      continue;
    }
    switch (fs.kind) {
      case FieldKind::kIdent:
        if (v.i != 0 || !check_ident(v.s).ok()) return false;
        break;
      case FieldKind::kMoney:
        if (!v.s.empty()) return false;
        break;
      case FieldKind::kBool:
        if (!v.s.empty() || (v.i != 0 && v.i != 1)) return false;
        break;
      case FieldKind::kEnum:
        if (v.i < 0 || static_cast<std::size_t>(v.i) >= fs.values.size() || fs.values[v.i] != v.s)
          return false;
        break;
      case FieldKind::kText:
        if (v.i != 0 || v.s.empty() || first_invalid_utf8(v.s) != std::string_view::npos) return false;
        break;
      default:
        return false;
    }
  }
  return text_bytes <= kTextBudget && check_stateless(e).empty();
}

}  // namespace fz
