// Plain-text tables for terminals: left-aligned columns, two spaces apart, the last column
// unpadded so long values (paths, capability lists) do not drag trailing blanks.
#pragma once

#include <string>
#include <vector>

namespace capwise::output {

class Table {
  public:
    explicit Table(std::vector<std::string> headers);
    void add_row(std::vector<std::string> cells);
    std::size_t rows() const { return rows_.size(); }
    std::string render() const;

  private:
    std::vector<std::string> headers_;
    std::vector<std::vector<std::string>> rows_;
};

} // namespace capwise::output
