// Seccomp profiles: reading hostile profiles, writing and compiling them, system call names per
// architecture, recordings merged, and the profile advise builds (clone, clone3, RuntimeDefault).
#include "advise/formats.hpp"
#include "advise/seccomp_advice.hpp"
#include "advise/seccomp_groups.hpp"
#include "capwise_event.h"
#include "core/seccomp_verdict.hpp"
#include "record/runtime_calls.hpp"
#include "record/session.hpp"
#include "seccomp/profile.hpp"
#include "seccomp/profile_check.hpp"
#include "seccomp/recording.hpp"
#include "seccomp/syscall_names.hpp"

#include <gtest/gtest.h>
#include <linux/audit.h>
#include <sys/syscall.h>

namespace capwise {
namespace {

using seccomp::Arch;

TEST(SeccompNames, PerArchitectureAndNeverMadeUp) {
    EXPECT_EQ(seccomp::syscall_name(Arch::X86_64, 0), "read");
    EXPECT_EQ(seccomp::syscall_name(Arch::X86, 20), "getpid"); // i386's own numbering
    EXPECT_EQ(seccomp::syscall_name(Arch::X32, 0), "read");
    EXPECT_EQ(seccomp::syscall_name(Arch::X86_64, 435), "clone3");
    // Inspektor Gadget wrote "syscall_1f4" into every profile: 500 is no x86_64 system call.
    EXPECT_FALSE(seccomp::syscall_name(Arch::X86_64, 500));
    EXPECT_FALSE(seccomp::syscall_name(Arch::X86_64, -1));
    EXPECT_TRUE(seccomp::known_syscall("openat"));
    EXPECT_FALSE(seccomp::known_syscall("syscall_1f4"));
}

TEST(SeccompProfile, ReadsOciAndDockerProfiles) {
    auto p = seccomp::parse_profile(R"({"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,
        "archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86"]}],
        "syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"},
                    {"name":"bpf","action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_BPF"]}},
                    {"names":["clone"],"action":"SCMP_ACT_ALLOW",
                     "args":[{"index":0,"value":2114060288,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}]}]})");
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->default_errno, 1u);
    EXPECT_EQ(p->architectures, (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}));
    ASSERT_EQ(p->rules.size(), 3u);
    EXPECT_TRUE(p->rules[1].conditional);
    EXPECT_EQ(p->rules[1].include_caps, std::vector<std::string>{"CAP_BPF"});
    EXPECT_EQ(p->rules[2].args.at(0).value, 2114060288u);
}

TEST(SeccompProfile, HostileProfilesGetOneLine) {
    const std::pair<const char*, const char*> cases[] = {
        {"", "not valid JSON"},
        {"[]", "not a JSON object"},
        {"{}", "'defaultAction' is missing"},
        {R"({"defaultAction":"SCMP_ACT_NOPE"})", "unknown action 'SCMP_ACT_NOPE'"},
        {R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":[1],"action":"SCMP_ACT_ALLOW"}]})",
         "syscalls[0].names[0]: not a string"},
        {R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"action":"SCMP_ACT_ALLOW"}]})",
         "syscalls[0]: no 'names'"},
        {R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":9,"op":"SCMP_CMP_EQ"}]}]})",
         "'index' must be 0..5"},
        {R"({"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":-1})", "not an errno"},
        {R"({"defaultAction":"SCMP_ACT_ERRNO","architectures":["x86"]})",
         "'x86' is not an SCMP_ARCH_ name"},
    };
    for (const auto& [text, message] : cases) {
        auto p = seccomp::parse_profile(text);
        ASSERT_FALSE(p) << text;
        EXPECT_NE(p.error().message.find(message), std::string::npos)
            << text << " → " << p.error().message;
    }
}

TEST(SeccompProfile, CompilesAndRefusesWhatTheKernelWouldNot) {
    seccomp::Profile p;
    p.default_errno = 1;
    p.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"};
    p.rules.push_back(
        {{"read", "write", "exit_group"}, "SCMP_ACT_ALLOW", {}, {}, "", {}, {}, false});
    auto program = seccomp::compile_profile(p);
    ASSERT_TRUE(program) << program.error().message;
    EXPECT_GT(program->size(), 5u);
    p.rules.push_back({{"no_such_call"}, "SCMP_ACT_ALLOW", {}, {}, "", {}, {}, false});
    auto bad = seccomp::compile_profile(p);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("unknown system call 'no_such_call'"), std::string::npos);
    p.rules.back() = {{"bpf"}, "SCMP_ACT_ALLOW", {}, {}, "", {"CAP_BPF"}, {}, true};
    EXPECT_FALSE(seccomp::compile_profile(p)); // Docker's conditional rules: Docker's to apply
}

