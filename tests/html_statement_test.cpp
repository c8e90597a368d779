// `fenzhang statement PARTY --month M --html FILE` (SPEC section 10) checked in a real headless browser:
// Debian's chromium renders the page the binary wrote for the sample ledger (rules/taobao-live.rules and
// examples/taobao-live-sample.jsonl) to a DOM and to a PNG. The DOM's figures must equal `statement
// --format json`, the chart must hold one point per day of the month per series and the settlement-day
// marker at the rules' day, the PNG must show the chart, and chromium's network log must show no request
// from the page (a page that does load an external URL is detected: the negative control). Hostile ids
// must come out as text. Every case is skipped, with a message, when /usr/bin/chromium is missing.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/money.hpp"
#include "core/time.hpp"
#include "engine/reader.hpp"
#include "engine/statement.hpp"
#include "tests/test_util.hpp"

namespace json = boost::json;
using fz::test::TempDir;

namespace {

constexpr const char* kChromium = "/usr/bin/chromium";
constexpr const char* kParty = "streamer:s1";
constexpr const char* kMonth = "2026-11";  // opening CPS pending, V-task, settlement, withdrawal, claw-back
constexpr int kDaysInMonth = 30;
constexpr int kSettlementDay = 20;  // rules/taobao-live.rules: set settlement_day = 20

bool have_chromium() {
  return ::access(kChromium, X_OK) == 0;
}

#define SKIP_WITHOUT_CHROMIUM()                                                            \
  do {                                                                                     \
    if (!have_chromium()) {                                                                \
      MESSAGE("skipped: " << kChromium << " is not installed (apt-get install chromium)"); \
      return;                                                                              \
    }                                                                                      \
  } while (false)

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Output {
  int exit_code = -1;
  std::string out, err;
};

// Runs `command` through the shell: stdout captured, stderr into `err_path`.
Output run_shell(const std::string& command, const std::string& err_path) {
  Output r;
  FILE* p = ::popen((command + " 2>" + quote(err_path)).c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  for (std::size_t n = 0; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = slurp(err_path);
  return r;
}

// The sample ledger, built with the binary as an operator would.
struct Sample {
  TempDir dir;
  std::string db = dir / "db";
  Sample() {
    const std::string src = fz::test::source_dir();
    auto published = fz("rules publish " + quote(src + "/rules/taobao-live.rules"));
    REQUIRE_MESSAGE(published.exit_code == 0, published.out << published.err);
    auto appended = fz("append " + quote(src + "/examples/taobao-live-sample.jsonl"));
    REQUIRE_MESSAGE(appended.exit_code == 0, appended.out << appended.err);
  }
  Output fz(const std::string& args) const {
    return run_shell(fmt::format("{} --db {} {}", quote(fz::test::bin()), quote(db), args), dir / "fz.err");
  }
  json::object json_of(const std::string& args) const {
    Output r = fz("--format json " + args);
    REQUIRE_MESSAGE(r.exit_code == 0, args << ": " << r.out << r.err);
    return json::parse(r.out).as_object();
  }
  // Writes the page and returns its path.
  std::string html(const std::string& party, const std::string& month) const {
    const std::string path = dir / "statement.html";
    Output r = fz(fmt::format("statement {} --month {} --html {}", quote(party), month, quote(path)));
    REQUIRE_MESSAGE(r.exit_code == 0, r.out << r.err);
    CHECK(r.out.empty());
    return path;
  }
};

// ---- chromium -------------------------------------------------------------------------------------

// Runs headless chromium on a local page with a private profile; `args` are the mode's options.
Output chromium(const TempDir& dir, const std::string& tag, const std::string& page,
                const std::string& args) {
  const std::string cmd = fmt::format(
      "timeout 60 {} --headless --no-sandbox --disable-gpu --user-data-dir={} --no-first-run "
      "--no-default-browser-check --disable-background-networking --disable-component-update "
      "--disable-sync --disable-extensions --hide-scrollbars {} {}",
      kChromium, quote(dir / ("profile-" + tag)), args, quote("file://" + page));
  Output r = run_shell(cmd, dir / ("chromium-" + tag + ".err"));
  REQUIRE_MESSAGE(r.exit_code == 0, "chromium failed: " << r.err);
  return r;
}

// The DOM chromium built from the page, and the URLs the page itself requested over the network.
struct Rendered {
  std::string dom;
  std::vector<std::string> page_requests;
};

// URLs of the requests chromium's network log attributes to the page: URL_REQUEST_START_JOB events whose
// network isolation key is the file:// site. chromium's own background requests (updates, time) have
// another key and are not the page's doing.
std::vector<std::string> page_requests(const std::string& netlog_path) {
  const json::value log = json::parse(slurp(netlog_path));
  const json::value* type = log.as_object()
                                .at("constants")
                                .as_object()
                                .at("logEventTypes")
                                .as_object()
                                .if_contains("URL_REQUEST_START_JOB");
  REQUIRE(type != nullptr);
  std::vector<std::string> urls;
  for (const json::value& e : log.as_object().at("events").as_array()) {
    const json::object& o = e.as_object();
    if (o.at("type") != *type || !o.contains("params")) continue;
    const json::object& params = o.at("params").as_object();
    const json::value* key = params.if_contains("network_isolation_key");
    if (key == nullptr || !key->is_string() || !key->as_string().starts_with("file://")) continue;
    urls.emplace_back(params.at("url").as_string());
  }
  return urls;
}

Rendered render_dom(const TempDir& dir, const std::string& tag, const std::string& page) {
  const std::string netlog = dir / ("netlog-" + tag + ".json");
  Rendered r;
  r.dom = chromium(dir, tag, page, "--log-net-log=" + quote(netlog) + " --dump-dom").out;
  REQUIRE(r.dom.find("</html>") != std::string::npos);
  r.page_requests = page_requests(netlog);
  return r;
}

// ---- reading the DOM ------------------------------------------------------------------------------

// The text of the element carrying data-figure="NAME" (up to its first child tag).
std::string figure(const std::string& dom, const std::string& name) {
  const std::string attr = "data-figure=\"" + name + "\"";
  const std::size_t at = dom.find(attr);
  REQUIRE_MESSAGE(at != std::string::npos, "no " << attr);
  CHECK_MESSAGE(dom.find(attr, at + 1) == std::string::npos, "two " << attr);
  const std::size_t start = dom.find('>', at) + 1;
  return dom.substr(start, dom.find('<', start) - start);
}

// The value of attribute `name` in the tag that contains position `at`. (No std::regex here: GCC 12's
// <regex> trips -Wmaybe-uninitialized in the ASan build.)
std::string attribute_at(const std::string& dom, std::size_t at, const std::string& name) {
  const std::size_t tag_start = dom.rfind('<', at);
  const std::string tag = dom.substr(tag_start, dom.find('>', at) - tag_start);
  const std::string key = " " + name + "=\"";
  const std::size_t found = tag.find(key);
  REQUIRE_MESSAGE(found != std::string::npos, "no " << name << " in " << tag);
  const std::size_t start = found + key.size();
  return tag.substr(start, tag.find('"', start) - start);
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

struct Point {
  std::string series;
  int day = 0;
  fz::Fen fen = 0;
  double cx = 0;
};

std::vector<Point> chart_points(const std::string& dom) {
  std::vector<Point> points;
  const std::string circle = "<circle class=\"point\"";
  for (std::size_t at = dom.find(circle); at != std::string::npos; at = dom.find(circle, at + 1)) {
    points.push_back({attribute_at(dom, at, "data-series"), std::stoi(attribute_at(dom, at, "data-day")),
                      std::stoll(attribute_at(dom, at, "data-fen")), std::stod(attribute_at(dom, at, "cx"))});
  }
  return points;
}

fz::Fen fen_of(const json::value& money) {
  auto v = fz::parse_money(std::string(money.as_string()));
  REQUIRE(v.ok());
  return *v;
}

// ---- PNG ------------------------------------------------------------------------------------------

struct Image {
  std::uint32_t width = 0, height = 0;
  std::vector<std::uint8_t> rgb;  // width * height * 3
};

std::uint32_t be32(const std::string& s, std::size_t at) {
  return (std::uint32_t{static_cast<std::uint8_t>(s[at])} << 24) |
         (std::uint32_t{static_cast<std::uint8_t>(s[at + 1])} << 16) |
         (std::uint32_t{static_cast<std::uint8_t>(s[at + 2])} << 8) | static_cast<std::uint8_t>(s[at + 3]);
}

int paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return pa <= pb && pa <= pc ? a : (pb <= pc ? b : c);
}

// Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what chromium writes); fails the test otherwise.
Image decode_png(const std::string& png) {
  REQUIRE(png.size() > 33);
  REQUIRE(png.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
  REQUIRE(png.compare(12, 4, "IHDR") == 0);
  Image img{be32(png, 16), be32(png, 20), {}};
  const int depth = png[24], color = png[25], interlace = png[28];
  REQUIRE((depth == 8 && (color == 2 || color == 6) && interlace == 0));
  const std::size_t channels = color == 6 ? 4 : 3;
  std::string idat;
  for (std::size_t at = 8; at + 8 <= png.size();) {
    const std::uint32_t len = be32(png, at);
    if (png.compare(at + 4, 4, "IDAT") == 0) idat += png.substr(at + 8, len);
    at += 12 + len;
  }
  const std::size_t stride = img.width * channels;
  std::vector<std::uint8_t> raw((stride + 1) * img.height);
  uLongf raw_size = raw.size();
  REQUIRE(::uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) ==
          Z_OK);
  REQUIRE(raw_size == raw.size());
  std::vector<std::uint8_t> prev(stride, 0), row(stride);
  for (std::uint32_t y = 0; y < img.height; ++y) {
    const std::uint8_t filter = raw[y * (stride + 1)];
    for (std::size_t x = 0; x < stride; ++x) {
      const int a = x >= channels ? row[x - channels] : 0, b = prev[x],
                c = x >= channels ? prev[x - channels] : 0;
      const int v = raw[y * (stride + 1) + 1 + x];
      const int pred = filter == 0   ? 0
                       : filter == 1 ? a
                       : filter == 2 ? b
                       : filter == 3 ? (a + b) / 2
                                     : paeth(a, b, c);
      row[x] = static_cast<std::uint8_t>(v + pred);
    }
    for (std::size_t x = 0; x < img.width; ++x)
      for (std::size_t k = 0; k < 3; ++k) img.rgb.push_back(row[x * channels + k]);
    prev = row;
  }
  return img;
}

std::size_t pixels_of(const Image& img, std::uint32_t rgb) {
  std::size_t n = 0;
  for (std::size_t i = 0; i + 2 < img.rgb.size(); i += 3) {
    n += ((std::uint32_t{img.rgb[i]} << 16) | (std::uint32_t{img.rgb[i + 1]} << 8) | img.rgb[i + 2]) == rgb;
  }
  return n;
}

// The chart: one point per day per series, equal to `balance '@streamer:s1:*' --at` the day's end,
// and one settlement-day marker at the rules' day, drawn where that day's points are.
void check_chart(const Sample& s, const json::object& st, const std::string& dom) {
  REQUIRE(count(dom, "<svg class=\"chart\"") == 1);
  const std::vector<Point> points = chart_points(dom);
  std::map<std::string, std::map<int, Point>> by_series;
  for (const Point& p : points) {
    CHECK_MESSAGE(by_series[p.series].emplace(p.day, p).second, p.series << " day " << p.day << " twice");
  }
  CHECK(points.size() == 2 * kDaysInMonth);
  REQUIRE(by_series.size() == 2);
  for (const auto& [series, days] : by_series) {
    INFO(series);
    CHECK(days.size() == kDaysInMonth);
    CHECK(days.begin()->first == 1);
    CHECK(days.rbegin()->first == kDaysInMonth);
  }
  // A point is what `balance '@streamer:s1:*' --at` the day's end sums to.
  const fz::OffsetSec tz = fz::kDefaultOffsetSec;
  // The days around each change of the sample month and both ends (a binary run per day costs time).
  for (const int day : {1, 10, 11, 19, 20, 21, 24, 25, kDaysInMonth}) {
    fz::TimeUs end_us = 0;
    REQUIRE(fz::civil_to_us(2026, 11, day, 23, 59, 59, 999'999, tz, &end_us));
    const json::object b =
        s.json_of(fmt::format("balance {} --at {}", quote("@streamer:s1:*"), fz::format_time(end_us, tz)));
    fz::Fen total_fen = 0, available_fen = 0;
    for (const json::value& a : b.at("accounts").as_array()) {
      total_fen += fen_of(a.at("total"));
      available_fen += fen_of(a.at("available"));
    }
    INFO("day " << day);
    CHECK(by_series["available"][day].fen == available_fen);
    CHECK(by_series["pending"][day].fen == total_fen - available_fen);
  }
  CHECK(by_series["available"][kDaysInMonth].fen + by_series["pending"][kDaysInMonth].fen ==
        fen_of(st.at("closing")));
  // The marker: one, at the rules' settlement day, drawn where that day's points are.
  REQUIRE(count(dom, "<g class=\"settlement\"") == 1);
  const std::size_t marker = dom.find("<g class=\"settlement\"");
  CHECK(attribute_at(dom, marker, "data-day") == std::to_string(kSettlementDay));
  const std::size_t line = dom.find("<line", marker);
  CHECK(std::stod(attribute_at(dom, line, "x1")) ==
        doctest::Approx(by_series["available"][kSettlementDay].cx));
  // The day's balances around the settlement day show the October commission becoming available.
  CHECK(by_series["available"][kSettlementDay].fen > by_series["available"][kSettlementDay - 1].fen);
}

}  // namespace

// One render serves three checks (chromium is the slow part): the figures equal `statement --format json`,
// the chart, and no request from the page in the network log.
TEST_CASE("statement --html: the figures and the chart in the browser's DOM and no network request") {
  SKIP_WITHOUT_CHROMIUM();
  Sample s;
  const json::object st = s.json_of(fmt::format("statement {} --month {}", kParty, kMonth));
  const Rendered r = render_dom(s.dir, "figures", s.html(kParty, kMonth));
  CHECK(figure(r.dom, "party") == kParty);
  CHECK(figure(r.dom, "month") == kMonth);
  for (const char* name : {"opening", "closing", "available_on_settlement_day"}) {
    INFO(name);
    CHECK(figure(r.dom, name) == st.at(name).as_string());
  }
  REQUIRE(st.at("totals").as_object().size() == 7);
  for (const auto& total : st.at("totals").as_object()) {
    INFO(total.key());
    CHECK(figure(r.dom, "totals." + std::string(total.key())) == total.value().as_string());
  }
  CHECK(attribute_at(r.dom, r.dom.find("data-figure=\"settlement_day\""), "datetime") ==
        st.at("settlement_day").as_string());
  // The postings, in order: seq and amount.
  const json::array& lines = st.at("lines").as_array();
  REQUIRE(lines.size() >= 4);
  CHECK(count(r.dom, "<tr data-line=") == lines.size());
  std::size_t at = 0;
  for (const json::value& line : lines) {
    at = r.dom.find("<tr data-line=", at + 1);
    REQUIRE(at != std::string::npos);
    CHECK(attribute_at(r.dom, at, "data-line") == std::to_string(line.at("seq").to_number<std::uint64_t>()));
    const std::size_t amount = r.dom.find("data-field=\"amount\">", at);
    const std::size_t start = r.dom.find('>', amount) + 1;
    CHECK(r.dom.substr(start, r.dom.find('<', start) - start) == line.at("amount").as_string());
  }
  CHECK_MESSAGE(r.page_requests.empty(), "the page requested " << r.page_requests.front());
  check_chart(s, st, r.dom);
}

TEST_CASE("statement --html: the screenshot is a real picture of the page with its chart") {
  SKIP_WITHOUT_CHROMIUM();
  Sample s;
  const std::string png_path = s.dir / "statement.png";
  chromium(s.dir, "png", s.html(kParty, kMonth), "--window-size=900,1300 --screenshot=" + quote(png_path));
  const std::string png = slurp(png_path);
  CHECK(png.size() > 20'000);
  const Image img = decode_png(png);
  CHECK(img.width == 900);
  CHECK(img.height == 1300);
  const std::size_t total = std::size_t{img.width} * img.height;
  CHECK(pixels_of(img, 0xffffff) < total * 97 / 100);  // not a blank page
  CHECK(pixels_of(img, 0x1f63b5) > 50);                // the available series' colour
  CHECK(pixels_of(img, 0xd9731a) > 50);                // the pending series' colour
  CHECK(pixels_of(img, 0x2b8a3e) > 20);                // the settlement-day marker's colour
}

TEST_CASE("statement --html: the page names nothing to load and the network check detects a page that does") {
  SKIP_WITHOUT_CHROMIUM();
  Sample s;
  const std::string page = s.html(kParty, kMonth);
  const std::string text = slurp(page);
  for (const char* needle : {"http:", "https:", "//", "src=", "href=", "url(", "@import", "<script"}) {
    CHECK_MESSAGE(text.find(needle) == std::string::npos, "the page holds " << needle);
  }
  // The rendered page requests nothing: the first test case. Negative control: the same check sees an
  // external image and style sheet.
  const std::string bad = s.dir / "external.html";
  write(bad,
        "<!DOCTYPE html><html><head><link rel=\"stylesheet\" href=\"https://example.invalid/a.css\"></head>"
        "<body><img src=\"http://127.0.0.1:9/chart.png\"></body></html>");
  const std::vector<std::string> requests = render_dom(s.dir, "external", bad).page_requests;
  const std::set<std::string> seen(requests.begin(), requests.end());
  CHECK(seen.count("https://example.invalid/a.css") == 1);
  CHECK(seen.count("http://127.0.0.1:9/chart.png") == 1);
}

TEST_CASE("statement --html: hostile ids are text in the DOM and never elements") {
  SKIP_WITHOUT_CHROMIUM();
  Sample s;
  const std::string events = s.dir / "hostile.jsonl";
  write(
      events,
      "{\"id\":\"<script>alert(1)</script>\",\"type\":\"adjustment\",\"at\":\"2026-11-27T10:00:00+08:00\","
      "\"from\":\"@agency:a1:vtask\",\"to\":\"@streamer:s1:vtask\",\"amount\":\"1.00\",\"reason\":\"<b>x</"
      "b>\","
      "\"meta\":{\"note\":\"<script>alert(2)</script>\"}}\n"
      "{\"id\":\"\\\"><img/src=x/"
      "onerror=alert(1)>\",\"type\":\"adjustment\",\"at\":\"2026-11-28T10:00:00+08:00\","
      "\"from\":\"@agency:a1:vtask\",\"to\":\"@streamer:s1:vtask\",\"amount\":\"2.00\",\"reason\":\"r\"}\n");
  const Output appended = s.fz("append " + quote(events));
  REQUIRE_MESSAGE(appended.exit_code == 0, appended.out << appended.err);
  const std::string dom = render_dom(s.dir, "hostile", s.html(kParty, kMonth)).dom;
  CHECK(count(dom, "<script") == 0);
  CHECK(count(dom, "<img") == 0);
  CHECK(count(dom, "&lt;script&gt;alert(1)&lt;/script&gt;") >= 1);     // the ref cell, as text
  CHECK(count(dom, "\"&gt;&lt;img/src=x/onerror=alert(1)&gt;") >= 1);  // likewise
  // A hostile party id (a valid identifier) in the title and header is escaped too.
  const std::string page = slurp(s.html("streamer:<i>x</i>", kMonth));
  CHECK(count(page, "<i>") == 0);
  CHECK(figure(page, "party") == "streamer:&lt;i&gt;x&lt;/i&gt;");
}

TEST_CASE("statement: a glob party is a usage error and the engine reads a party id literally") {
  Sample s;
  for (const char* party : {"streamer:s*", "streamer:s?", "agency:[a]1"}) {
    INFO(party);
    const Output r = s.fz(fmt::format("statement {} --month {}", quote(party), kMonth));
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("is a glob; a statement is for one party") != std::string::npos);
    const Output h =
        s.fz(fmt::format("statement {} --month {} --html {}", quote(party), kMonth, quote(s.dir / "g.html")));
    CHECK(h.exit_code == 2);
    CHECK(!std::filesystem::exists(s.dir / "g.html"));
  }
  auto ledger = fz::engine::open_for_queries(s.db);
  REQUIRE(ledger.ok());
  auto glob = fz::engine::statement(**ledger, "streamer:s*", "2026-10");
  REQUIRE(glob.ok());
  CHECK(glob->lines.empty());  // no party is called "s*": s1's and s3's postings are not merged
  auto one = fz::engine::statement(**ledger, "streamer:s1", "2026-10");
  REQUIRE(one.ok());
  CHECK(!one->lines.empty());
}
