#include "output/style.hpp"

#include <cstdlib>
#include <string_view>
#include <unistd.h>

namespace capwise::output {

Style Style::for_stream(std::FILE* stream) {
    const char* no_color = std::getenv("NO_COLOR");
    const char* term = std::getenv("TERM");
    const bool tty = ::isatty(::fileno(stream)) == 1;
    // TERM=dumb (Emacs shells, some CI logs) and an unset TERM cannot show escape sequences.
    const bool capable = term != nullptr && *term != '\0' && std::string_view(term) != "dumb";
    return Style(tty && capable && (no_color == nullptr || *no_color == '\0'));
}

std::string Style::paint(Color color, std::string_view text) const {
    if (!enabled_) {
        return std::string(text);
    }
    const char* code = "";
    switch (color) {
    case Color::Red:
        code = "\x1b[31m";
        break;
    case Color::Yellow:
        code = "\x1b[33m";
        break;
    case Color::Green:
        code = "\x1b[32m";
        break;
    case Color::Cyan:
        code = "\x1b[36m";
        break;
    case Color::Bold:
        code = "\x1b[1m";
        break;
    case Color::Dim:
        code = "\x1b[2m";
        break;
    }
    return std::string(code) + std::string(text) + "\x1b[0m";
}

} // namespace capwise::output