TEST(SeccompProfileCheck, AllowAllDenyListAndRiskyCalls) {
    auto concerns = [](const char* text) {
        std::vector<std::string> ids;
        for (const auto& c : seccomp::check_profile(*seccomp::parse_profile(text))) {
            ids.push_back(c.id);
        }
        return ids;
    };
    EXPECT_EQ(concerns(R"({"defaultAction":"SCMP_ACT_ALLOW"})"),
              std::vector<std::string>{"allows-everything"});
    EXPECT_EQ(
        concerns(
            R"({"defaultAction":"SCMP_ACT_LOG","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]})"),
        std::vector<std::string>{"allows-everything"});
    EXPECT_EQ(
        concerns(
            R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["kexec_load"],"action":"SCMP_ACT_ERRNO"}]})"),
        (std::vector<std::string>{"deny-list", "risky-syscalls"}));
    EXPECT_EQ(
        concerns(
            R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","bpf","keyctl"],"action":"SCMP_ACT_ALLOW"}]})"),
        std::vector<std::string>{"risky-syscalls"});
    EXPECT_EQ(
        concerns(
            R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","syscall_1f4"],"action":"SCMP_ACT_ALLOW"}]})"),
        std::vector<std::string>{"unknown-syscalls"});
    EXPECT_TRUE(
        concerns(
            R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]})")
            .empty());
}

seccomp::Recording recording(std::initializer_list<const char*> names) {
    seccomp::Recording r;
    r.group = "web";
    for (const char* n : names) {
        r.used[Arch::X86_64][n] = 1;
    }
    return r;
}

TEST(SeccompRecording, MergesWithCountsAndRoundTrips) {
    auto a = recording({"read", "write", "openat"});
    auto b = recording({"read", "accept4"});
    b.add(Arch::X86, 20);     // getpid, 32-bit
    b.add(Arch::X86_64, 500); // no such call: a number, flagged
    seccomp::merge(a, b);
    EXPECT_EQ(a.recordings, 2u);
    EXPECT_EQ(a.used[Arch::X86_64]["read"], 2u);
    EXPECT_EQ(a.used[Arch::X86_64]["accept4"], 1u);
    EXPECT_EQ(a.used[Arch::X86]["getpid"], 1u);
    EXPECT_EQ(a.unknown[Arch::X86_64], std::set<int>{500});
    EXPECT_FALSE(a.names().contains("syscall_500"));
    auto back = seccomp::parse_recording(nlohmann::json::parse(seccomp::recording_json(a).dump()));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->names(), a.names());
    EXPECT_EQ(back->used[Arch::X86_64]["read"], 2u);
    EXPECT_EQ(back->unknown[Arch::X86_64], std::set<int>{500});
    // A made-up name in a trace file stops the advice.
    auto forged = seccomp::parse_recording(nlohmann::json::parse(
        R"({"type":"syscalls","architectures":{"x86_64":{"syscall_1f4":1}}})"));
    ASSERT_FALSE(forged);
    EXPECT_EQ(forged.error().errno_value, EDOM);
}

