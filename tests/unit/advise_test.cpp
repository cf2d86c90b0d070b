#include "advise/analysis.hpp"
#include "advise/formats.hpp"
#include "advise/replicas.hpp"
#include "core/capability.hpp"
#include "lint/yaml_tree.hpp"

#include <cerrno>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace capwise::advise {
namespace {

Observation check(int cap, bool allowed, int tid = 1, std::string syscall = "chroot",
                  bool audit = true, unsigned uid = 0) {
    Observation o;
    o.group = "g";
    o.cap = cap;
    o.allowed = allowed;
    o.audit = audit;
    o.tid = tid;
    o.pid = tid;
    o.uid = uid;
    o.comm = "prog";
    o.syscall = std::move(syscall);
    o.caller = "somewhere";
    o.timestamp_ns = 100;
    return o;
}

TEST(Analyzer, AllowedAuditedChecksAreNeeded) {
    Analyzer a;
    a.add(check(18, true));
    a.add(check(21, true, 1, "mmap", /*audit=*/false)); // non-audit: never counts
    auto out = a.finish();
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].add, core::CapSet::of({18}));
    EXPECT_EQ(out[0].evidence.count(21), 0U);
}

// The node agent's kernel counts repeats of an allowed check: one observation then stands for
// many, in the allowed count and nowhere else (a denied check always arrives alone).
TEST(Analyzer, AnObservationCountsTheRepeatsItStandsFor) {
    Analyzer a;
    a.add(check(core::cap::kSetuid, true, 1, "setuid"));
    Observation repeats = check(core::cap::kSetuid, true, 1, "setuid");
    repeats.count = 1999999;
    a.add(repeats);
    Observation borrowed = check(core::cap::kDacOverride, true, 1, "openat");
    borrowed.borrowed = true;
    borrowed.count = 7;
    a.add(borrowed);
    auto out = a.finish();
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].evidence.at(core::cap::kSetuid).allowed, 2000000U);
    EXPECT_EQ(out[0].evidence.at(core::cap::kSetuid).processes, std::set<std::string>{"prog"});
    EXPECT_EQ(out[0].borrowed.at(core::cap::kDacOverride).allowed, 7U);
}

// overlayfs checks a write again with its mounter's credentials: those checks are listed apart,
// never advised, and what the task held is its own set, not the mounter's.
TEST(Analyzer, ChecksUnderBorrowedCredentialsAreNotNeeds) {
    Analyzer a;
    Observation own = check(core::cap::kMknod, true, 1, "mknodat");
    own.effective = core::CapSet::of({core::cap::kMknod, core::cap::kChown});
    a.add(own);
    for (int cap : {core::cap::kDacOverride, core::cap::kSysAdmin, core::cap::kMknod}) {
        Observation mounter = check(cap, true, 1, "openat");
        mounter.caller = "xattr_permission";
        mounter.borrowed = true;
        mounter.effective = core::CapSet::of({core::cap::kMknod, core::cap::kChown});
        a.add(mounter);
    }
    auto out = a.finish();
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].add, core::CapSet::of({core::cap::kMknod}));
    EXPECT_EQ(out[0].held, core::CapSet::of({core::cap::kMknod, core::cap::kChown}));
    EXPECT_EQ(out[0].borrowed.size(), 3U);
    EXPECT_EQ(out[0].borrowed.at(core::cap::kSysAdmin).callers,
              std::set<std::string>{"xattr_permission"});
    EXPECT_EQ(out[0].evidence.count(core::cap::kSysAdmin), 0U);
    // Said in the text and the JSON, never in the adds.
    const std::string text = render(out, Format::Text, {});
    EXPECT_NE(text.find("borrowed credentials"), std::string::npos) << text;
    auto j = nlohmann::json::parse(render(out, Format::Json, {}));
    EXPECT_EQ(j["add"], nlohmann::json::array({"MKNOD"}));
    EXPECT_TRUE(j["borrowed"].contains("SYS_ADMIN")) << j;
    // And a recorded trace line says so too.
    auto line = parse_trace_line(
        R"({"pid":1,"cap":21,"capName":"SYS_ADMIN","verdict":"Allow","caps":2097151,)"
        R"("borrowed":true,"ownCaps":1})",
        "g");
    ASSERT_TRUE(line && line->check);
    EXPECT_TRUE(line->check->borrowed);
    EXPECT_EQ(line->check->effective, core::CapSet::of({0}));
}

