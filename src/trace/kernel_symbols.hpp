// Kernel text symbols from /proc/kallsyms: addresses to function names (callers, stacks) and
// function names to address ranges (the in-kernel classifier).
#pragma once

#include "core/result.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace capwise::trace {

struct SymbolRange {
    std::uint64_t start = 0;
    std::uint64_t end = 0; // exclusive: the next symbol's address
};

class KernelSymbols {
  public:
    // Fails when the file cannot be read or every address is hidden (kptr_restrict).
    static core::Result<KernelSymbols> load(const std::string& path = "/proc/kallsyms");
    // The same read on a thread of its own (reading /proc/kallsyms is ~70 ms of kernel time,
    // which a tracer spends loading its programs meanwhile): every accessor waits for it, and
    // wait() says whether it worked.
    static KernelSymbols load_in_background(const std::string& path = "/proc/kallsyms");
    core::Status wait() const;
    // Parses kallsyms text (for tests and fuzzing).
    static core::Result<KernelSymbols> parse(std::string_view text);

    // "inet_bind" for an address inside it; nullopt outside every known function.
    std::optional<std::string_view> name_of(std::uint64_t addr) const;
    // "inet_bind+0x4f".
    std::string describe(std::uint64_t addr) const;
    // The address range of a function; nullopt if unknown. Several symbols of one name (static
    // functions in different files) give several ranges.
    std::vector<SymbolRange> ranges_of(std::string_view name) const;
    // The ranges of several functions in one pass over the table: (index into names, range).
    std::vector<std::pair<std::size_t, SymbolRange>>
    ranges_of(std::span<const std::string_view> names) const;
    // The core kernel's text, [_stext, _etext); nullopt when either symbol is missing.
    std::optional<SymbolRange> kernel_text() const;
    std::size_t size() const;

  private:
    struct Loading; // the background read
    // This one, or the one the background read gave (an empty table if it failed).
    const KernelSymbols& table() const;
    std::shared_ptr<const Loading> loading_;

    struct Symbol {
        std::uint64_t addr;
        std::uint32_t name_offset; // into text_; name_length 0 for non-text symbols
        std::uint32_t name_length;
    };
    std::string_view name(const Symbol& s) const {
        return std::string_view(text_).substr(s.name_offset, s.name_length);
    }
    void add_lines(std::string_view text, bool& any_address);
    core::Result<KernelSymbols> finish(bool any_address);

    std::string text_;            // the text symbols' names, back to back
    std::vector<Symbol> symbols_; // sorted by address
};

} // namespace capwise::trace
