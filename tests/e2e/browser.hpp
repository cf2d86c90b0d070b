// A real browser for the report tests: Debian's Chromium, headless. The DOM after the page ran,
// and a screenshot read back as pixels (pngtopnm from netpbm) so a test can look at it.
#pragma once

#include "e2e/run.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace capwise::e2e {

// The serialized DOM (chromium --dump-dom) of a local HTML file.
RunResult browser_dom(const std::string& html_path, int width = 1280, int height = 900);

// The layout facts the report's script keeps on its root element (data-overflowing,
// data-first-denied-right, data-viewport-width, ...), read with the page laid out exactly
// `width` pixels wide: inside an iframe of that width, because headless Chromium's window is
// never narrower than 500 px. Empty when the page could not be read (the error in "error").
std::map<std::string, std::string> browser_layout(const std::string& html_path, int width);

struct Screenshot {
    int width = 0, height = 0;
    std::vector<std::uint8_t> rgb; // width * height * 3
    // Pixels within tolerance of the colour.
    std::size_t count(std::uint8_t r, std::uint8_t g, std::uint8_t b, int tolerance = 6) const;
    std::string error; // why there is none
};
Screenshot browser_screenshot(const std::string& html_path, const std::string& png_path, int width,
                              int height);

} // namespace capwise::e2e
