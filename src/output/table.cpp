#include "output/table.hpp"

#include "core/text.hpp"

#include <algorithm>

namespace capwise::output {

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

void Table::add_row(std::vector<std::string> cells) {
    cells.resize(headers_.size());
    // Cells hold names from the kernel, runtimes and API answers: never a raw control byte on a
    // terminal (an escape sequence, a forged line).
    for (auto& cell : cells) {
        cell = core::escape_controls(cell);
    }
    rows_.push_back(std::move(cells));
}

std::string Table::render() const {
    std::vector<std::size_t> width(headers_.size(), 0);
    auto measure = [&](const std::vector<std::string>& row) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            width[i] = std::max(width[i], row[i].size());
        }
    };
    measure(headers_);
    for (const auto& row : rows_) {
        measure(row);
    }
    std::string out;
    auto emit = [&](const std::vector<std::string>& row) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            out += row[i];
            if (i + 1 < row.size()) {
                out.append(width[i] - row[i].size() + 2, ' ');
            }
        }
        while (!out.empty() && out.back() == ' ') {
            out.pop_back();
        }
        out.push_back('\n');
    };
    emit(headers_);
    for (const auto& row : rows_) {
        emit(row);
    }
    return out;
}

} // namespace capwise::output
