#include "seccomp/recording.hpp"

#include <fmt/format.h>

namespace capwise::seccomp {

void Recording::add(Arch arch, int number) {
    if (auto name = syscall_name(arch, number)) {
        used[arch].emplace(*name, recordings);
    } else {
        unknown[arch].insert(number);
    }
}

void Recording::add_refused(Arch arch, int number) {
    auto name = syscall_name(arch, number);
    refused[arch].insert(name ? *name : fmt::format("#{}", number));
}

bool Recording::uses(std::string_view name) const {
    for (const auto& [arch, calls] : used) {
        if (calls.contains(std::string(name))) {
            return true;
        }
    }
    return false;
}

std::set<std::string> Recording::names() const {
    std::set<std::string> out;
    for (const auto& [arch, calls] : used) {
        for (const auto& [name, count] : calls) {
            out.insert(name);
        }
    }
    return out;
}

void merge(Recording& into, const Recording& other) {
    for (const auto& [arch, calls] : other.used) {
        for (const auto& [name, count] : calls) {
            into.used[arch][name] += count;
        }
    }
    for (const auto& [arch, numbers] : other.unknown) {
        into.unknown[arch].insert(numbers.begin(), numbers.end());
    }
    for (const auto& [arch, names] : other.refused) {
        into.refused[arch].insert(names.begin(), names.end());
    }
    into.recordings += other.recordings;
    into.clone_namespaces = into.clone_namespaces || other.clone_namespaces;
    into.out_of_range = into.out_of_range || other.out_of_range;
    into.from_seccomp = into.from_seccomp || other.from_seccomp;
    into.filtered = into.filtered || other.filtered;
}

nlohmann::ordered_json recording_json(const Recording& r) {
    nlohmann::ordered_json out;
    out["type"] = "syscalls";
    out["group"] = r.group;
    out["recordings"] = r.recordings;
    out["architectures"] = nlohmann::ordered_json::object();
    for (const auto& [arch, calls] : r.used) {
        nlohmann::ordered_json names = nlohmann::ordered_json::object();
        for (const auto& [name, count] : calls) {
            names[name] = count;
        }
        out["architectures"][std::string(arch_name(arch))] = std::move(names);
    }
    if (!r.unknown.empty()) {
        out["unknownNumbers"] = nlohmann::ordered_json::object();
        for (const auto& [arch, numbers] : r.unknown) {
            out["unknownNumbers"][std::string(arch_name(arch))] = numbers;
        }
    }
    if (!r.refused.empty()) {
        out["refused"] = nlohmann::ordered_json::object();
        for (const auto& [arch, names] : r.refused) {
            out["refused"][std::string(arch_name(arch))] = names;
        }
    }
    out["cloneNamespaces"] = r.clone_namespaces;
    out["fromSeccompFilter"] = r.from_seccomp;
    out["filtered"] = r.filtered;
    if (r.out_of_range) {
        out["outOfRange"] = true;
    }
    return out;
}

core::Result<Recording> parse_recording(const nlohmann::json& record) {
    auto fail = [](std::string_view what) {
        return core::make_error(fmt::format("syscalls record: {}", what), EDOM);
    };
    Recording r;
    r.recordings = 0;
    if (auto g = record.find("group"); g != record.end()) {
        if (!g->is_string() || g->get<std::string>().size() > 512) {
            return fail("'group' is not a short string");
        }
        r.group = g->get<std::string>();
    }
    unsigned recordings = 1;
    if (auto n = record.find("recordings"); n != record.end()) {
        if (!n->is_number_unsigned() || n->get<std::uint64_t>() == 0 ||
            n->get<std::uint64_t>() > 1000000) {
            return fail("'recordings' is not a count");
        }
        recordings = n->get<unsigned>();
    }
    auto arches = record.find("architectures");
    if (arches == record.end() || !arches->is_object()) {
        return fail("'architectures' is missing");
    }
    for (const auto& [arch_text, calls] : arches->items()) {
        auto arch = parse_arch_token(arch_text);
        if (!arch) {
            return fail(fmt::format("unknown architecture '{}'", arch_text));
        }
        if (!calls.is_object() || calls.size() > 1024) {
            return fail(fmt::format("'{}' is not a map of system calls", arch_text));
        }
        for (const auto& [name, count] : calls.items()) {
            if (!known_syscall(name)) {
                return fail(fmt::format("'{}' is not a system call", name));
            }
            if (!count.is_number_unsigned() || count.get<std::uint64_t>() > recordings) {
                return fail(fmt::format("the count of '{}' is not 0..{}", name, recordings));
            }
            r.used[*arch][name] = count.get<unsigned>();
        }
    }
    for (const char* key : {"unknownNumbers", "refused"}) {
        auto it = record.find(key);
        if (it == record.end()) {
            continue;
        }
        if (!it->is_object()) {
            return fail(fmt::format("'{}' is not an object", key));
        }
        for (const auto& [arch_text, list] : it->items()) {
            auto arch = parse_arch_token(arch_text);
            if (!arch || !list.is_array() || list.size() > 1024) {
                return fail(fmt::format("'{}.{}' is not a list", key, arch_text));
            }
            for (const auto& v : list) {
                if (std::string_view(key) == "refused" && v.is_string() &&
                    v.get<std::string>().size() <= 64) {
                    r.refused[*arch].insert(v.get<std::string>());
                } else if (std::string_view(key) == "unknownNumbers" && v.is_number_unsigned() &&
                           v.get<std::uint64_t>() < 1024) {
                    r.unknown[*arch].insert(v.get<int>());
                } else {
                    return fail(fmt::format("'{}.{}' holds a bad entry", key, arch_text));
                }
            }
        }
    }
    for (auto [key, flag] :
         {std::pair{"cloneNamespaces", &r.clone_namespaces},
          std::pair{"fromSeccompFilter", &r.from_seccomp}, std::pair{"filtered", &r.filtered},
          std::pair{"outOfRange", &r.out_of_range}}) {
        if (auto it = record.find(key); it != record.end()) {
            if (!it->is_boolean()) {
                return fail(fmt::format("'{}' is not true or false", key));
            }
            *flag = it->get<bool>();
        }
    }
    r.recordings = recordings;
    return r;
}

} // namespace capwise::seccomp
