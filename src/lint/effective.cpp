#include "lint/effective.hpp"

#include "core/text.hpp"

#include <array>

namespace capwise::lint {
namespace {

using core::CapSet;
using core::Runtime;

std::optional<int> k8s_name_to_cap(std::string_view upper) {
    static const auto names = [] {
        std::array<std::string, core::kLastKnownCap + 1> out;
        for (int cap = 0; cap <= core::kLastKnownCap; ++cap) {
            out[static_cast<std::size_t>(cap)] = core::cap_k8s_name(cap);
        }
        return out;
    }();
    for (std::size_t cap = 0; cap < names.size(); ++cap) {
        if (names[cap] == upper) {
            return static_cast<int>(cap);
        }
    }
    return std::nullopt;
}

} // namespace

NameReading read_cap_name(std::string_view name, Runtime runtime) {
    NameReading reading;
    const std::string upper = core::to_upper(name);
    std::string_view bare = upper;
    const bool prefixed = bare.rfind("CAP_", 0) == 0;
    if (prefixed) {
        bare.remove_prefix(4);
    }
    if (!prefixed && upper == "ALL") {
        reading.all = true;
    } else {
        reading.cap = k8s_name_to_cap(bare);
    }
    const bool known = reading.all || reading.cap.has_value();
    if (!known) {
        reading.spelling = NameReading::Spelling::Unknown;
    } else if (prefixed) {
        reading.spelling = NameReading::Spelling::CapPrefix;
    } else if (name != upper) {
        reading.spelling = NameReading::Spelling::Lowercase;
    }
    switch (runtime) {
    case Runtime::Containerd:
    case Runtime::RuncSpec:
        // containerd upper-cases the name and prepends CAP_; runc ignores (with a warning) the
        // CAP_CAP_... and unknown names that produces.
        reading.applied = known && !prefixed;
        break;
    case Runtime::CriO:
    case Runtime::Docker:
    case Runtime::Podman:
        reading.applied = known;
        reading.fatal = !known;
        break;
    }
    return reading;
}

std::string_view runtime_title(Runtime runtime) {
    switch (runtime) {
    case Runtime::Docker:
        return "Docker (cri-dockerd)";
    case Runtime::Containerd:
        return "containerd";
    case Runtime::CriO:
        return "CRI-O";
    case Runtime::Podman:
        return "Podman (kube play)";
    case Runtime::RuncSpec:
        return "runc";
    }
    return "the runtime";
}

std::string_view user_kind_name(UserKind user) {
    switch (user) {
    case UserKind::Root:
        return "root";
    case UserKind::NonRoot:
        return "non-root";
    case UserKind::Image:
        return "image default";
    }
    return "image default";
}

std::string describe_defaults(Runtime runtime, CapSet defaults) {
    std::string out = std::string(runtime_title(runtime)) + "'s default set (" +
                      std::to_string(defaults.count()) + ": ";
    bool first = true;
    for (const auto& name : core::k8s_names(defaults)) {
        if (!first) {
            out += ", ";
        }
        out += name;
        first = false;
    }
    out += ")";
    return out;
}

EffectiveCaps compute_effective(const ContainerSpec& container, const PodSpec& pod, Runtime runtime,
                                CapSet defaults) {
    EffectiveCaps out;
    out.runtime = runtime;
    out.defaults = defaults;
    const auto& sc = container.security;
    const auto& psc = pod.security;
    const auto& run_as_user = sc.run_as_user ? sc.run_as_user : psc.run_as_user;
    const auto& run_as_non_root = sc.run_as_non_root ? sc.run_as_non_root : psc.run_as_non_root;
    if (run_as_user) {
        out.uid = run_as_user->value;
        out.user = run_as_user->value == 0 ? UserKind::Root : UserKind::NonRoot;
    } else if (run_as_non_root && run_as_non_root->value) {
        out.user = UserKind::NonRoot; // the kubelet refuses to start an image whose user is 0
    }
    out.privileged = sc.privileged && sc.privileged->value;
    out.no_new_privs = sc.allow_privilege_escalation && !sc.allow_privilege_escalation->value;
    out.user_namespace = pod.host_users && !pod.host_users->value;
    out.windows = pod.os_name == "windows";

    // One list as the runtime reads it: what it applies, what the names denote, and "ALL".
    struct ListReading {
        CapSet applied, named;
        bool all = false;
    };
    std::vector<std::string> fatal;
    auto read_list = [&](const std::vector<Field<std::string>>& names) {
        ListReading list;
        for (const auto& name : names) {
            NameReading r = read_cap_name(name.value, runtime);
            list.all = list.all || (r.all && r.applied);
            if (r.cap) {
                list.named.add(*r.cap);
                if (r.applied) {
                    list.applied.add(*r.cap);
                }
            }
            if (r.fatal) {
                fatal.push_back(name.value);
            }
        }
        return list;
    };
    ListReading adds, drops;
    if (sc.capabilities) {
        adds = read_list(sc.capabilities->add);
        drops = read_list(sc.capabilities->drop);
    }
    out.add_all = adds.all;
    out.drop_all = drops.all;
    const CapSet add = adds.applied, drop = drops.applied, named_add = adds.named,
                 named_drop = drops.named;
    out.conflicting = named_add & named_drop;
    out.named_adds = named_add;
    const CapSet all = CapSet::all_up_to(kAllCapsLast);

    CapSet bounding;
    switch (runtime) {
    case Runtime::Containerd:
    case Runtime::RuncSpec:
    case Runtime::CriO:
        // ALL first, then the named adds, then the named drops: a drop beats an add.
        bounding = out.add_all ? all : defaults;
        if (out.drop_all) {
            bounding = CapSet{};
        }
        bounding = (bounding | add) - drop;
        break;
    case Runtime::Docker:
        // Docker drops first and adds after: an add beats a drop.
        if (out.add_all) {
            bounding = all - drop;
        } else if (out.drop_all) {
            bounding = add;
        } else {
            bounding = (defaults - drop) | add;
        }
        break;
    case Runtime::Podman:
        if (out.drop_all && out.add_all) {
            out.start_error = "Podman refuses ALL in both capabilities.add and .drop";
        } else if (!out.add_all && !out.drop_all && !(add & drop).empty()) {
            out.start_error = "Podman refuses a capability that is both added and dropped (" +
                              core::cap_k8s_name((add & drop).members().front()) + ")";
        }
        if (out.drop_all) {
            bounding = add;
        } else if (out.add_all) {
            bounding = all - drop;
        } else {
            bounding = (defaults - drop) | add;
        }
        break;
    }
    if (!fatal.empty()) {
        out.start_error = std::string(runtime_title(runtime)) +
                          " refuses to create the container: unknown capability \"" +
                          fatal.front() + "\"";
    }
    out.added = out.add_all ? all - drop : add;
    if (out.privileged) {
        bounding = all; // privileged ignores add and drop
        out.added = CapSet{};
    }
    out.bounding = bounding;
    out.from_defaults = (bounding & defaults) - out.added;

    if (out.user != UserKind::NonRoot) {
        out.effective = bounding;
    } else if (runtime == Runtime::Podman) {
        // Podman raises what a non-root container explicitly adds into its ambient set.
        out.effective = out.add_all ? all : add;
    }
    out.ineffective = out.added - out.effective;
    return out;
}

} // namespace capwise::lint