TEST(Analyzer, DeniedChecksNeedTheirSyscallOutcome) {
    Analyzer a;
    a.add(check(0, false, 7, "fchownat"));
    a.add_result(7, -EPERM); // failed for lack of it: needed
    a.add(check(1, false, 8, "openat"));
    a.add_result(8, 3);                  // succeeded anyway: not needed
    a.add(check(2, false, 9, "openat")); // outcome never recorded
    auto g = a.finish().at(0);
    EXPECT_EQ(g.add, core::CapSet::of({0}));
    EXPECT_EQ(g.not_needed, core::CapSet::of({1}));
    EXPECT_EQ(g.undecided, core::CapSet::of({2}));
    EXPECT_EQ(g.evidence.at(0).denied_failed, 1U);
    EXPECT_EQ(g.evidence.at(1).denied_succeeded, 1U);
}

TEST(Analyzer, CapsetRequestsAndNonRoot) {
    Analyzer a;
    a.add(check(8, true, 1, "capset"));
    a.add(check(10, true, 2, "bind", true, 1000));
    auto g = a.finish().at(0);
    EXPECT_EQ(g.add, core::CapSet::of({10}));
    EXPECT_EQ(g.capset_requests, core::CapSet::of({8}));
    EXPECT_TRUE(g.non_root);
}

TEST(TraceLines, ChecksResultsAndGarbage) {
    auto line = parse_trace_line(
        R"({"pid":5,"tid":6,"cap":18,"verdict":"Deny","audit":1,"syscall":"chroot","uid":0,)"
        R"("k8s":{"namespace":"shop","podName":"web","containerName":"nginx"}})",
        "host");
    ASSERT_TRUE(line);
    ASSERT_TRUE(line->check);
    EXPECT_EQ(line->check->group, "shop/web/nginx");
    EXPECT_TRUE(line->check->in_pod);
    EXPECT_FALSE(line->check->allowed);
    auto result = parse_trace_line(R"({"type":"syscallResult","tid":6,"ret":-1})", "host");
    ASSERT_TRUE(result);
    ASSERT_TRUE(result->result);
    EXPECT_EQ(result->result->ret, -1);
    EXPECT_EQ(result->result->tid, 6);
    for (const char* bad : {"", "[]", "{", R"({"pid":1})", R"({"pid":1,"cap":2,"verdict":"x"})",
                            R"({"pid":"1","cap":2,"verdict":"Allow"})"}) {
        EXPECT_FALSE(parse_trace_line(bad, "host")) << bad;
    }
}

TEST(Formats, EveryFormatSaysDropAllAndTheAdds) {
    Analyzer a;
    a.add(check(10, true));
    a.add(check(13, true));
    auto groups = a.finish();
    for (auto f : {Format::Text, Format::K8s, Format::Docker, Format::Podman, Format::Compose,
                   Format::Oci, Format::Scc, Format::Systemd, Format::Json}) {
        auto out = render(groups, f);
        EXPECT_NE(out.find("NET_BIND_SERVICE"), std::string::npos) << static_cast<int>(f);
        EXPECT_NE(out.find("NET_RAW"), std::string::npos) << static_cast<int>(f);
    }
    auto json = nlohmann::json::parse(render(groups, Format::Json));
    EXPECT_EQ(json["add"], (nlohmann::json{"NET_BIND_SERVICE", "NET_RAW"}));
    EXPECT_EQ(json["drop"], (nlohmann::json{"ALL"}));
    EXPECT_EQ(json["pss"], "privileged"); // NET_RAW is not even baseline
    EXPECT_NE(render(groups, Format::Docker)
                  .find("--cap-drop=ALL --cap-add=NET_BIND_SERVICE "
                        "--cap-add=NET_RAW"),
              std::string::npos);
    EXPECT_NE(render(groups, Format::Systemd)
                  .find("AmbientCapabilities=CAP_NET_BIND_SERVICE "
                        "CAP_NET_RAW"),
              std::string::npos);
    EXPECT_NE(render(groups, Format::Scc).find("requiredDropCapabilities: [\"ALL\"]"),
              std::string::npos);
    EXPECT_EQ(pss_level(core::CapSet::of({10})), core::PssLevel::Restricted);
    EXPECT_EQ(pss_level(core::CapSet::of({0, 10})), core::PssLevel::Baseline);
    EXPECT_FALSE(parse_format("yaml"));
}

TEST(Formats, NonRootIsExplained) {
    Analyzer a;
    a.add(check(10, true, 1, "bind", true, 1000));
    auto text = render(a.finish(), Format::Text);
    EXPECT_NE(text.find("kubernetes/kubernetes#56374"), std::string::npos);
    EXPECT_NE(text.find("setcap cap_net_bind_service+ep"), std::string::npos);
    EXPECT_NE(text.find("capwise run"), std::string::npos);
}

