// security.capability xattr bytes: parse, and when they parse, format and re-encode.
#include "core/file_caps.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace capwise::core;
    auto caps = parse_file_caps(std::span<const std::uint8_t>(data, size));
    if (!caps) {
        return 0;
    }
    (void)format_file_caps(*caps, 40);
    (void)format_file_caps(*caps, 3);
    auto bytes = encode_file_caps(*caps);
    // A valid xattr re-encodes to itself, apart from magic bits the kernel ignores.
    auto again = parse_file_caps(bytes);
    if (!again || !(*again == *caps) || bytes.size() != size) {
        std::abort();
    }
    return 0;
}
