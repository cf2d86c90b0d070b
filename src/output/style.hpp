// Terminal colour, only when writing to a terminal and NO_COLOR is unset.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace capwise::output {

enum class Color { Red, Yellow, Green, Cyan, Bold, Dim };

class Style {
  public:
    explicit Style(bool enabled) : enabled_(enabled) {}
    static Style for_stream(std::FILE* stream);
    std::string paint(Color color, std::string_view text) const;
    bool enabled() const { return enabled_; }

  private:
    bool enabled_;
};

} // namespace capwise::output
