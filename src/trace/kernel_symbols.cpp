#include "trace/kernel_symbols.hpp"

#include "core/unique_fd.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <future>
#include <unistd.h>
#include <unordered_map>

namespace capwise::trace {

core::Result<KernelSymbols> KernelSymbols::load(const std::string& path) {
    core::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        return core::make_error(fmt::format("cannot read {}: {}", path, std::strerror(errno)),
                                errno);
    }
    // Streamed through one small buffer: the file is ~5 MB, the names worth keeping far less.
    KernelSymbols out;
    out.text_.reserve(4u << 20);
    std::vector<char> buf(128 * 1024);
    std::string carry;
    bool any_address = false;
    while (true) {
        ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return core::make_error(fmt::format("cannot read {}: {}", path, std::strerror(errno)),
                                    errno);
        }
        if (n == 0) {
            break;
        }
        std::string_view chunk(buf.data(), static_cast<std::size_t>(n));
        if (!carry.empty()) {
            std::size_t nl = chunk.find('\n');
            carry.append(chunk.substr(0, nl == std::string_view::npos ? chunk.size() : nl + 1));
            if (nl == std::string_view::npos) {
                continue;
            }
            out.add_lines(carry, any_address);
            carry.clear();
            chunk.remove_prefix(nl + 1);
        }
        std::size_t last_nl = chunk.rfind('\n');
        if (last_nl == std::string_view::npos) {
            carry.assign(chunk);
            continue;
        }
        out.add_lines(chunk.substr(0, last_nl + 1), any_address);
        carry.assign(chunk.substr(last_nl + 1));
    }
    out.add_lines(carry, any_address);
    return out.finish(any_address);
}

struct KernelSymbols::Loading {
    std::shared_future<core::Result<KernelSymbols>> result;
};

KernelSymbols KernelSymbols::load_in_background(const std::string& path) {
    auto loading = std::make_shared<Loading>();
    loading->result = std::async(std::launch::async, [path] { return load(path); }).share();
    KernelSymbols out;
    out.loading_ = std::move(loading);
    return out;
}

core::Status KernelSymbols::wait() const {
    if (loading_ == nullptr) {
        return core::Ok{};
    }
    const auto& loaded = loading_->result.get();
    if (!loaded) {
        return loaded.error();
    }
    return core::Ok{};
}

const KernelSymbols& KernelSymbols::table() const {
    if (loading_ == nullptr) {
        return *this;
    }
    static const KernelSymbols empty;
    const auto& loaded = loading_->result.get();
    return loaded ? *loaded : empty;
}

std::size_t KernelSymbols::size() const {
    return table().symbols_.size();
}

core::Result<KernelSymbols> KernelSymbols::parse(std::string_view text) {
    KernelSymbols out;
    bool any_address = false;
    out.add_lines(text, any_address);
    return out.finish(any_address);
}

void KernelSymbols::add_lines(std::string_view text, bool& any_address) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) {
            nl = text.size();
        }
        std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        // "ffffffff81000000 T _stext" or "ffffffffc0a01000 t fn\t[module]"
        std::size_t sp1 = line.find(' ');
        if (sp1 == std::string_view::npos || sp1 + 3 > line.size() || line[sp1 + 2] != ' ') {
            continue;
        }
        std::uint64_t addr = 0;
        auto [end, ec] = std::from_chars(line.data(), line.data() + sp1, addr, 16);
        if (ec != std::errc{} || end != line.data() + sp1) {
            continue;
        }
        const char type = line[sp1 + 1];
        std::string_view name = line.substr(sp1 + 3);
        if (auto tab = name.find('\t'); tab != std::string_view::npos) {
            name = name.substr(0, tab);
        }
        if (name.empty() || name.size() > 0xffff) {
            continue;
        }
        any_address = any_address || addr != 0;
        // Non-text symbols are kept nameless: they still end the text symbol before them.
        Symbol sym{addr, 0, 0};
        if (type == 't' || type == 'T' || type == 'w' || type == 'W') {
            sym.name_offset = static_cast<std::uint32_t>(text_.size());
            sym.name_length = static_cast<std::uint32_t>(name.size());
            text_.append(name);
        }
        symbols_.push_back(sym);
    }
}