TEST(Formats, SeveralGroupsAreKeyedInJson) {
    Analyzer a;
    auto o1 = check(18, true);
    o1.group = "shop/web/nginx";
    auto o2 = check(0, true);
    o2.group = "data/db-0/postgres";
    a.add(o1);
    a.add(o2);
    auto json = nlohmann::json::parse(render(a.finish(), Format::Json));
    EXPECT_EQ(json["shop/web/nginx"]["add"], (nlohmann::json{"SYS_CHROOT"}));
    EXPECT_EQ(json["data/db-0/postgres"]["add"], (nlohmann::json{"CHOWN"}));
}

// A recorded event naming a capability capwise does not know must stop the advice: dropped,
// it would silently shrink the add list; kept, it would print "41".
TEST(TraceLines, UnknownOrMisnamedCapabilitiesAreNotSkippable) {
    for (const char* line :
         {R"({"cap":99,"pid":1,"verdict":"Allow"})", R"({"cap":41,"pid":1,"verdict":"Allow"})",
          R"({"cap":-1,"pid":1,"verdict":"Allow"})",
          R"({"cap":12,"capName":"NET_RAW","pid":1,"verdict":"Allow"})"}) {
        auto parsed = parse_trace_line(line, "host");
        ASSERT_FALSE(parsed) << line;
        EXPECT_EQ(parsed.error().errno_value, EDOM) << line;
    }
    EXPECT_TRUE(
        parse_trace_line(R"({"cap":13,"capName":"NET_RAW","pid":1,"verdict":"Allow"})", "host"));
    EXPECT_TRUE(parse_trace_line(R"({"cap":40,"pid":1,"verdict":"Deny"})", "host"));
}

TEST(Formats, ContainerNamesAreDns1123Labels) {
    EXPECT_EQ(dns1123_label("nginx"), "nginx");
    EXPECT_EQ(dns1123_label("My_App.sh"), "my-app-sh");
    EXPECT_EQ(dns1123_label("--x--"), "x");
    EXPECT_EQ(dns1123_label("___"), "app");
    EXPECT_EQ(dns1123_label(""), "app");
    EXPECT_EQ(dns1123_label(std::string(100, 'a')).size(), 63U);
    EXPECT_EQ(dns1123_label(std::string(62, 'a') + "_b"), std::string(62, 'a'));
}

// `true`, `null`, `1234`, `on` as names: YAML must read every one back as that string.
TEST(Formats, YamlScalarsAreNeverRetyped) {
    for (const char* name : {"true", "null", "1234", "on", "~", "0x10", "1e3"}) {
        Analyzer a;
        auto o = check(10, true);
        o.group = name;
        a.add(o);
        for (auto f : {Format::K8s, Format::Compose, Format::Scc}) {
            const std::string out = render(a.finish(), f);
            int docs = 0;
            lint::parse_yaml_stream(out, {}, [&](lint::YamlDocument&& doc) {
                ++docs;
                ASSERT_FALSE(doc.error) << out;
                ASSERT_NE(doc.root, nullptr) << out;
                const lint::YamlNode* named = nullptr;
                if (f == Format::K8s) {
                    ASSERT_TRUE(doc.root->is_sequence());
                    named = doc.root->items.at(0)->find("name");
                } else if (f == Format::Compose) {
                    const lint::YamlNode* services = doc.root->find("services");
                    ASSERT_NE(services, nullptr);
                    ASSERT_EQ(services->entries.size(), 1U);
                    EXPECT_EQ(services->entries[0].key, dns1123_label(name)) << out;
                    EXPECT_NE(out.find("\"" + dns1123_label(name) + "\":"), std::string::npos)
                        << out;
                    named = services->entries[0].value;
                } else {
                    named = doc.root->find("allowedCapabilities");
                }
                ASSERT_NE(named, nullptr) << out;
                if (f == Format::K8s) {
                    auto value = lint::scalar_string(*named);
                    ASSERT_TRUE(value) << out;
                    EXPECT_EQ(*value, dns1123_label(name)) << out;
                    EXPECT_FALSE(named->plain) << out;
                    EXPECT_FALSE(lint::scalar_bool(*named)) << out;
                    EXPECT_FALSE(lint::scalar_int(*named)) << out;
                }
            });
            EXPECT_EQ(docs, 1) << out;
        }
    }
}

