// The manifest reader (libyaml tree, typing, merges, hostile input), object discovery, and the
// three renderers of capwise lint.
#include "lint/fix_merge.hpp"
#include "lint/lint.hpp"
#include "lint/yaml_tree.hpp"
#include "output/lint_render.hpp"
#include "support/temp_dir.hpp"

#include <filesystem>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace capwise::lint {
namespace {

std::vector<YamlDocument> parse(std::string_view text, YamlLimits limits = {}) {
    std::vector<YamlDocument> docs;
    parse_yaml_stream(text, limits, [&](YamlDocument&& d) { docs.push_back(std::move(d)); });
    return docs;
}

const YamlNode& value(const YamlDocument& doc, std::string_view key) {
    const YamlNode* node = doc.root->find(key);
    EXPECT_NE(node, nullptr) << key;
    return *node;
}

TEST(YamlTree, ScalarsAreTypedAsKubernetesReadsThem) {
    auto docs = parse("a: yes\nb: \"true\"\nc: 0x10\nd: 010\ne: 1_000\nf: 0.0\ng: 1.5\nh: ~\n"
                      "i: !!str 0\nj: Off\nk: 8080\nl: '8080'\nm: 9223372036854775808\n");
    ASSERT_EQ(docs.size(), 1U);
    const auto& d = docs[0];
    EXPECT_EQ(scalar_bool(value(d, "a")), true);
    EXPECT_EQ(scalar_bool(value(d, "b")), std::nullopt); // quoted: a string
    EXPECT_EQ(scalar_string(value(d, "b")), "true");
    EXPECT_EQ(scalar_int(value(d, "c")), 16);
    EXPECT_EQ(scalar_int(value(d, "d")), 8);
    EXPECT_EQ(scalar_int(value(d, "e")), 1000);
    EXPECT_EQ(scalar_int(value(d, "f")), 0); // becomes JSON 0 on its way to the API server
    EXPECT_EQ(scalar_int(value(d, "g")), std::nullopt);
    EXPECT_TRUE(value(d, "h").is_null());
    EXPECT_EQ(scalar_int(value(d, "i")), std::nullopt);
    EXPECT_EQ(scalar_string(value(d, "i")), "0");
    EXPECT_EQ(scalar_bool(value(d, "j")), false);
    EXPECT_EQ(scalar_string(value(d, "k")), std::nullopt); // a number is not a string field
    EXPECT_EQ(scalar_string(value(d, "l")), "8080");
    EXPECT_EQ(scalar_int(value(d, "m")), std::nullopt); // overflows int64
}

TEST(YamlTree, MergeKeysDuplicatesAndLines) {
    auto docs = parse("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n  z: 4\n  z: 5\n");
    ASSERT_EQ(docs.size(), 1U);
    const YamlNode& m = value(docs[0], "m");
    EXPECT_EQ(scalar_int(*m.find("x")), 1);
    EXPECT_EQ(scalar_int(*m.find("y")), 3); // the mapping's own key beats the merged one
    EXPECT_EQ(scalar_int(*m.find("z")), 5); // duplicates: the last wins, as JSON decoding does
    ASSERT_EQ(docs[0].warnings.size(), 1U);
    EXPECT_EQ(docs[0].warnings[0].line, 6);
    EXPECT_EQ(m.find("z")->line, 6);
}

TEST(YamlTree, AliasesShareNodesSoBombsStayLinear) {
    std::string text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
    char prev = 'a';
    for (char c = 'b'; c <= 'z'; ++c) {
        text += std::string(1, c) + ": &" + c + " [";
        for (int i = 0; i < 10; ++i) {
            text += std::string(i ? ", *" : "*") + prev;
        }
        text += "]\n";
        prev = c;
    }
    auto docs = parse(text); // 10^26 leaves if expanded
    ASSERT_EQ(docs.size(), 1U);
    EXPECT_FALSE(docs[0].error);
    EXPECT_LT(docs[0].nodes->size(), 1000U);
}

TEST(YamlTree, MergeChainsStayLinear) {
    std::string text = "m0: &m0 {k: v}\n";
    for (int i = 1; i < 60; ++i) {
        text += "m" + std::to_string(i) + ": &m" + std::to_string(i) + " {<<: [*m" +
                std::to_string(i - 1) + ", *m" + std::to_string(i - 1) + "]}\n";
    }
    auto docs = parse(text);
    ASSERT_EQ(docs.size(), 1U);
    EXPECT_EQ(scalar_string(*value(docs[0], "m59").find("k")), "v");
}

TEST(YamlTree, ErrorsEndOnlyTheirDocument) {
    auto docs = parse("a: 1\n---\nb: [1, 2\nc: 3\n---\nd: 4\n---\ne: *nowhere\n---\nf: 5\n");
    ASSERT_EQ(docs.size(), 5U);
    EXPECT_FALSE(docs[0].error);
    ASSERT_TRUE(docs[1].error);
    EXPECT_GE(docs[1].error->line, 3);
    EXPECT_EQ(scalar_int(value(docs[2], "d")), 4);
    ASSERT_TRUE(docs[3].error);
    EXPECT_NE(docs[3].error->message.find("nowhere"), std::string::npos);
    EXPECT_EQ(docs[3].error->line, 8);
    EXPECT_EQ(scalar_int(value(docs[4], "f")), 5);
    EXPECT_EQ(value(docs[4], "f").line, 10);
}

TEST(YamlTree, LimitsOnNestingAndSize) {
    auto deep = parse(std::string(100000, '[') + std::string(100000, ']'));
    ASSERT_EQ(deep.size(), 1U);
    ASSERT_TRUE(deep[0].error);
    EXPECT_NE(deep[0].error->message.find("nesting"), std::string::npos);
    YamlLimits small;
    small.max_nodes = 10;
    auto wide = parse("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]", small);
    ASSERT_TRUE(wide[0].error);
    EXPECT_NE(wide[0].error->message.find("nodes"), std::string::npos);
    auto self = parse("a: &a [*a]\n");
    ASSERT_TRUE(self[0].error); // a node cannot contain itself
}

TEST(YamlTree, JsonWithTabsAndEmptyDocuments) {
    auto docs = parse("{\n\t\"kind\": \"Pod\",\n\t\"spec\": {\"x\":1}\n}\n");
    ASSERT_EQ(docs.size(), 1U);
    ASSERT_FALSE(docs[0].error) << docs[0].error->message;
    EXPECT_EQ(scalar_string(value(docs[0], "kind")), "Pod");
    EXPECT_EQ(value(docs[0], "spec").line, 3);
    auto empty = parse("---\n---\n# only a comment\n");
    for (const auto& d : empty) {
        EXPECT_TRUE(d.root == nullptr || d.root->is_null());
    }
    EXPECT_TRUE(parse("").empty());
    auto binary = parse(std::string("a: \x01\xff\n---\nb: 1\n", 14));
    ASSERT_EQ(binary.size(), 2U);
    EXPECT_TRUE(binary[0].error);
    EXPECT_FALSE(binary[1].error);
}

LintReport lint(std::string_view text, LintOptions options = {}) {
    LintReport report;
    lint_text("t.yaml", text, options, report);
    return report;
}

TEST(Lint, WrongTypesAreFindingsAndTheRestIsStillLinted) {
    auto report = lint("kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n"
                       "    securityContext:\n      capabilities: {add: SYS_ADMIN}\n"
                       "      runAsUser: \"0\"\n---\nkind: Pod\nmetadata: {name: q}\n"
                       "spec: {containers: [{name: d}]}\n");
    ASSERT_EQ(report.results.size(), 2U);
    int invalid = 0;
    for (const auto& f : report.results[0].findings) {
        if (f.id == "invalid-field") {
            ++invalid;
            EXPECT_TRUE(f.line == 7 || f.line == 8) << f.message;
        }
    }
    EXPECT_EQ(invalid, 2);
    EXPECT_EQ(report.results[1].name, "q");
    EXPECT_TRUE(report.errors.empty());
}

TEST(Lint, ObjectsWithoutPodsAreSkippedWithAReason) {
    auto report = lint("kind: ConfigMap\nmetadata: {name: cm}\n---\n[1, 2]\n---\nfoo: bar\n"
                       "---\nkind: Widget\nspec: {}\n");
    EXPECT_TRUE(report.results.empty());
    ASSERT_EQ(report.skipped.size(), 4U);
    EXPECT_NE(report.skipped[1].reason.find("a list"), std::string::npos);
    EXPECT_NE(report.skipped[2].reason.find("no kind"), std::string::npos);
    EXPECT_NE(report.skipped[3].reason.find("Widget"), std::string::npos);
}

TEST(Lint, SeverityNames) {
    EXPECT_EQ(parse_severity("HIGH").value(), Severity::High);
    EXPECT_FALSE(parse_severity("severe").ok());
}

TEST(LintPath, DirectoriesSkipSymlinksAndOtherFiles) {
    testing::TempDir outside;
    outside.write("secret.yaml",
                  "kind: Pod\nmetadata: {name: outside}\nspec: {containers: [{name: c}]}\n");
    testing::TempDir tree;
    tree.write("a/pod.yaml",
               "kind: Pod\nmetadata: {name: inside}\nspec: {containers: [{name: c}]}\n");
    tree.write("a/readme.md", "kind: Pod\n");
    tree.write("b/broken.yml", "kind: [\n");
    std::filesystem::create_symlink(outside / "secret.yaml", tree / "a/link.yaml");
    std::filesystem::create_directory_symlink(outside.path(), tree / "dirlink");
    LintReport report;
    lint_path(tree.path().string(), LintOptions{}, report);
    ASSERT_EQ(report.results.size(), 1U);
    EXPECT_EQ(report.results[0].name, "inside");
    EXPECT_EQ(report.files, 2U);
    ASSERT_EQ(report.errors.size(), 1U);
    EXPECT_NE(report.errors[0].message.find("broken.yml:2"), std::string::npos)
        << report.errors[0].message;
}

TEST(LintPath, UnreadableAndHugeFilesAreErrors) {
    testing::TempDir dir;
    LintReport report;
    lint_path((dir / "missing.yaml").string(), LintOptions{}, report);
    ASSERT_EQ(report.errors.size(), 1U);
    EXPECT_NE(report.errors[0].message.find("No such file"), std::string::npos);
    auto big = dir.write("big.yaml", "");
    ASSERT_EQ(::truncate(big.c_str(), static_cast<off_t>(kMaxManifestBytes + 1)), 0);
    lint_path(big.string(), LintOptions{}, report);
    ASSERT_EQ(report.errors.size(), 2U);
    EXPECT_NE(report.errors[1].message.find("larger than"), std::string::npos);
}

const char* kTwoContainers =
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n"
    "  hostNetwork: true\n  containers:\n  - name: a\n    image: x\n"
    "    securityContext: {capabilities: {drop: [ALL], add: [SYS_ADMIN]}}\n"
    "  - name: b\n    image: x\n";

TEST(LintRender, JsonHasTheContractFields) {
    auto report = lint(kTwoContainers);
    auto text = output::render_lint(report, output::LintFormat::JsonLines, LintOptions{},
                                    Severity::High, false, output::Style(false));
    auto json = nlohmann::json::parse(text);
    ASSERT_EQ(json["results"].size(), 2U);
    const auto& a = json["results"][0];
    for (const char* field :
         {"file", "kind", "name", "container", "effective", "pss", "findings"}) {
        EXPECT_TRUE(a.contains(field)) << field;
    }
    EXPECT_EQ(a["effective"], nlohmann::json({"SYS_ADMIN"}));
    EXPECT_EQ(a["pss"], "privileged");
    for (const auto& f : a["findings"]) {
        for (const char* field : {"id", "severity", "message", "line"}) {
            EXPECT_TRUE(f.contains(field)) << field;
        }
    }
    // hostNetwork is one pod-level finding, counted once although both containers carry it.
    EXPECT_TRUE(json["summary"]["failed"].get<bool>());
    std::size_t host_ns = 0;
    for (const auto& r : json["results"]) {
        for (const auto& f : r["findings"]) {
            host_ns += f["id"] == "pss/hostNamespaces" ? 1 : 0;
        }
    }
    EXPECT_EQ(host_ns, 2U);
    EXPECT_EQ(json["summary"]["findings"]["critical"], 1); // SYS_ADMIN
}

TEST(LintRender, SarifIsWellFormed) {
    auto report = lint(kTwoContainers);
    report.errors.push_back(LintError{"t.yaml", 1, 3, "t.yaml:3: bad"});
    auto sarif =
        nlohmann::json::parse(output::render_lint(report, output::LintFormat::Sarif, LintOptions{},
                                                  Severity::High, false, output::Style(false)));
    EXPECT_EQ(sarif["version"], "2.1.0");
    const auto& run = sarif["runs"][0];
    const auto& rules = run["tool"]["driver"]["rules"];
    ASSERT_EQ(rules.size(), lint::rules().size());
    std::size_t host_ns = 0;
    for (const auto& r : run["results"]) {
        ASSERT_TRUE(r.contains("ruleIndex"));
        EXPECT_EQ(rules[r["ruleIndex"].get<std::size_t>()]["id"], r["ruleId"]);
        EXPECT_GE(r["locations"][0]["physicalLocation"]["region"]["startLine"].get<int>(), 1);
        host_ns += r["ruleId"] == "pss/hostNamespaces" ? 1 : 0;
    }
    EXPECT_EQ(host_ns, 1U);
    EXPECT_FALSE(run["invocations"][0]["executionSuccessful"].get<bool>());
    auto empty = nlohmann::json::parse(output::render_lint(LintReport{}, output::LintFormat::Sarif,
                                                           LintOptions{}, Severity::High, false,
                                                           output::Style(false)));
    EXPECT_TRUE(empty["runs"][0]["results"].empty());
}

TEST(LintRender, TextGroupsByObjectWithLines) {
    auto report = lint(kTwoContainers);
    auto text = output::render_lint(report, output::LintFormat::Text, LintOptions{}, Severity::High,
                                    true, output::Style(false));
    EXPECT_NE(text.find("t.yaml:1: Pod shop/web"), std::string::npos) << text;
    EXPECT_NE(text.find("container a (line 7)  effective: SYS_ADMIN"), std::string::npos) << text;
    EXPECT_NE(text.find("t.yaml:5"), std::string::npos); // hostNetwork's line
    EXPECT_EQ(text.find("pss/hostNamespaces"), text.rfind("pss/hostNamespaces")); // once
    EXPECT_NE(text.find("1 object (0 without a pod spec), 2 containers"), std::string::npos);
}

} // namespace
} // namespace capwise::lint