TEST(SeccompAdvice, CloneRestrictedClone3EnosysAndTiedToCapabilities) {
    auto r = recording({"read", "clone", "unshare", "exit_group"});
    auto a = advise::make_seccomp_advice(r, core::CapSet(), "web");
    EXPECT_EQ(a.file_name, "capwise-web.json");
    EXPECT_EQ(a.profile.default_action, "SCMP_ACT_ERRNO");
    EXPECT_EQ(a.profile.default_errno, 1u);
    EXPECT_EQ(a.profile.architectures, std::vector<std::string>{"SCMP_ARCH_X86_64"});
    ASSERT_EQ(a.profile.rules.size(), 3u);
    EXPECT_EQ(a.profile.rules[0].names,
              (std::vector<std::string>{"exit", "exit_group", "read", "restart_syscall",
                                        "rt_sigreturn", "unshare"})); // sorted, with the calls
                                                                      // signals and ends make
    EXPECT_EQ(a.implicit, (std::vector<std::string>{"exit", "restart_syscall", "rt_sigreturn"}));
    EXPECT_EQ(a.profile.rules[1].names, std::vector<std::string>{"clone"});
    EXPECT_EQ(a.profile.rules[1].args.at(0).op, "SCMP_CMP_MASKED_EQ");
    EXPECT_EQ(a.profile.rules[2].names, std::vector<std::string>{"clone3"});
    EXPECT_EQ(a.profile.rules[2].errno_ret, 38u);
    ASSERT_EQ(a.runtime_default_refuses.size(), 1u);
    EXPECT_NE(a.runtime_default_refuses[0].find("unshare"), std::string::npos);
    EXPECT_NE(a.notes.at(0).find("CAP_SYS_ADMIN"), std::string::npos);
    // With SYS_ADMIN advised, RuntimeDefault allows unshare: nothing to say.
    core::CapSet admin;
    admin.add(21);
    EXPECT_TRUE(advise::make_seccomp_advice(r, admin, "web").runtime_default_refuses.empty());
    // A workload that created namespaces keeps clone unrestricted; 32-bit calls add the arch.
    r.clone_namespaces = true;
    r.used[Arch::X86]["getpid"] = 1;
    auto b = advise::make_seccomp_advice(r, core::CapSet(), "web");
    EXPECT_EQ(b.profile.rules.size(), 2u);
    EXPECT_EQ(b.profile.architectures,
              (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}));
    EXPECT_TRUE(seccomp::compile_profile(b.profile));
}

// A workload on amd64 and arm64 nodes: each node's recording names its calls under its own
// architecture, and the merged profile lists both families (arm64's numbers are not x86_64's).
// The kernel recorder's slots become names of their own architecture: native, then the 32-bit
// table (i386's 20 is getpid; AArch32's private set_tls, 0xf0005, sits in its last slots).
TEST(SeccompRecording, RecorderSlotsNameEachArchitecturesCalls) {
    trace::RecordedSyscalls recorded;
    recorded.entered[0].set(SYS_getpid);
#if defined(__aarch64__)
    recorded.entered[1].set(CAPWISE_ARM_PRIVATE_SLOT + 5);
    const std::string compat = "set_tls";
    const auto compat_arch = Arch::Arm;
#else
    recorded.entered[1].set(20);
    const std::string compat = "getpid";
    const auto compat_arch = Arch::X86;
#endif
    recorded.refused[1].set(1); // exit on both
    auto r = record::to_recording(recorded, "g");
    EXPECT_EQ(r.group, "g");
    EXPECT_TRUE(r.used[seccomp::kNativeArch].contains("getpid"));
    EXPECT_TRUE(r.used[compat_arch].contains(compat));
    EXPECT_EQ(r.used[compat_arch].size(), 1U);
    EXPECT_TRUE(r.refused[compat_arch].contains("exit"));
    EXPECT_TRUE(r.unknown.empty());
}

