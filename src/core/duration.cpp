#include "core/duration.hpp"

#include "core/text.hpp"

#include <cmath>
#include <fmt/format.h>

namespace capwise::core {

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
    const std::string shown = printable(text);
    auto invalid = [&] {
        return make_error(fmt::format("invalid duration '{}': want seconds (30, 2.5) or a number "
                                      "with ms, s, m or h (500ms, 10s, 5m, 1h)",
                                      shown));
    };
    // Digits with at most one point, then an optional unit: nothing from_chars would also take
    // ("1e10", "inf", "nan", "-1", "+2", "0x10").
    std::size_t i = 0;
    bool point = false;
    bool digits = false;
    for (; i < text.size(); ++i) {
        const char c = text[i];
        if (c >= '0' && c <= '9') {
            digits = true;
        } else if (c == '.' && !point) {
            point = true;
        } else {
            break;
        }
    }
    if (!digits || i > 20) {
        return invalid();
    }
    const std::string_view unit = text.substr(i);
    double scale_ms = 0;
    if (unit.empty() || unit == "s") {
        scale_ms = 1000;
    } else if (unit == "ms") {
        scale_ms = 1;
    } else if (unit == "m") {
        scale_ms = 60'000;
    } else if (unit == "h") {
        scale_ms = 3'600'000;
    } else {
        return invalid();
    }
    const double value = std::stod(std::string(text.substr(0, i))) * scale_ms;
    if (!std::isfinite(value) || value < 1) {
        return make_error(fmt::format("duration '{}' is shorter than a millisecond", shown));
    }
    if (value > static_cast<double>(kMaxDuration.count())) {
        return make_error(fmt::format("duration '{}' is longer than a week", shown));
    }
    return std::chrono::milliseconds(static_cast<long long>(std::llround(value)));
}

} // namespace capwise::core
