// balance_chart_svg(): the daily balance chart. Coordinates are doubles derived from fen for drawing
// only; every amount written as text is formatted from integer fen.
#include "report/chart.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

#include "core/rational.hpp"

namespace fz::report {
namespace {

// The drawing area inside the 760 x 330 viewBox.
constexpr double kWidth = 760, kHeight = 330;
constexpr double kLeft = 84, kRight = 16, kTop = 40, kBottom = 46;
constexpr double kPlotW = kWidth - kLeft - kRight, kPlotH = kHeight - kTop - kBottom;

struct Series {
  const char* name;   // "available", "pending"
  const char* label;  // legend text
  Fen (*value)(const DayBalance&);
};
constexpr Series kSeries[] = {
    {"available", "available", [](const DayBalance& d) { return d.available_fen; }},
    {"pending", "pending", [](const DayBalance& d) { return d.pending_fen(); }},
};

// The y axis: [lo, hi] in fen, a multiple of `step` at both ends, with zero inside.
struct Scale {
  Int128 lo = 0, hi = 0, step = 1;
};

Int128 floor_to(Int128 v, Int128 step) {
  const Int128 q = v / step;
  return (q * step > v ? q - 1 : q) * step;
}

Int128 ceil_to(Int128 v, Int128 step) {
  const Int128 q = v / step;
  return (q * step < v ? q + 1 : q) * step;
}

// The smallest 1, 2 or 5 times a power of ten fen that covers [lo, hi] in at most 6 steps.
Scale make_scale(const std::vector<DayBalance>& days) {
  Int128 lo = 0, hi = 0;
  for (const DayBalance& d : days) {
    for (const Series& s : kSeries) {
      lo = std::min<Int128>(lo, s.value(d));
      hi = std::max<Int128>(hi, s.value(d));
    }
  }
  if (lo == hi) hi = lo + 100;
  Scale sc;
  for (Int128 power = 1;; power *= 10) {
    for (const int m : {1, 2, 5}) {
      sc.step = power * m;
      sc.lo = floor_to(lo, sc.step);
      sc.hi = ceil_to(hi, sc.step);
      if ((sc.hi - sc.lo) / sc.step <= 6) return sc;
    }
  }
}

double x_of(int day, std::size_t days) {
  if (days <= 1) return kLeft + kPlotW / 2;
  return kLeft + kPlotW * static_cast<double>(day - 1) / static_cast<double>(days - 1);
}

double y_of(Int128 fen, const Scale& sc) {
  return kTop + kPlotH * static_cast<double>(sc.hi - fen) / static_cast<double>(sc.hi - sc.lo);
}

// A tick's label: money text of an integer fen (ticks are whole yuan from a step of 100 fen on).
std::string tick_label(Int128 fen, const Scale& sc) {
  if (fen > INT64_MAX || fen < INT64_MIN) return "";  // an end tick past 64-bit fen: no label
  const std::string text = format_money(static_cast<Fen>(fen));
  return sc.step % 100 == 0 ? text.substr(0, text.size() - 3) : text;
}

std::string y_axis(const Scale& sc) {
  std::string out = "<g class=\"y-axis\">";
  for (Int128 v = sc.lo; v <= sc.hi; v += sc.step) {
    const double y = y_of(v, sc);
    out += fmt::format(
        "<line class=\"{}\" x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\"/>"
        "<text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>",
        v == 0 ? "zero" : "grid", kLeft, y, kWidth - kRight, y, kLeft - 6, y + 3.5, tick_label(v, sc));
  }
  return out + "</g>";
}

std::string x_axis(std::size_t days, const std::string& month) {
  std::string out = "<g class=\"x-axis\">";
  const double base = kTop + kPlotH;
  for (std::size_t d = 1; d <= days; ++d) {
    const double x = x_of(static_cast<int>(d), days);
    out += fmt::format(
        "<line class=\"tick-mark\" x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\"/>"
        "<text class=\"tick\" x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"middle\">{4}</text>",
        x, base, base + 4, base + 16, d);
  }
  out += fmt::format(
      "<text class=\"axis-title\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">day of {} "
      "(balance at the end of the day)</text>",
      kLeft + kPlotW / 2, kHeight - 8, month);
  return out + "</g>";
}

std::string settlement_marker(int day, std::size_t days) {
  if (day < 1 || static_cast<std::size_t>(day) > days) return "";
  const double x = x_of(day, days);
  return fmt::format(
      "<g class=\"settlement\" data-day=\"{0}\"><line x1=\"{1:.1f}\" y1=\"{2:.1f}\" x2=\"{1:.1f}\" "
      "y2=\"{3:.1f}\"/><text x=\"{1:.1f}\" y=\"{4:.1f}\" text-anchor=\"middle\">settlement day "
      "({0})</text></g>",
      day, x, kTop - 4, kTop + kPlotH, kTop - 8);
}

std::string series_svg(const Series& s, const std::vector<DayBalance>& days, const Scale& sc,
                       const std::string& month) {
  std::string points, circles;
  for (const DayBalance& d : days) {
    const double x = x_of(d.day, days.size()), y = y_of(s.value(d), sc);
    points += fmt::format("{}{:.1f},{:.1f}", points.empty() ? "" : " ", x, y);
    circles += fmt::format(
        "<circle class=\"point\" data-series=\"{}\" data-day=\"{}\" data-fen=\"{}\" cx=\"{:.1f}\" "
        "cy=\"{:.1f}\" r=\"2.6\"><title>{}-{:02}: {} {}</title></circle>",
        s.name, d.day, s.value(d), x, y, month, d.day, s.label, format_money(s.value(d)));
  }
  return fmt::format("<g class=\"series {0}\" data-series=\"{0}\"><polyline points=\"{1}\"/>{2}</g>", s.name,
                     points, circles);
}

std::string legend() {
  std::string out = "<g class=\"legend\">";
  double x = kLeft;
  for (const Series& s : kSeries) {
    out += fmt::format(
        "<g class=\"series {0}\"><line x1=\"{1:.1f}\" y1=\"14\" x2=\"{2:.1f}\" y2=\"14\"/>"
        "<circle cx=\"{3:.1f}\" cy=\"14\" r=\"2.6\"/></g><text x=\"{4:.1f}\" y=\"18\">{5}</text>",
        s.name, x, x + 24, x + 12, x + 30, s.label);
    x += 110;
  }
  return out + "</g>";
}

}  // namespace

std::string balance_chart_svg(const std::vector<DayBalance>& days, int settlement_day,
                              const std::string& month) {
  const Scale sc = make_scale(days);
  const std::string month_text = html_escape(month);
  std::string out = fmt::format(
      "<svg class=\"chart\" viewBox=\"0 0 {} {}\" role=\"img\" "
      "aria-labelledby=\"chart-title\"><title id=\"chart-title\">Available and pending balance at the end "
      "of each day of {}</title>",
      kWidth, kHeight, month_text);
  out += y_axis(sc) + x_axis(days.size(), month_text) + settlement_marker(settlement_day, days.size());
  for (const Series& s : kSeries) out += series_svg(s, days, sc, month_text);
  return out + legend() + "</svg>";
}

}  // namespace fz::report