TEST(SeccompAdvice, AmdAndArmRecordingsMergeIntoOneProfile) {
    EXPECT_EQ(seccomp::syscall_name(Arch::Aarch64, 51), "chroot");
    EXPECT_EQ(seccomp::syscall_name(Arch::Arm, 20), "getpid");
    EXPECT_EQ(seccomp::parse_arch_token("SCMP_ARCH_AARCH64"), Arch::Aarch64);
    seccomp::Recording amd;
    amd.add(Arch::X86_64, 161); // chroot
    seccomp::Recording arm;
    arm.add(Arch::Aarch64, 51); // chroot
    arm.add(Arch::Aarch64, 56); // openat
    seccomp::merge(amd, arm);
    auto back =
        seccomp::parse_recording(nlohmann::json::parse(seccomp::recording_json(amd).dump()));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->used[Arch::Aarch64]["openat"], 1u);
    auto a = advise::make_seccomp_advice(*back, core::CapSet(), "web");
    EXPECT_EQ(a.profile.architectures,
              (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"}));
    EXPECT_TRUE(back->names().contains("openat"));
    auto filter = seccomp::compile_profile(a.profile);
    ASSERT_TRUE(filter) << filter.error().message;
    seccomp_data data{};
    data.arch = AUDIT_ARCH_AARCH64;
    data.nr = 51; // chroot, by arm64's number
    EXPECT_TRUE(core::seccomp_allows(core::seccomp_verdict(*filter, data)));
    data.arch = AUDIT_ARCH_X86_64;
    data.nr = 161;
    EXPECT_TRUE(core::seccomp_allows(core::seccomp_verdict(*filter, data)));
    data.nr = 51; // x86_64's 51 is getsockname: not recorded
    EXPECT_FALSE(core::seccomp_allows(core::seccomp_verdict(*filter, data)));
}

TEST(SeccompAdvice, EveryFormatCarriesTheProfile) {
    advise::GroupAdvice g;
    g.group = "web";
    g.seccomp = advise::make_seccomp_advice(recording({"read", "write"}), core::CapSet(), "web");
    auto has = [&](advise::Format f, const char* text) {
        auto out = advise::render({g}, f);
        EXPECT_NE(out.find(text), std::string::npos) << out;
    };
    has(advise::Format::K8s, "localhostProfile: \"profiles/capwise-web.json\"");
    has(advise::Format::K8s, "/var/lib/kubelet/seccomp/profiles/capwise-web.json");
    has(advise::Format::Docker, "--security-opt seccomp=capwise-web.json");
    has(advise::Format::Compose, "\"seccomp=capwise-web.json\"");
    has(advise::Format::Oci, "\"seccomp\"");
    has(advise::Format::Systemd,
        "SystemCallFilter=exit exit_group read restart_syscall rt_sigreturn write");
    has(advise::Format::Systemd, "SystemCallArchitectures=native");
    has(advise::Format::Spo, "kind: SeccompProfile");
    has(advise::Format::Json, "\"runtimeDefaultRefuses\"");
    auto file = seccomp::parse_profile(advise::render({g}, advise::Format::Seccomp));
    ASSERT_TRUE(file) << file.error().message;
    EXPECT_EQ(file->rules.at(0).names,
              (std::vector<std::string>{"exit", "exit_group", "read", "restart_syscall",
                                        "rt_sigreturn", "write"}));
}

// Calls seen only at their end are refusals only where a filter was in force; a runtime's own
// calls join the profile and are named; merged runs name the calls only some runs made.
TEST(SeccompAdvice, RefusalsRuntimeCallsAndPartialCoverage) {
    auto joined = recording({"read"});
    joined.refused[Arch::X86_64] = {"wait4"};
    auto a = advise::make_seccomp_advice(joined, core::CapSet(), "web");
    EXPECT_TRUE(a.recording.uses("wait4")); // under way when a container was joined
    EXPECT_TRUE(a.recording.refused.empty());
    const auto& names = a.profile.rules.at(0).names;
    EXPECT_NE(std::find(names.begin(), names.end(), "wait4"), names.end());
    for (const auto& n : a.notes) {
        EXPECT_EQ(n.find("refused by a seccomp filter"), std::string::npos) << n;
    }
    joined.filtered = true; // a filter was in force: really refused, and said
    auto f = advise::make_seccomp_advice(joined, core::CapSet(), "web");
    EXPECT_FALSE(f.recording.uses("wait4"));
    ASSERT_FALSE(f.notes.empty());
    EXPECT_NE(f.notes.back().find("refused by a seccomp filter already in force"),
              std::string::npos);

    advise::RuntimeCalls runc;
    runc.runtime = "runc 1.1.5";
    runc.calls = {"fstatfs", "read", "clone3"};
    runc.runs = 5;
    auto r = advise::make_seccomp_advice(recording({"read"}), core::CapSet(), "web", &runc);
    ASSERT_TRUE(r.runtime);
    EXPECT_EQ(r.runtime_added, (std::vector<std::string>{"clone3", "fstatfs"}));
    const auto& allowed = r.profile.rules.at(0).names;
    EXPECT_NE(std::find(allowed.begin(), allowed.end(), "fstatfs"), allowed.end());
    // The runtime makes clone3: allowed, never answered ENOSYS by a rule of its own as well.
    for (const auto& rule : r.profile.rules) {
        EXPECT_FALSE(rule.action != "SCMP_ACT_ALLOW" &&
                     std::find(rule.names.begin(), rule.names.end(), "clone3") != rule.names.end());
    }

    auto three = recording({"read", "poll"});
    three.recordings = 3;
    three.used[Arch::X86_64]["read"] = 3;
    auto p = advise::make_seccomp_advice(three, core::CapSet(), "web");
    EXPECT_EQ(p.partial, std::vector<std::string>{"poll (1 of 3)"});
    advise::GroupAdvice g;
    g.group = "web";
    g.seccomp = p;
    const auto text = advise::render({g}, advise::Format::Text);
    EXPECT_NE(text.find("Seen in only some of the 3 recordings"), std::string::npos) << text;
    EXPECT_NE(text.find("poll (1 of 3)"), std::string::npos) << text;
}

} // namespace
} // namespace capwise