TEST(Formats, TheCapwiseRunLineIsTheCommandQuoted) {
    Analyzer a;
    a.add(check(1, true, 1, "openat", true, 65534));
    RenderOptions options;
    options.command = {"sh", "-c", "cat /root/it's"};
    const auto text = render(a.finish(), Format::Text, options);
    EXPECT_NE(text.find("capwise run --user 65534 --caps DAC_OVERRIDE -- sh -c 'cat "
                        "/root/it'\\''s'\n"),
              std::string::npos)
        << text;
    options.text_includes_k8s = false;
    EXPECT_EQ(render(a.finish(), Format::Text, options).find("securityContext"), std::string::npos);
}

// Several groups: each format stays one valid document, each group labelled.
TEST(Formats, SeveralGroupsMakeOneDocumentPerFormat) {
    Analyzer a;
    auto web = check(10, true);
    web.group = "web";
    auto db = check(0, true);
    db.group = "db";
    a.add(web);
    a.add(db);
    const auto groups = a.finish();
    for (auto f : {Format::Compose, Format::Scc, Format::K8s}) {
        const std::string out = render(groups, f);
        int docs = 0;
        lint::parse_yaml_stream(out, {}, [&](lint::YamlDocument&& doc) {
            ++docs;
            ASSERT_FALSE(doc.error) << out;
            ASSERT_TRUE(doc.warnings.empty()) << "duplicate keys in\n" << out;
            if (f == Format::Compose) {
                const auto* services = doc.root->find("services");
                ASSERT_NE(services, nullptr) << out;
                EXPECT_EQ(services->entries.size(), 2U) << out;
            } else if (f == Format::K8s) {
                EXPECT_EQ(doc.root->items.size(), 2U) << out;
            }
        });
        EXPECT_EQ(docs, 1) << out;
    }
    const auto scc = render(groups, Format::Scc);
    EXPECT_NE(scc.find("allowedCapabilities: [\"CHOWN\", \"NET_BIND_SERVICE\"]"), std::string::npos)
        << scc;
    auto oci = nlohmann::json::parse(render(groups, Format::Oci));
    EXPECT_EQ(oci["web"]["process"]["capabilities"]["ambient"],
              (nlohmann::json{"CAP_NET_BIND_SERVICE"}));
    EXPECT_EQ(oci["db"]["process"]["capabilities"]["bounding"], (nlohmann::json{"CAP_CHOWN"}));
}

TEST(Formats, RunVerificationAndWarningsReachJson) {
    Analyzer a;
    a.add(check(18, true));
    RenderOptions options;
    options.run = RunSummary{124, "ended by itself", 2000};
    options.warnings = {"thin"};
    Verification v;
    v.caps = core::CapSet::of({18});
    v.exit_status = 124;
    v.first_status = 124;
    v.outcome = "same";
    v.denied[0] = {"fchownat"};
    v.verified = true;
    options.verification = v;
    auto j = nlohmann::json::parse(render(a.finish(), Format::Json, options));
    EXPECT_EQ(j["exitStatus"], 124);
    EXPECT_EQ(j["warnings"], (nlohmann::json{"thin"}));
    EXPECT_EQ(j["verification"]["denied"]["CHOWN"], (nlohmann::json{"fchownat"}));
    EXPECT_EQ(denied_text(v.denied), "CHOWN (fchownat)");
    EXPECT_NE(render(a.finish(), Format::Text, options).find("Warning: thin"), std::string::npos);
}

TEST(Analyzer, BestEffortCallSitesAreNotAdvised) {
    Analyzer a;
    auto chmod_check = check(4, true, 1, "fchmodat");
    chmod_check.caller = "setattr_prepare";
    a.add(chmod_check);
    auto out = a.finish();
    ASSERT_EQ(out.size(), 1U);
    EXPECT_TRUE(out[0].add.empty());
    ASSERT_EQ(out[0].best_effort.count(4), 1U);
    EXPECT_NE(out[0].best_effort.at(4).find("setgid"), std::string::npos);
    // The same capability asked anywhere else (or nowhere known) is advised.
    auto elsewhere = check(4, true, 2, "fchmodat");
    elsewhere.caller = "some_required_site";
    a.add(elsewhere);
    out = a.finish();
    EXPECT_EQ(out[0].add, core::CapSet::of({4}));
    EXPECT_TRUE(out[0].best_effort.empty());
    Analyzer b;
    auto no_caller = check(4, true);
    no_caller.caller.clear();
    b.add(no_caller);
    EXPECT_EQ(b.finish()[0].add, core::CapSet::of({4}));
}

