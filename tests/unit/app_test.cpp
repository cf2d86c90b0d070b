// The application layer's flows, run without the CLI: typed requests in, advice, warnings, pages
// and exit statuses out.
#include "app/advise.hpp"
#include "app/plugin.hpp"
#include "app/profile_files.hpp"
#include "app/trace.hpp"
#include "core/scratch_dir.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>

namespace capwise::app {
namespace {

// Lines as `capwise trace -o json --syscall-results` writes them: shop/web/nginx needed CHOWN
// (allowed) and SYS_CHROOT (denied, and its chroot failed).
const std::vector<std::string> kRecords = {
    R"({"pid":5,"tid":6,"cap":0,"capName":"CHOWN","verdict":"Allow","audit":1,"syscall":"fchownat",)"
    R"("uid":0,"k8s":{"namespace":"shop","podName":"web-1","containerName":"nginx"}})",
    R"({"pid":5,"tid":6,"cap":18,"verdict":"Deny","audit":1,"syscall":"chroot","uid":0,)"
    R"("k8s":{"namespace":"shop","podName":"web-1","containerName":"nginx"}})",
    R"({"type":"syscallResult","tid":6,"ret":-1})",
};

struct Heard {
    std::vector<std::string> lines;
    Control control() {
        Control c;
        c.notice = [this](const std::string& line) { lines.push_back(line); };
        c.take_stop = [] { return 0; };
        c.stop_pending = [] { return false; };
        return c;
    }
};

AdviseRequest recorded() {
    AdviseRequest r;
    r.records = kRecords;
    return r;
}

TEST(AdviseFlow, FormatsParsedOnceEachAndUnknownOnesAreUsageErrors) {
    auto f = parse_formats({"k8s", "json", "k8s"});
    ASSERT_TRUE(f);
    EXPECT_EQ(*f, (std::vector<advise::Format>{advise::Format::K8s, advise::Format::Json}));
    auto bad = parse_formats({"yaml2"});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().status, kExitUsage);
}

TEST(AdviseFlow, ContradictoryRequestsAreRefusedBeforeAnythingRuns) {
    auto status_of = [](const AdviseRequest& r) {
        auto checked = check_advise_request(r);
        return checked ? 0 : checked.error().status;
    };
    AdviseRequest none;
    EXPECT_EQ(status_of(none), kExitUsage); // no evidence at all
    AdviseRequest two = recorded();
    two.bundle = "/nonexistent";
    EXPECT_EQ(status_of(two), kExitUsage);
    AdviseRequest verify = recorded();
    verify.verify = true; // recorded evidence cannot be re-run
    EXPECT_EQ(status_of(verify), kExitUsage);
    AdviseRequest profile = recorded();
    profile.command = std::vector<std::string>{"true"};
    profile.records.clear();
    profile.formats = {advise::Format::Seccomp}; // a profile without recording system calls
    EXPECT_EQ(status_of(profile), kExitUsage);
    AdviseRequest name = recorded();
    name.container = "My_App";
    auto named = check_advise_request(name);
    ASSERT_FALSE(named);
    EXPECT_NE(named.error().message.find("'my-app'"), std::string::npos) << named.error().message;
    AdviseRequest live;
    live.containers.name = "web";
    live.can_interrupt = false; // no terminal and no time limit: it would never end
    EXPECT_EQ(status_of(live), kExitUsage);
    AdviseRequest page;
    page.report = true;
    page.manifests = {"deploy/"};
    EXPECT_EQ(status_of(page), 0); // a report of manifests alone needs no evidence
    page.advice_format = advise::Format::Html;
    EXPECT_EQ(status_of(page), kExitUsage);
}

TEST(AdviseFlow, RecordsInMemoryGiveTheAdviceAndSkippedLinesAreSaid) {
    Heard heard;
    AdviseRequest r = recorded();
    r.records.push_back("not a trace event");
    auto result = advise(r, heard.control());
    ASSERT_TRUE(result) << result.error().message;
    ASSERT_EQ(result->advice.size(), 1U);
    EXPECT_EQ(result->advice[0].add, core::CapSet::of({0, 18}));
    EXPECT_EQ(result->status, 0);
    EXPECT_FALSE(result->html);
    ASSERT_EQ(heard.lines.size(), 1U);
    EXPECT_NE(heard.lines[0].find("1 input lines were not trace events"), std::string::npos);
    const std::string text = render_advice(r, *result);
    EXPECT_NE(text.find("SYS_CHROOT"), std::string::npos) << text;
}

TEST(AdviseFlow, PartialEvidenceIsExitFourUnlessAccepted) {
    Heard heard;
    AdviseRequest r = recorded();
    r.partial_warnings = {"no evidence: pod shop/web-2 on node n2: no snapshot"};
    auto result = advise(r, heard.control());
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, kExitPartial);
    ASSERT_TRUE(result->status_note);
    EXPECT_EQ(result->render_options.warnings, r.partial_warnings);
    r.accept_partial = true;
    auto accepted = advise(r, heard.control());
    ASSERT_TRUE(accepted);
    EXPECT_EQ(accepted->status, 0);
    EXPECT_FALSE(accepted->status_note);
}