namespace capwise {
namespace {

#if defined(__aarch64__)
constexpr std::uint32_t kNative = AUDIT_ARCH_AARCH64;
#else
constexpr std::uint32_t kNative = AUDIT_ARCH_X86_64;
#endif

// The filter's answer computed in user space must be the kernel's: libseccomp's own program for
// a profile, run on seccomp_data as the kernel fills it.
TEST(SeccompVerdict, TheCompiledProfileAnswersAsTheKernelWould) {
    auto profile = seccomp::parse_profile(R"({"defaultAction":"SCMP_ACT_ERRNO",
        "defaultErrnoRet": 38,
        "syscalls":[{"names":["read","execve"],"action":"SCMP_ACT_ALLOW"},
                    {"names":["kill"],"action":"SCMP_ACT_KILL_PROCESS"},
                    {"names":["personality"],"action":"SCMP_ACT_ALLOW",
                     "args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]}]})");
    ASSERT_TRUE(profile) << profile.error().message;
    auto filter = seccomp::compile_profile(*profile);
    ASSERT_TRUE(filter) << filter.error().message;
    // No "architectures": the native one, with its own numbers.
    auto verdict = [&](long nr, std::uint64_t arg0 = 0, std::uint32_t arch = kNative) {
        seccomp_data data{};
        data.nr = static_cast<int>(nr);
        data.arch = arch;
        data.args[0] = arg0;
        return core::seccomp_verdict(*filter, data);
    };
    EXPECT_TRUE(core::seccomp_allows(verdict(SYS_read)));
    EXPECT_TRUE(core::seccomp_allows(verdict(SYS_execve)));
    EXPECT_EQ(verdict(SYS_write), SECCOMP_RET_ERRNO | 38U); // the default
    EXPECT_EQ(core::seccomp_verdict_text(verdict(SYS_write)), "returns ENOSYS");
    EXPECT_EQ(verdict(SYS_kill), SECCOMP_RET_KILL_PROCESS);
    EXPECT_TRUE(core::seccomp_allows(verdict(SYS_personality, 8)));
    EXPECT_FALSE(core::seccomp_allows(verdict(SYS_personality, 0)));
    EXPECT_FALSE(core::seccomp_allows(verdict(SYS_read, 0, 0x12345678))); // an unknown architecture
}

TEST(SeccompVerdict, AProgramTheKernelWouldRefuseNeverAllows) {
    seccomp_data data{};
    const std::vector<sock_filter> empty;
    EXPECT_EQ(core::seccomp_verdict(empty, data), SECCOMP_RET_KILL_PROCESS);
    // A jump past the end, a load past seccomp_data, a division by zero, no return.
    const std::vector<std::vector<sock_filter>> bad = {
        {BPF_JUMP(BPF_JMP | BPF_JA, 5, 0, 0), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)},
        {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 64), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)},
        {BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)},
        {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0)},
    };
    for (const auto& program : bad) {
        EXPECT_EQ(core::seccomp_verdict(program, data), SECCOMP_RET_KILL_PROCESS);
    }
    const std::vector<sock_filter> scratch = {BPF_STMT(BPF_LD | BPF_IMM, SECCOMP_RET_ALLOW),
                                              BPF_STMT(BPF_ST, 3),
                                              BPF_STMT(BPF_LD | BPF_IMM, 0),
                                              BPF_STMT(BPF_LDX | BPF_MEM, 3),
                                              BPF_STMT(BPF_MISC | BPF_TXA, 0),
                                              BPF_STMT(BPF_RET | BPF_A, 0)};
    EXPECT_TRUE(core::seccomp_allows(core::seccomp_verdict(scratch, data)));
}

} // namespace
} // namespace capwise

