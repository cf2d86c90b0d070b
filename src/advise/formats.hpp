// The advice in the formats people deploy with: Kubernetes securityContext (and a kubectl patch
// for the owning workload), docker/podman flags, compose, OCI process.capabilities, OpenShift
// SCC, systemd, JSON; and the human report that explains it.
#pragma once

#include "advise/analysis.hpp"
#include "core/catalog.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace capwise::advise {

// Html is the report (report/html_report.hpp), which the CLI renders: render() gives nothing.
enum class Format {
    Text,
    K8s,
    Docker,
    Podman,
    Compose,
    Oci,
    Scc,
    Systemd,
    Json,
    Seccomp,
    Spo,
    Html
};
core::Result<Format> parse_format(std::string_view text);
std::string_view format_name(Format format); // "k8s", "docker", ...

// "NET_BIND_SERVICE", sorted by name.
std::vector<std::string> sorted_k8s_names(core::CapSet set);
// The strictest Pod Security Standards level whose capability rules the add list meets.
core::PssLevel pss_level(core::CapSet add);

// How the advised workload's run went, when capwise ran it.
struct RunSummary {
    int exit_status = 0;
    std::string end; // "ended by itself", "stopped at its time limit", "interrupted"
    long long duration_ms = 0;
};

// A re-run with exactly the advised set, judged against the first run.
struct Verification {
    core::CapSet caps;
    int exit_status = 0;
    int first_status = 0;
    std::string outcome; // "same", "fixed" (the first run failed, this one succeeds), "different"
    std::string end;     // as RunSummary::end
    // Audited checks denied in the re-run: capability → the syscalls that asked.
    std::map<int, std::set<std::string>> denied;
    bool verified = false;     // ends as the first run did, or now succeeds
    bool with_seccomp = false; // re-run under the advised seccomp profile too
    // Calls the profile refused in the re-run, by architecture ("x86_64" → names).
    std::map<std::string, std::set<std::string>> refused;
    // Where the profile was proven: the runtime it is written for ("runc 1.1.5"), empty when it
    // could not be run (then the profile is not verified, and unproven says why).
    std::string runtime;
    std::string unproven;
    std::string runtime_error; // runc could not start the container under the profile
    unsigned runs = 1;         // re-runs made, each judged against the first run
    bool hung = false;         // a re-run under the profile was stopped at its time limit
};

struct RenderOptions {
    std::string owner_hint;        // "deployment/web -n shop", for the kubectl patch line
    bool text_includes_k8s = true; // false when the k8s format is printed as well
    // The advised command's argv, when capwise ran it: printed commands then use it and run as
    // printed; otherwise they say where the container's command goes.
    std::vector<std::string> command;
    // The container's name for a command or a bundle (--container); pods keep their own.
    std::string container_name;
    std::optional<RunSummary> run;
    std::optional<Verification> verification;
    std::vector<std::string> warnings; // thin or partial evidence, said in every format
};

// "CHOWN (fchownat), SETGID (setgroups, setresgid)".
std::string denied_text(const std::map<int, std::set<std::string>>& denied);

std::string render(const std::vector<GroupAdvice>& groups, Format format,
                   const RenderOptions& options = {});

// A valid Kubernetes container name (and compose service name), a DNS-1123 label: lower-case
// letters, digits and '-', starting and ending with a letter or digit, at most 63 characters.
// "My_App.sh" → "my-app-sh"; nothing usable → "app".
std::string dns1123_label(std::string_view name);

} // namespace capwise::advise
