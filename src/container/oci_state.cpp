#include "container/oci_state.hpp"

#include "core/text.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <regex>

namespace capwise::container {
namespace {

using Json = nlohmann::json;

core::Result<Json> parse_json(std::string_view text, std::string_view what) {
    Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
        return core::make_error(fmt::format("{}: malformed JSON", what));
    }
    if (!j.is_object()) {
        return core::make_error(fmt::format("{}: not a JSON object", what));
    }
    return j;
}

const Json* member(const Json& j, const char* key) {
    auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
}

std::string string_or_empty(const Json& j, const char* key) {
    const Json* v = member(j, key);
    return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

std::map<std::string, std::string> string_map(const Json* j) {
    std::map<std::string, std::string> out;
    if (j == nullptr || !j->is_object()) {
        return out;
    }
    for (const auto& [k, v] : j->items()) {
        if (v.is_string()) {
            out[k] = v.get<std::string>();
        }
    }
    return out;
}

core::CapSet cap_list(const Json* j) {
    core::CapSet set;
    if (j == nullptr || !j->is_array()) {
        return set;
    }
    for (const auto& v : *j) {
        if (v.is_string()) {
            if (auto cap = core::parse_cap(v.get<std::string>())) {
                set.add(*cap);
            }
        }
    }
    return set;
}

} // namespace

core::Result<RuncState> parse_runc_state(std::string_view json_text) {
    auto j = parse_json(json_text, "state.json");
    if (!j) {
        return j.error();
    }
    RuncState st;
    st.id = string_or_empty(*j, "id");
    const Json* pid = member(*j, "init_process_pid");
    if (st.id.empty() || pid == nullptr || !pid->is_number_integer() ||
        pid->get<long long>() <= 0 || pid->get<long long>() > 0x7fffffff) {
        return core::make_error("state.json: no id or init_process_pid");
    }
    st.init_pid = static_cast<pid_t>(pid->get<long long>());
    if (const Json* config = member(*j, "config"); config != nullptr && config->is_object()) {
        if (const Json* labels = member(*config, "labels");
            labels != nullptr && labels->is_array()) {
            for (const auto& l : *labels) {
                if (!l.is_string()) {
                    continue;
                }
                const std::string s = l.get<std::string>();
                auto eq = s.find('=');
                if (eq != std::string::npos) {
                    st.labels[s.substr(0, eq)] = s.substr(eq + 1);
                }
            }
        }
    }
    if (auto b = st.labels.find("bundle"); b != st.labels.end()) {
        st.bundle = b->second;
    }
    return st;
}

core::Result<OciConfig> parse_oci_config(std::string_view json_text) {
    auto j = parse_json(json_text, "config.json");
    if (!j) {
        return j.error();
    }
    OciConfig cfg;
    cfg.annotations = string_map(member(*j, "annotations"));
    if (const Json* process = member(*j, "process"); process != nullptr && process->is_object()) {
        if (const Json* caps = member(*process, "capabilities");
            caps != nullptr && caps->is_object()) {
            cfg.process.has_capabilities = true;
            cfg.process.bounding = cap_list(member(*caps, "bounding"));
            cfg.process.effective = cap_list(member(*caps, "effective"));
            cfg.process.permitted = cap_list(member(*caps, "permitted"));
            cfg.process.inheritable = cap_list(member(*caps, "inheritable"));
            cfg.process.ambient = cap_list(member(*caps, "ambient"));
        }
        if (const Json* user = member(*process, "user"); user != nullptr && user->is_object()) {
            const Json* uid = member(*user, "uid");
            const Json* gid = member(*user, "gid");
            if (uid != nullptr && uid->is_number_unsigned()) {
                cfg.process.uid = uid->get<unsigned>();
            }
            if (gid != nullptr && gid->is_number_unsigned()) {
                cfg.process.gid = gid->get<unsigned>();
            }
        }
    }
    if (const Json* lx = member(*j, "linux"); lx != nullptr && lx->is_object()) {
        if (const Json* seccomp = member(*lx, "seccomp");
            seccomp != nullptr && seccomp->is_object()) {
            const Json* action = member(*seccomp, "defaultAction");
            cfg.process.seccomp_default_action =
                action != nullptr && action->is_string() ? action->get<std::string>() : "?";
            for (const char* key :
                 {"io.podman.annotations.seccomp", "io.kubernetes.cri-o.SeccompProfilePath"}) {
                if (auto named = cfg.annotations.find(key);
                    named != cfg.annotations.end() && !named->second.empty()) {
                    cfg.process.seccomp_profile = named->second;
                    break;
                }
            }
        }
    }
    return cfg;
}

K8sMeta k8s_from_annotations(const std::map<std::string, std::string>& a) {
    auto get = [&](const char* key) {
        auto it = a.find(key);
        return it == a.end() ? std::string() : it->second;
    };
    K8sMeta k;
    // containerd's CRI plugin
    k.pod = get("io.kubernetes.cri.sandbox-name");
    k.namespace_ = get("io.kubernetes.cri.sandbox-namespace");
    k.pod_uid = get("io.kubernetes.cri.sandbox-uid");
    k.container = get("io.kubernetes.cri.container-name");
    // CRI-O
    if (k.pod.empty()) {
        k.pod = get("io.kubernetes.pod.name");
    }
    if (k.namespace_.empty()) {
        k.namespace_ = get("io.kubernetes.pod.namespace");
    }
    if (k.pod_uid.empty()) {
        k.pod_uid = get("io.kubernetes.pod.uid");
    }
    if (k.container.empty()) {
        k.container = get("io.kubernetes.container.name");
    }
    if (auto labels = get("io.kubernetes.cri-o.Labels"); !labels.empty()) {
        Json j = Json::parse(labels, nullptr, false);
        for (const auto& [key, value] : string_map(&j)) {
            // CRI-O mixes the container's own io.kubernetes.* keys into the pod labels.
            if (key.rfind("io.kubernetes.", 0) != 0) {
                k.labels[key] = value;
            }
        }
    }
    if (!k.pod.empty()) {
        k.owner = derive_owner(k.pod, k.labels);
    }
    return k;
}

std::string derive_owner(const std::string& pod, const std::map<std::string, std::string>& labels) {
    auto has = [&](const char* key) { return labels.count(key) != 0; };
    auto strip_suffixes = [](std::string name, int parts) {
        for (int i = 0; i < parts; ++i) {
            auto dash = name.rfind('-');
            if (dash == std::string::npos || dash == 0) {
                return std::string();
            }
            name.resize(dash);
        }
        return name;
    };
    if (has("batch.kubernetes.io/job-name") || has("job-name")) {
        auto it = labels.find("batch.kubernetes.io/job-name");
        return "Job/" + (it != labels.end() ? it->second : labels.at("job-name"));
    }
    if (has("statefulset.kubernetes.io/pod-name")) {
        auto name = strip_suffixes(pod, 1);
        return name.empty() ? std::string() : "StatefulSet/" + name;
    }
    if (has("pod-template-generation") && has("controller-revision-hash")) {
        auto name = strip_suffixes(pod, 1);
        return name.empty() ? std::string() : "DaemonSet/" + name;
    }
    if (auto hash = labels.find("pod-template-hash"); hash != labels.end()) {
        const std::string marker = "-" + hash->second + "-";
        auto pos = pod.rfind(marker);
        if (pos != std::string::npos && pos > 0) {
            return "Deployment/" + pod.substr(0, pos);
        }
    }
    // No labels (containerd's annotations carry none): a ReplicaSet pod name has the shape
    // <deployment>-<pod-template-hash: 6-10 of [bcdfghjklmnpqrstvwxz2-9]>-<5 of the same>.
    static const std::regex kReplicaSetPod(
        "^(.+)-[bcdfghjklmnpqrstvwxz2-9]{6,10}-[bcdfghjklmnpqrstvwxz2-9]{5}$");
    std::smatch m;
    if (pod.size() < 256 && std::regex_match(pod, m, kReplicaSetPod)) {
        return "Deployment/" + m[1].str();
    }
    return {};
}

} // namespace capwise::container