namespace capwise {
namespace {

// The runtime-calls cache is read like any hostile file: only a sound entry for this very binary
// is used; anything odd means "learn again".
TEST(RuntimeCallsCache, OnlyASoundEntryForThisBinaryIsUsed) {
    const record::RuntimeBinary runc{"/usr/sbin/runc", 1, 2, "runc 1.1.5+ds1"};
    const std::string entry = R"({"binary":{"path":"/usr/sbin/runc","size":1,"mtimeNs":2,)"
                              R"("label":"runc 1.1.5+ds1"},"runs":5,"calls":["fstatfs","write"],)"
                              R"("goRuntime":["futex"]})";
    auto calls =
        record::runtime_calls_from_cache(R"({"format":2,"entries":[)" + entry + "]}", runc);
    ASSERT_TRUE(calls);
    EXPECT_EQ(calls->calls, (std::set<std::string>{"fstatfs", "write"}));
    EXPECT_EQ(calls->go_runtime, (std::set<std::string>{"futex"}));
    EXPECT_EQ(calls->runs, 5U);
    record::RuntimeBinary upgraded = runc;
    upgraded.size = 3;
    EXPECT_FALSE(
        record::runtime_calls_from_cache(R"({"format":2,"entries":[)" + entry + "]}", upgraded));
    EXPECT_FALSE(
        record::runtime_calls_from_cache(R"({"format":1,"entries":[)" + entry + "]}", runc));
    std::string bad = entry;
    bad.replace(bad.find("\"write\""), 7, "\"\\u001b[31m\"");
    EXPECT_FALSE(record::runtime_calls_from_cache(R"({"format":2,"entries":[)" + bad + "]}", runc));
    EXPECT_FALSE(record::runtime_calls_from_cache("{\"format\":2,\"entries\":[", runc));
    EXPECT_FALSE(record::runtime_calls_from_cache(std::string(2 << 20, ' '), runc));
}

} // namespace
} // namespace capwise

namespace capwise {
namespace {

advise::GroupAdvice pod_group(const std::string& ns, const std::string& pod,
                              const std::string& owner) {
    advise::GroupAdvice g;
    g.group = ns + "/" + pod + "/app";
    g.in_pod = true;
    g.k8s_namespace = ns;
    g.owner = "Deployment/" + owner;
    return g;
}

seccomp::Recording recording_of(const std::string& group, const std::string& call) {
    seccomp::Recording r;
    r.group = group;
    r.used[seccomp::Arch::X86_64] = {{"exit_group", 1}, {call, 1}};
    return r;
}

std::set<std::string> allowed_calls(const advise::GroupAdvice& g) {
    std::set<std::string> out;
    for (const auto& rule : g.seccomp->profile.rules) {
        if (rule.action == "SCMP_ACT_ALLOW") {
            out.insert(rule.names.begin(), rule.names.end());
        }
    }
    return out;
}

// Replicas of one workload share one profile file made from all their recordings; workloads
// whose names make the same file name get files of their own.
TEST(SeccompGroups, ReplicasShareAProfileAndWorkloadsNeverCollide) {
    std::vector<advise::GroupAdvice> advice{
        pod_group("shop", "web-1", "web"), pod_group("shop", "web-2", "web"),
        pod_group("team-a", "web-app-1", "web"), pod_group("team", "a-web-app-1", "a-web")};
    advise::attach_seccomp(advice,
                           {recording_of("shop/web-1/app", "read"),
                            recording_of("shop/web-2/app", "write"),
                            recording_of("team-a/web-app-1/app", "chown"),
                            recording_of("team/a-web-app-1/app", "fchown")},
                           nullptr, "");
    ASSERT_TRUE(advice[0].seccomp && advice[1].seccomp && advice[2].seccomp && advice[3].seccomp);
    EXPECT_EQ(advice[0].seccomp->file_name, "capwise-shop-web-app.json");
    EXPECT_EQ(advice[1].seccomp->file_name, advice[0].seccomp->file_name);
    EXPECT_TRUE(allowed_calls(advice[0]).contains("read"));
    EXPECT_TRUE(allowed_calls(advice[0]).contains("write"));
    EXPECT_EQ(allowed_calls(advice[0]), allowed_calls(advice[1]));
    EXPECT_NE(advice[2].seccomp->file_name, advice[3].seccomp->file_name);
    EXPECT_TRUE(advice[2].seccomp->file_name.starts_with("capwise-team-a-web-app-"));
    EXPECT_TRUE(allowed_calls(advice[2]).contains("chown"));
    EXPECT_FALSE(allowed_calls(advice[2]).contains("fchown"));
}

} // namespace
} // namespace capwise
