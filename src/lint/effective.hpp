// What a container will really hold: the runtime's default set, the names in add/drop as the
// kubelet passes them (each runtime reads them its own way), privileged, and what survives the
// exec of the entrypoint for root and non-root users (Kubernetes sets no ambient capabilities;
// Podman does for the capabilities a non-root container adds).
#pragma once

#include "core/capability.hpp"
#include "core/catalog.hpp"
#include "lint/manifest.hpp"

#include <optional>
#include <string>
#include <vector>

namespace capwise::lint {

// How one runtime reads one name from capabilities.add or .drop.
struct NameReading {
    enum class Spelling { Exact, Lowercase, CapPrefix, Unknown };
    Spelling spelling = Spelling::Exact; // compared with what Kubernetes documents (CHOWN, ALL)
    bool all = false;                    // means every capability
    std::optional<int> cap;              // the capability the name denotes, when it denotes one
    bool applied = false;                // the runtime acts on it
    bool fatal = false;                  // the runtime refuses to create the container
};
NameReading read_cap_name(std::string_view name, core::Runtime runtime);

enum class UserKind { Root, NonRoot, Image };   // Image: the image's USER decides (assumed root)
std::string_view user_kind_name(UserKind user); // "root", "non-root", "image default"

struct EffectiveCaps {
    core::Runtime runtime = core::Runtime::Containerd;
    core::CapSet defaults; // the runtime's default set used
    UserKind user = UserKind::Image;
    std::optional<std::int64_t> uid;
    bool privileged = false;
    bool no_new_privs = false;   // allowPrivilegeEscalation: false
    bool user_namespace = false; // hostUsers: false
    bool windows = false;
    bool add_all = false;
    bool drop_all = false;      // as the runtime reads drop (any case)
    core::CapSet bounding;      // the set the runtime configures (root's permitted/effective)
    core::CapSet effective;     // what the entrypoint holds after exec, no file capabilities
    core::CapSet added;         // capabilities named in add that the runtime applies
    core::CapSet named_adds;    // every capability add names, in any spelling (what was meant)
    core::CapSet from_defaults; // bounding members that come from the runtime's default set
    core::CapSet ineffective;   // added, but not in `effective` (non-root)
    core::CapSet conflicting;   // named in both add and drop
    std::optional<std::string> start_error; // why the runtime refuses to create the container
};

// The last capability number "ALL" and privileged stand for.
inline constexpr int kAllCapsLast = core::kLastKnownCap;

// `defaults`: the runtime's default set (core::runtime_defaults, or a node's own configuration).
EffectiveCaps compute_effective(const ContainerSpec& container, const PodSpec& pod,
                                core::Runtime runtime, core::CapSet defaults);

// The runtime in sentences: "containerd", "CRI-O", "Docker (cri-dockerd)", "Podman (kube play)".
std::string_view runtime_title(core::Runtime runtime);
// A default set in words: "containerd's default set (14: CHOWN, ...)".
std::string describe_defaults(core::Runtime runtime, core::CapSet defaults);

} // namespace capwise::lint
