// The statement page's chart: one inline SVG of the daily available and pending balance (internal to
// fz_report).
#pragma once

#include <string>
#include <vector>

#include "report/statement_html.hpp"

namespace fz::report {

// An <svg> with, per series ("available", "pending"), a polyline and one <circle> per day carrying
// data-series, data-day and data-fen; a marker (class "settlement", data-day) at `settlement_day`;
// y-axis ticks at round amounts, labelled from integer fen. `month` ("2026-11") labels the x axis.
std::string balance_chart_svg(const std::vector<DayBalance>& days, int settlement_day,
                              const std::string& month);

}  // namespace fz::report