core::Result<KernelSymbols> KernelSymbols::finish(bool any_address) {
    if (!any_address) {
        return core::make_error("kernel symbol addresses are hidden (kernel.kptr_restrict); run "
                                "as root or lower kptr_restrict");
    }
    if (!std::is_sorted(symbols_.begin(), symbols_.end(),
                        [](const Symbol& a, const Symbol& b) { return a.addr < b.addr; })) {
        std::stable_sort(symbols_.begin(), symbols_.end(),
                         [](const Symbol& a, const Symbol& b) { return a.addr < b.addr; });
    }
    return std::move(*this);
}

std::optional<std::string_view> KernelSymbols::name_of(std::uint64_t addr) const {
    if (loading_ != nullptr) {
        return table().name_of(addr);
    }
    auto it = std::upper_bound(symbols_.begin(), symbols_.end(), addr,
                               [](std::uint64_t a, const Symbol& s) { return a < s.addr; });
    if (it == symbols_.begin()) {
        return std::nullopt;
    }
    --it;
    // Symbols sharing an address: prefer a named (text) one.
    auto first = it;
    while (first != symbols_.begin() && std::prev(first)->addr == it->addr) {
        --first;
    }
    for (auto p = first; p != symbols_.end() && p->addr == it->addr; ++p) {
        if (p->name_length != 0) {
            return name(*p);
        }
    }
    return std::nullopt;
}

std::string KernelSymbols::describe(std::uint64_t addr) const {
    if (loading_ != nullptr) {
        return table().describe(addr);
    }
    auto it = std::upper_bound(symbols_.begin(), symbols_.end(), addr,
                               [](std::uint64_t a, const Symbol& s) { return a < s.addr; });
    auto name = name_of(addr);
    if (!name || it == symbols_.begin()) {
        return fmt::format("0x{:x}", addr);
    }
    return fmt::format("{}+0x{:x}", *name, addr - std::prev(it)->addr);
}

std::vector<SymbolRange> KernelSymbols::ranges_of(std::string_view name) const {
    std::vector<SymbolRange> out;
    for (auto& [index, range] : ranges_of(std::span<const std::string_view>(&name, 1))) {
        out.push_back(range);
    }
    return out;
}

std::vector<std::pair<std::size_t, SymbolRange>>
KernelSymbols::ranges_of(std::span<const std::string_view> names) const {
    if (loading_ != nullptr) {
        return table().ranges_of(names);
    }
    std::unordered_map<std::string_view, std::size_t> wanted;
    for (std::size_t i = 0; i < names.size(); ++i) {
        wanted.emplace(names[i], i);
    }
    std::vector<std::pair<std::size_t, SymbolRange>> out;
    for (std::size_t i = 0; i < symbols_.size(); ++i) {
        if (symbols_[i].name_length == 0) {
            continue;
        }
        auto it = wanted.find(this->name(symbols_[i]));
        if (it == wanted.end()) {
            continue;
        }
        const std::uint64_t start = symbols_[i].addr;
        std::size_t j = i + 1;
        while (j < symbols_.size() && symbols_[j].addr == start) {
            ++j;
        }
        const std::uint64_t end = j < symbols_.size() ? symbols_[j].addr : start + 4096;
        out.emplace_back(it->second, SymbolRange{start, end});
    }
    return out;
}

std::optional<SymbolRange> KernelSymbols::kernel_text() const {
    constexpr std::string_view kBounds[] = {"_stext", "_etext"};
    std::optional<std::uint64_t> start, end;
    for (auto& [index, range] : ranges_of(kBounds)) {
        (index == 0 ? start : end) = range.start;
    }
    if (!start || !end || *end <= *start) {
        return std::nullopt;
    }
    return SymbolRange{*start, *end};
}

} // namespace capwise::trace
