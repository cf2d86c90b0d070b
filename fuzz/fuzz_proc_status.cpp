// /proc/PID/status text, which a process partly writes itself (its name).
#include "core/proc_status.hpp"

#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace capwise::core;
    auto st = parse_proc_status(std::string_view(reinterpret_cast<const char*>(data), size));
    if (st) {
        (void)format_cap_text(st->caps.effective, st->caps.inheritable, st->caps.permitted, 40);
        (void)format_lower_names(st->caps.bounding, 40);
    }
    return 0;
}
