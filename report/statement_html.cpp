// statement_html(): the statement page. Every figure is format_money() of integer fen, the text
// `statement --format json` prints; every text from events goes through html_escape().
#include "report/statement_html.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "report/chart.hpp"

namespace fz::report {
namespace {

constexpr const char* kStyle = R"css(
@page { size: A4; margin: 14mm 13mm 16mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; background: #fff; color: #1b1f24; font: 10pt/1.4 "DejaVu Sans", "Noto Sans", "Helvetica Neue",
  Arial, "Noto Sans CJK SC", sans-serif; }
main { max-width: 184mm; margin: 0 auto; padding: 10mm 4mm; }
h1 { font-size: 16pt; margin: 0 0 2pt; }
h2 { font-size: 11.5pt; margin: 14pt 0 5pt; padding-bottom: 2pt; border-bottom: 1.2pt solid #1b1f24; }
.sub { margin: 0; color: #4a525c; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 2.5pt 5pt; border-bottom: 0.6pt solid #c9ced6; text-align: left; vertical-align: top;
  overflow-wrap: anywhere; }
thead th { border-bottom: 1pt solid #1b1f24; font-weight: bold; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
.money { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
table.figures { width: auto; min-width: 55%; }
table.figures th { font-weight: normal; padding-right: 24pt; }
table.figures tr.closing th, table.figures tr.closing td { font-weight: bold; border-top: 1pt solid #1b1f24; }
table.lines { table-layout: fixed; font-size: 8.5pt; }
table.lines col.seq { width: 6%; } table.lines col.date { width: 12%; } table.lines col.kind { width: 12%; }
table.lines col.ref { width: 15%; } table.lines col.account { width: 20%; } table.lines col.amount { width: 13%; }
table.lines col.avail { width: 22%; }
table.lines td.nowrap { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.chart-box { break-inside: avoid; }
svg.chart { display: block; width: 100%; height: auto; font-size: 10.5px; }
svg.chart .grid { stroke: #e3e6ea; stroke-width: 1; }
svg.chart .zero { stroke: #5b636d; stroke-width: 1.2; }
svg.chart .tick-mark { stroke: #5b636d; }
svg.chart .tick { fill: #4a525c; }
svg.chart .axis-title { fill: #4a525c; font-size: 11px; }
svg.chart .series polyline, svg.chart .legend line { fill: none; stroke-width: 2; }
svg.chart .series.available polyline, svg.chart .legend .available line { stroke: #1f63b5; }
svg.chart .series.available circle, svg.chart .legend .available circle { fill: #1f63b5; }
svg.chart .series.pending polyline, svg.chart .legend .pending line { stroke: #d9731a; stroke-dasharray: 5 3; }
svg.chart .series.pending circle, svg.chart .legend .pending circle { fill: #d9731a; }
svg.chart .legend text { fill: #1b1f24; font-size: 11.5px; }
svg.chart .settlement line { stroke: #2b8a3e; stroke-width: 1.5; stroke-dasharray: 2 2; }
svg.chart .settlement text { fill: #2b8a3e; font-weight: bold; }
.note { color: #4a525c; font-size: 8.5pt; margin: 4pt 0 0; }
footer { margin-top: 14pt; color: #4a525c; font-size: 8pt; }
@media print { main { max-width: none; padding: 0; } }
)css";

const char* kind_label(const std::string& kind) {
  if (kind == "commission") return "Commission";
  if (kind == "clawback") return "Claw-backs";
  if (kind == "vtask") return "V-task income";
  if (kind == "fee") return "Platform fees";
  if (kind == "withdrawal") return "Withdrawals paid out";
  if (kind == "adjustment") return "Adjustments";
  return "Other";
}

std::string figure_row(const std::string& label, const std::string& figure, Fen amount_fen,
                       const char* row_class = "") {
  return fmt::format("<tr class=\"{}\"><th>{}</th><td class=\"money\" data-figure=\"{}\">{}</td></tr>\n",
                     row_class, label, figure, format_money(amount_fen));
}

std::string summary(const engine::Statement& st) {
  std::string out = "<section class=\"summary\"><h2>Summary</h2><table class=\"figures\">\n";
  out += figure_row("Opening balance", "opening", st.opening_fen);
  for (const auto& [kind, total_fen] : st.totals) {
    out += figure_row(kind_label(kind), "totals." + html_escape(kind), total_fen);
  }
  out += figure_row("Closing balance", "closing", st.closing_fen, "closing");
  const std::string day = format_time(st.settlement_day, st.timezone);
  out += fmt::format(
      "<tr><th>Available on the settlement day <time data-figure=\"settlement_day\" datetime=\"{}\">{}</time>"
      "</th><td class=\"money\" data-figure=\"available_on_settlement_day\">{}</td></tr>\n",
      html_escape(day), html_escape(day.substr(0, 10)), format_money(st.available_on_settlement_day_fen));
  return out + "</table></section>\n";
}

std::string chart(const engine::Statement& st, const std::vector<DayBalance>& days) {
  return fmt::format(
      "<section class=\"chart-box\"><h2>Daily balance</h2>{}\n<p class=\"note\">One point per day: the "
      "balance of all of the party's accounts at the end of the day (23:59:59, UTC{}). Available: postings "
      "available by then; pending: the rest, available later (negative for a claw-back not yet due). "
      "Payouts happen on day {} of each month (the rules' settlement_day).</p></section>\n",
      balance_chart_svg(days, st.settlement_day_of_month, st.month), format_offset(st.timezone),
      st.settlement_day_of_month);
}

// A time as "2026-12-20 00:00:00" (the page names the offset once), the RFC 3339 text in `datetime`.
std::string time_cell(TimeUs at_us, OffsetSec tz, std::size_t chars) {
  std::string text = format_time(at_us, tz);
  std::string shown = text.substr(0, std::min(chars, text.size() - 6));
  if (shown.size() > 10) shown[10] = ' ';
  return fmt::format("<time datetime=\"{}\">{}</time>", html_escape(text), html_escape(shown));
}

std::string line_row(const engine::StatementLine& l, OffsetSec tz) {
  return fmt::format(
      "<tr data-line=\"{}\"><td class=\"money\">{}</td><td class=\"nowrap\" title=\"event {}\">{}</td><td "
      "class=\"nowrap\">{}</td><td>{}</td><td>{}</td><td class=\"money\" data-field=\"amount\">{}</td><td>{}"
      "</td></tr>\n",
      l.seq, l.seq, html_escape(l.event_id), time_cell(l.event_at, tz, 10), html_escape(l.kind),
      html_escape(l.ref), html_escape(l.account), format_money(l.amount_fen),
      time_cell(l.available_at, tz, 26));
}

std::string lines(const engine::Statement& st) {
  std::string out =
      "<section class=\"postings\"><h2>Postings of the month</h2><table class=\"lines\"><colgroup><col "
      "class=\"seq\"><col class=\"date\"><col class=\"kind\"><col class=\"ref\"><col class=\"account\"><col "
      "class=\"amount\"><col class=\"avail\"></colgroup>\n<thead><tr><th "
      "class=\"money\">seq</th><th>date</th>"
      "<th>kind</th><th>ref</th><th>account</th><th class=\"money\">amount</th><th>available from</th></tr>"
      "</thead><tbody>\n";
  for (const engine::StatementLine& l : st.lines) out += line_row(l, st.timezone);
  if (st.lines.empty()) out += "<tr><td colspan=\"7\">No postings in this month.</td></tr>\n";
  return out + "</tbody></table></section>\n";
}

std::string head(const engine::Statement& st) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
      "'unsafe-inline'\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>Statement {} {}</title>\n<style>{}</style></head>\n",
      html_escape(st.party), html_escape(st.month), kStyle);
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string statement_html(const engine::Statement& st, const std::vector<DayBalance>& days) {
  std::string out = head(st);
  out += fmt::format(
      "<body><main class=\"statement\" data-party=\"{0}\" data-month=\"{1}\">\n<header><h1>Statement "
      "<span data-figure=\"party\">{0}</span></h1><p class=\"sub\">Month <span data-figure=\"month\">{1}"
      "</span> · times in UTC{2}</p></header>\n",
      html_escape(st.party), html_escape(st.month), format_offset(st.timezone));
  out += summary(st) + chart(st, days) + lines(st);
  out +=
      "<footer>Produced by fenzhang from the ledger's events; amounts in CNY. The figures equal "
      "<code>fenzhang statement PARTY --month M --format json</code>.</footer>\n</main></body></html>\n";
  return out;
}

}  // namespace fz::report