namespace capwise::lint {
namespace {

Finding fix_finding(std::string id, Severity s, std::string fix, std::string path = "c[0]") {
    Finding f;
    f.id = std::move(id);
    f.severity = s;
    f.fix = std::move(fix);
    f.path = std::move(path);
    return f;
}

// Fixes that would undo each other become one: adds intersect (a fix without an add list has
// no say), drops and other lists unite, comments stay, a conflict is said and the worst wins.
TEST(FixMerge, OneFixPerPlaceThatNeverUndoesAnother) {
    const std::vector<Finding> findings{
        fix_finding(
            "dangerous-capability", Severity::Critical,
            "securityContext:\n  capabilities:\n    drop: [ALL]\n    add: [NET_BIND_SERVICE]\n"),
        fix_finding("cap-name-prefix", Severity::Medium,
                    "securityContext:\n  capabilities:\n    drop: [ALL]\n"
                    "    add: [NET_BIND_SERVICE, SYS_ADMIN]\n"),
        fix_finding("pss/capabilities_restricted", Severity::Low,
                    "securityContext:\n  capabilities:\n    drop: [ALL]\n"),
        fix_finding("privilege-escalation", Severity::Low,
                    "securityContext:\n  allowPrivilegeEscalation: false\n"),
        fix_finding("pss/runAsUser", Severity::Low, "securityContext:\n  runAsUser: 1000\n"),
        fix_finding("other", Severity::Info, "securityContext:\n  runAsUser: 2000\n"),
        fix_finding("pss/sysctls", Severity::High,
                    "# remove kernel.x from securityContext.sysctls\n", "pod"),
        fix_finding("pss/hostPorts", Severity::High, "ports:\n- containerPort: 80\n"),
    };
    const auto merged = merge_fixes(findings);
    ASSERT_EQ(merged.size(), 2U);
    EXPECT_EQ(merged[0].path, "c[0]");
    EXPECT_EQ(merged[0].yaml, "securityContext:\n  capabilities:\n    drop: [ALL]\n"
                              "    add: [NET_BIND_SERVICE]\n  allowPrivilegeEscalation: false\n"
                              "  runAsUser: 1000\nports:\n- containerPort: 80\n");
    EXPECT_EQ(merged[0].resolves.size(), 7U);
    ASSERT_EQ(merged[0].conflicts.size(), 1U);
    EXPECT_NE(merged[0].conflicts[0].find("1000 kept over 2000"), std::string::npos);
    EXPECT_EQ(merged[1].yaml, "# remove kernel.x from securityContext.sysctls\n");
    // A trace's needs decide the add list.
    const auto traced = merge_fixes(findings, std::vector<std::string>{"SYS_ADMIN"});
    EXPECT_NE(traced[0].yaml.find("add: [SYS_ADMIN]\n"), std::string::npos) << traced[0].yaml;
}

// Hostile names inside fixes (an annotation key, a volume name) come out quoted, and the
// merged fix is YAML that reads back; a fix that is not YAML is kept verbatim, apart.
TEST(FixMerge, HostileNamesStayDataAndBrokenFixesAreKeptApart) {
    const std::vector<Finding> findings{
        fix_finding("pss/appArmorProfile", Severity::High,
                    "metadata:\n  annotations:\n    \"a: b #c\": runtime/default\n"),
        fix_finding("pss/restrictedVolumes", Severity::Low,
                    "volumes:\n- name: \"x\\ny: [z]\"\n  emptyDir: {}\n"),
        fix_finding("broken", Severity::Low, "a: [\n"),
    };
    const auto merged = merge_fixes(findings);
    ASSERT_EQ(merged.size(), 1U);
    EXPECT_EQ(merged[0].by_hand, std::vector<std::string>{"a: [\n"});
    bool ok = false;
    parse_yaml_stream(merged[0].yaml, YamlLimits{}, [&](YamlDocument&& doc) {
        ASSERT_FALSE(doc.error) << doc.error->message << "\n" << merged[0].yaml;
        ASSERT_NE(doc.root, nullptr);
        const auto* ann = doc.root->find("metadata")->find("annotations");
        ASSERT_NE(ann, nullptr);
        EXPECT_NE(ann->find("a: b #c"), nullptr) << merged[0].yaml;
        const auto* vol = doc.root->find("volumes");
        ASSERT_TRUE(vol != nullptr && vol->is_sequence());
        EXPECT_EQ(vol->items[0]->find("name")->value, "x\ny: [z]");
        ok = true;
    });
    EXPECT_TRUE(ok);
}

// lint's text output: one merged fix per container, and --min-severity hides without
// forgetting (counts and the exit status see every finding).
TEST(LintRender, MergedFixAndMinimumSeverity) {
    LintReport report;
    lint_text("api.yaml",
              "apiVersion: v1\nkind: Pod\nmetadata: {name: api}\nspec:\n  containers:\n"
              "  - name: api\n    image: x\n    securityContext:\n      capabilities:\n"
              "        add: [CAP_NET_BIND_SERVICE, SYS_ADMIN]\n",
              LintOptions{}, report);
    std::string out;
    output::LintWriter writer(output::LintFormat::Text, LintOptions{}, Severity::Critical, false,
                              output::Style(false), "test",
                              [&](std::string_view chunk) { out += chunk; });
    writer.set_min_severity(Severity::High);
    for (const auto& r : report.results) {
        writer.add(r);
    }
    writer.finish(report);
    EXPECT_NE(out.find("merged fix (at spec.containers[0]; resolves dangerous-capability, "
                       "pss/capabilities_baseline)"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("      add: [NET_BIND_SERVICE]\n"), std::string::npos) << out;
    EXPECT_EQ(out.find("missing-drop-all"), std::string::npos); // medium: not shown
    EXPECT_NE(out.find("1 critical, 1 high, 3 medium, 5 low, 0 info; 8 below high not shown"),
              std::string::npos)
        << out;
    EXPECT_TRUE(writer.failed()); // the critical finding
}

} // namespace
} // namespace capwise::lint
