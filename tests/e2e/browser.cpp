#include "e2e/browser.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
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

std::map<std::string, std::string> browser_layout(const std::string& html_path, int width) {
    const std::filesystem::path page(html_path);
    const auto wrapper = page.parent_path() / ("layout-" + std::to_string(width) + ".html");
    std::ofstream(wrapper) << "<!DOCTYPE html><html><body style=\"margin:0\"><iframe id=\"f\" "
                              "style=\"border:0\" width=\""
                           << width << "\" height=\"900\" src=\"" << page.filename().string()
                           << "\"></iframe><script>document.getElementById('f')."
                              "addEventListener('load',function(){var d=this.contentDocument."
                              "documentElement,o=document.createElement('pre');o.id='facts';"
                              "for(var i=0;i<d.attributes.length;i++){o.textContent+=d."
                              "attributes[i].name+'='+d.attributes[i].value+'\\n';}document."
                              "body.appendChild(o);});</script></body></html>";
    auto dom = run(chromium({"--allow-file-access-from-files", "--window-size=1000,1000",
                             "--dump-dom", "file://" + wrapper.string()}),
                   90);
    std::map<std::string, std::string> facts;
    const auto start = dom.out.find("<pre id=\"facts\">");
    if (dom.status != 0 || start == std::string::npos) {
        facts["error"] = "chromium: " + dom.err;
        return facts;
    }
    std::istringstream lines(
        dom.out.substr(start + 16, dom.out.find("</pre>", start) - start - 16));
    for (std::string line; std::getline(lines, line);) {
        const auto eq = line.find('=');
        if (eq != std::string::npos) {
            facts[line.substr(0, eq)] = line.substr(eq + 1);
        }
    }
    return facts;
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
