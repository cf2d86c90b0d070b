// Seccomp profiles a manifest points at (lint --seccomp-dir, run --seccomp) and syscall records
// in trace files (advise --from): read, judged, written back and read again, compiled.
#include "seccomp/profile.hpp"
#include "seccomp/profile_check.hpp"
#include "seccomp/recording.hpp"

#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace capwise;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto profile = seccomp::parse_profile(text)) {
        (void)seccomp::check_profile(*profile);
        // What capwise writes it reads back the same.
        auto again = seccomp::parse_profile(seccomp::profile_json(*profile).dump());
        if (!again || again->rules.size() != profile->rules.size() ||
            again->default_action != profile->default_action) {
            std::abort();
        }
        (void)seccomp::compile_profile(*profile);
    }
    auto json = nlohmann::json::parse(text, nullptr, false);
    if (!json.is_discarded() && json.is_object()) {
        if (auto r = seccomp::parse_recording(json)) {
            auto back =
                seccomp::parse_recording(nlohmann::json::parse(seccomp::recording_json(*r).dump()));
            if (!back || back->names() != r->names()) {
                std::abort();
            }
        }
    }
    return 0;
}
