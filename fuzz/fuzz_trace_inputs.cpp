// What the tracer reads from outside its own code: /proc/kallsyms text and ring-buffer records.
#include "trace/event.hpp"
#include "trace/kernel_symbols.hpp"

#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace capwise::trace;
    auto symbols =
        KernelSymbols::parse(std::string_view(reinterpret_cast<const char*>(data), size));
    if (symbols) {
        (void)symbols->describe(0xffffffff81000000ULL);
        (void)symbols->ranges_of("cap_capable");
    }
    auto event = decode_event(std::span<const std::uint8_t>(data, size), 0);
    if (event && symbols) {
        resolve(*event, *symbols);
    }
    return 0;
}