// execvp walking PATH: execve of /root/bin/ls fails for want of DAC_READ_SEARCH, then
// /usr/bin/ls runs. The failed probes are not evidence of need; a failed exec with no success
// after it is.
TEST(Analyzer, FailedExecProbesBeforeASuccessfulExecAreNotNeeded) {
    Analyzer a;
    a.add(check(2, false, 9, "execve"));
    a.add_result(9, -EACCES);
    auto before = a.finish();
    EXPECT_EQ(before[0].add, core::CapSet::of({2})) << "no exec seen yet: needed";
    a.add_exec(9, 1); // the tracer's "it exec'd" record
    auto after = a.finish();
    EXPECT_TRUE(after[0].add.empty());
    EXPECT_EQ(after[0].not_needed, core::CapSet::of({2}));
    EXPECT_EQ(after[0].evidence.at(2).denied_succeeded, 1U);
    // Other syscalls' failures stay evidence, exec or not.
    Analyzer b;
    b.add(check(2, false, 9, "openat"));
    b.add_result(9, -EACCES);
    b.add_exec(9, 1);
    EXPECT_EQ(b.finish()[0].add, core::CapSet::of({2}));
    // A shell's command search: the parent stats, its child execs.
    Analyzer c;
    c.add(check(2, false, 9, "newfstatat"));
    c.add_result(9, -EACCES);
    c.add_exec(10, 9);
    EXPECT_TRUE(c.finish()[0].add.empty());
    EXPECT_TRUE(parse_trace_line(R"({"type":"exec","pid":10,"ppid":9})", "host")->exec);
}

TEST(Replicas, PodsOfOneOwnerMergeIntoOneAdvice) {
    auto pod = [](std::string name, std::initializer_list<int> add,
                  std::initializer_list<int> not_needed) {
        GroupAdvice g;
        g.group = "shop/" + name + "/nginx";
        g.in_pod = true;
        g.k8s_namespace = "shop";
        g.owner = "Deployment/web";
        for (int c : add) {
            g.add.add(c);
            g.evidence[c].cap = c;
            g.evidence[c].allowed = 2;
        }
        for (int c : not_needed) {
            g.not_needed.add(c);
        }
        return g;
    };
    GroupAdvice host;
    host.group = "host";
    auto merged = merge_replicas({pod("web-1", {0, 18}, {}), host, pod("web-2", {18}, {0})});
    ASSERT_EQ(merged.size(), 2U);
    const GroupAdvice& w = merged[0];
    EXPECT_EQ(w.group, "shop/Deployment/web/nginx");
    EXPECT_EQ(w.replicas, (std::vector<std::string>{"shop/web-1/nginx", "shop/web-2/nginx"}));
    EXPECT_EQ(w.add, core::CapSet((1ULL << 0) | (1ULL << 18)));
    EXPECT_EQ(w.needed_by.at(0), 1U);
    EXPECT_EQ(w.needed_by.at(18), 2U);
    EXPECT_TRUE(w.not_needed.empty()); // one replica needed CHOWN: needed
    EXPECT_EQ(w.evidence.at(18).allowed, 4U);
    EXPECT_EQ(merged[1].group, "host");
    const auto json = nlohmann::json::parse(render(merged, Format::Json));
    EXPECT_EQ(json["shop/Deployment/web/nginx"]["neededBy"]["CHOWN"], 1);
    const auto k8s = render({w}, Format::K8s);
    EXPECT_NE(k8s.find("- name: \"nginx\""), std::string::npos) << k8s;
    EXPECT_NE(k8s.find("kubectl patch deployment/web -n shop"), std::string::npos) << k8s;
}

// Runs of one workload (advise --runs): a capability one run needed is needed, whatever another
// run did not reach; groups stay apart.
TEST(Replicas, RunsOfOneWorkloadMergeTheirNeeds) {
    GroupAdvice first;
    first.group = "sh";
    first.add.add(0);
    first.not_needed.add(18);
    GroupAdvice second = first;
    second.add = core::CapSet();
    second.add.add(18);
    second.not_needed = core::CapSet();
    GroupAdvice other;
    other.group = "host";
    auto merged = merge_runs({{first}, {second, other}});
    ASSERT_EQ(merged.size(), 2U);
    EXPECT_EQ(merged[0].group, "sh");
    EXPECT_TRUE(merged[0].add.contains(0));
    EXPECT_TRUE(merged[0].add.contains(18));
    EXPECT_FALSE(merged[0].not_needed.contains(18));
    EXPECT_TRUE(merged[0].replicas.empty());
    EXPECT_EQ(merged[1].group, "host");
}

} // namespace
} // namespace capwise::advise