TEST(AdviseFlow, AnUnknownCapabilityStopsTheAdviceWithWhereItWas) {
    Heard heard;
    AdviseRequest r;
    r.records = {R"({"cap":99,"pid":1,"verdict":"Allow"})"};
    auto result = advise(r, heard.control());
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().status, kExitFailure);
    EXPECT_EQ(result.error().message.rfind("agent records:1:", 0), 0U) << result.error().message;
}

TEST(AdviseFlow, SeccompWithoutRecordingsSaysHowToGetThem) {
    Heard heard;
    AdviseRequest r = recorded();
    r.seccomp = true;
    r.seccomp_hint = "deploy the agents with --seccomp";
    auto result = advise(r, heard.control());
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().message.find("deploy the agents with --seccomp"), std::string::npos);
}

TEST(AdviseFlow, AReportOfManifestsAloneIsWrittenWhole) {
    auto dir = core::ScratchDir::make("capwise-app-test");
    ASSERT_TRUE(dir);
    const std::string manifest = dir->path() + "/pod.yaml";
    std::ofstream(manifest) << "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
                               "  containers:\n  - name: c\n    image: x\n    securityContext:\n"
                               "      capabilities: {add: [SYS_ADMIN]}\n";
    Heard heard;
    AdviseRequest r;
    r.report = true;
    r.manifests = {manifest};
    r.report_path = dir->path() + "/page.html";
    auto result = advise(r, heard.control());
    ASSERT_TRUE(result) << result.error().message;
    ASSERT_TRUE(result->html);
    EXPECT_EQ(result->report_path, r.report_path);
    std::ifstream in(r.report_path);
    const std::string written((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(written, *result->html);
    EXPECT_NE(written.find("SYS_ADMIN"), std::string::npos);
    // A manifest path with nothing to read is an error, never a clean-looking page.
    r.manifests = {dir->path() + "/empty"};
    std::filesystem::create_directory(r.manifests[0]);
    auto empty = advise(r, heard.control());
    ASSERT_FALSE(empty);
    EXPECT_NE(empty.error().message.find("no manifest"), std::string::npos);
}

TEST(AdviseFlow, TwoProfilesForOneFileAreRefused) {
    auto dir = core::ScratchDir::make("capwise-app-test");
    ASSERT_TRUE(dir);
    std::vector<advise::GroupAdvice> advice(2);
    for (auto& g : advice) {
        g.group = "g";
        g.seccomp.emplace();
        g.seccomp->file_name = "capwise-g.json";
    }
    advice[1].seccomp->profile.default_action = "SCMP_ACT_KILL";
    Heard heard;
    auto written = write_profiles(dir->path(), advice, heard.control());
    ASSERT_FALSE(written);
    EXPECT_NE(written.error().message.find("two different profiles"), std::string::npos);
    advice.pop_back();
    auto once = write_profiles(dir->path(), advice, heard.control());
    ASSERT_TRUE(once);
    EXPECT_EQ(*once, std::vector<std::string>{dir->path() + "/capwise-g.json"});
}

TEST(TraceFlow, ContradictoryRequestsAreUsageErrors) {
    auto status_of = [](const TraceRequest& r) {
        auto checked = check_trace_request(r);
        return checked ? 0 : checked.error().status;
    };
    TraceRequest both;
    both.command = std::vector<std::string>{"true"};
    both.options.pids = {1};
    EXPECT_EQ(status_of(both), kExitUsage);
    TraceRequest seccomp_host;
    seccomp_host.seccomp = true;
    seccomp_host.host = true;
    EXPECT_EQ(status_of(seccomp_host), kExitUsage);
    TraceRequest user;
    user.user = "nobody";
    EXPECT_EQ(status_of(user), kExitUsage);
    TraceRequest empty;
    empty.command = std::vector<std::string>{};
    EXPECT_EQ(status_of(empty), kExitUsage);
    TraceRequest fine;
    fine.command = std::vector<std::string>{"true"};
    EXPECT_EQ(status_of(fine), 0);
}

TEST(PluginFlow, DeployRefusesWhatCouldEndItsScalar) {
    DeployRequest r;
    r.manifest.image = "registry.example/capwise:0.1.0";
    auto yaml = deploy_manifests(r);
    ASSERT_TRUE(yaml);
    EXPECT_NE(yaml->find("namespace: capwise"), std::string::npos);
    r.json = true;
    auto json = deploy_manifests(r);
    ASSERT_TRUE(json);
    EXPECT_EQ(json->front(), '{');
    r.manifest.image = "x\n  privileged: true";
    auto bad = deploy_manifests(r);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().status, kExitUsage);
    r.manifest.image = "x";
    r.agent_ns = "Capwise";
    EXPECT_FALSE(deploy_manifests(r));
}

} // namespace
} // namespace capwise::app
