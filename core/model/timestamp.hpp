#pragma once
// ISO 8601 timestamps as the REST API shows them: UTC with a trailing "Z", fractional seconds
// only when not zero ("2024-05-01T12:00:00Z", "2024-05-01T12:00:00.250000Z"). Parsing accepts
// any ISO 8601 date-time with "Z" or an offset; a naive one is taken as UTC (JupyterHub's rule).
#include "core/store/records.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace hubd::core::model {

using time_point = store::time_point;
using opt_time = store::opt_time;

time_point now();
std::string format_iso8601(time_point t);
// nullopt when `text` is not an ISO 8601 date-time.
std::optional<time_point> parse_iso8601(std::string_view text);

}  // namespace hubd::core::model
