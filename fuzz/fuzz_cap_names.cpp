// Capability names, lists and hex masks as users type them.
#include "core/capability.hpp"

#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace capwise::core;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto cap = parse_cap(text); cap && (*cap < 0 || *cap >= kCapBits)) {
        std::abort();
    }
    if (auto set = parse_cap_list(text, 40); set) {
        (void)format_lower_names(*set, 40);
    }
    if (auto mask = parse_cap_mask(text); mask) {
        // Decoding and re-encoding a mask is the identity.
        auto back = parse_cap_mask(format_hex(*mask));
        if (!back || !(*back == *mask)) {
            std::abort();
        }
    }
    return 0;
}
