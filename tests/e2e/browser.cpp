#include "e2e/browser.hpp"

#include <cstdlib>
#include <sstream>

namespace capwise::e2e {
namespace {

// No sandbox (the tests run as root), no GPU, no first-run noise; bounded like every run.
std::vector<std::string> chromium(std::vector<std::string> args) {
    std::vector<std::string> argv{
        "chromium",       "--headless",        "--no-sandbox",           "--disable-gpu",
        "--no-first-run", "--hide-scrollbars", "--disable-dev-shm-usage"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

} // namespace

RunResult browser_dom(const std::string& html_path, int width, int height) {
    return run(chromium({"--window-size=" + std::to_string(width) + "," + std::to_string(height),
                         "--dump-dom", "file://" + html_path}),
               90);
}

std::size_t Screenshot::count(std::uint8_t r, std::uint8_t g, std::uint8_t b, int tolerance) const {
    std::size_t n = 0;
    for (std::size_t i = 0; i + 2 < rgb.size(); i += 3) {
        if (std::abs(rgb[i] - r) <= tolerance && std::abs(rgb[i + 1] - g) <= tolerance &&
            std::abs(rgb[i + 2] - b) <= tolerance) {
            ++n;
        }
    }
    return n;
}

Screenshot browser_screenshot(const std::string& html_path, const std::string& png_path, int width,
                              int height) {
    Screenshot shot;
    auto taken =
        run(chromium({"--screenshot=" + png_path,
                      "--window-size=" + std::to_string(width) + "," + std::to_string(height),
                      "file://" + html_path}),
            90);
    if (taken.status != 0) {
        shot.error = "chromium: " + taken.err;
        return shot;
    }
    auto ppm = run({"pngtopnm", png_path});
    if (ppm.status != 0) {
        shot.error = "pngtopnm: " + ppm.err;
        return shot;
    }
    // P6 <width> <height> <maxval>\n<binary RGB>
    std::istringstream in(ppm.out);
    std::string magic;
    int maxval = 0;
    in >> magic >> shot.width >> shot.height >> maxval;
    in.get();
    if (magic != "P6" || maxval != 255 || shot.width <= 0 || shot.height <= 0) {
        shot.error = "not a P6 image";
        return shot;
    }
    const auto offset = static_cast<std::size_t>(in.tellg());
    shot.rgb.assign(ppm.out.begin() + static_cast<long>(offset), ppm.out.end());
    if (shot.rgb.size() != static_cast<std::size_t>(shot.width) * shot.height * 3) {
        shot.error = "short image";
    }
    return shot;
}

} // namespace capwise::e2e
