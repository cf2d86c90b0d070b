// The lint fixtures under tests/fixtures/lint state their own expectations in comments:
//   # expect-effective: <runtime> <object>/<container> <NAMES|ALL|ALL-X|->
//   # expect-bounding:  <runtime> <object>/<container> <NAMES|ALL|ALL-X|->
//   # expect-finding:   <runtime>[+restricted] <object>/<container> <id> [severity]
//   # expect-no-finding: <runtime> <object>/<container> <id>
//   # expect-pss:       <runtime> <object> <privileged|baseline|restricted>
// Each runtime named is linted separately; every expectation is checked.
#include "lint/lint.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <sstream>

namespace capwise::lint {
namespace {

struct Expectation {
    std::string kind, runtime, target, value, severity;
    int line = 0;
};

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<Expectation> expectations(const std::string& text) {
    std::vector<Expectation> out;
    std::istringstream in(text);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.rfind("# expect-", 0) != 0 || line.find('<') != std::string::npos) {
            continue;
        }
        Expectation e;
        e.line = number;
        const auto colon = line.find(':');
        e.kind = line.substr(2, colon - 2);
        std::istringstream fields(line.substr(colon + 1));
        fields >> e.runtime >> e.target >> e.value >> e.severity;
        out.push_back(e);
    }
    return out;
}

std::set<std::string> expand(const std::string& spec) {
    std::set<std::string> out;
    if (spec == "-") {
        return out;
    }
    if (spec.rfind("ALL", 0) == 0) {
        for (const auto& n : core::k8s_names(core::CapSet::all_up_to(core::kLastKnownCap))) {
            out.insert(n);
        }
        if (spec.size() > 4) {
            out.erase(spec.substr(4));
        }
        return out;
    }
    std::stringstream ss(spec);
    std::string name;
    while (std::getline(ss, name, ',')) {
        out.insert(name);
    }
    return out;
}

std::set<std::string> names(core::CapSet set) {
    auto v = core::k8s_names(set);
    return {v.begin(), v.end()};
}

void check_fixture(const std::string& file) {
    const std::string text = slurp(std::string(CAPWISE_FIXTURES) + "/lint/" + file);
    ASSERT_FALSE(text.empty()) << file;
    const auto all = expectations(text);
    ASSERT_FALSE(all.empty()) << file;
    std::map<std::string, LintReport> reports;
    for (const auto& e : all) {
        if (reports.count(e.runtime) != 0) {
            continue;
        }
        LintOptions options;
        // "# seccomp-dir: DIR": Localhost profiles are read beneath fixtures/lint/DIR.
        if (auto at = text.find("# seccomp-dir: "); at != std::string::npos) {
            const auto start = at + std::string("# seccomp-dir: ").size();
            options.seccomp_dir = std::string(CAPWISE_FIXTURES) + "/lint/" +
                                  text.substr(start, text.find('\n', start) - start);
        }
        std::string runtime = e.runtime;
        if (auto plus = runtime.find('+'); plus != std::string::npos) {
            options.pss = core::PssLevel::Restricted;
            runtime = runtime.substr(0, plus);
        }
        auto parsed = core::parse_runtime(runtime);
        ASSERT_TRUE(parsed.ok()) << runtime;
        options.runtime = *parsed;
        LintReport report;
        lint_text(file, text, options, report);
        EXPECT_TRUE(report.errors.empty()) << report.errors.front().message;
        reports.emplace(e.runtime, std::move(report));
    }
    for (const auto& e : all) {
        const LintReport& report = reports.at(e.runtime);
        const std::string where = file + ":" + std::to_string(e.line) + " (" + e.runtime + ")";
        if (e.kind == "expect-pss") {
            bool found = false;
            for (const auto& r : report.results) {
                if (r.name == e.target) {
                    found = true;
                    EXPECT_EQ(core::pss_level_name(r.pss), e.value) << where;
                }
            }
            EXPECT_TRUE(found) << where << ": no object " << e.target;
            continue;
        }
        const ContainerResult* result = nullptr;
        for (const auto& r : report.results) {
            if (r.name + "/" + r.container == e.target) {
                result = &r;
            }
        }
        ASSERT_NE(result, nullptr) << where << ": no container " << e.target;
        if (e.kind == "expect-effective") {
            EXPECT_EQ(names(result->caps.effective), expand(e.value)) << where;
        } else if (e.kind == "expect-bounding") {
            EXPECT_EQ(names(result->caps.bounding), expand(e.value)) << where;
        } else if (e.kind == "expect-finding" || e.kind == "expect-no-finding") {
            const Finding* hit = nullptr;
            for (const auto& f : result->findings) {
                if (f.id == e.value) {
                    hit = &f;
                    if (e.severity.empty() || severity_name(f.severity) == e.severity) {
                        break;
                    }
                }
            }
            if (e.kind == "expect-no-finding") {
                EXPECT_EQ(hit, nullptr) << where << ": " << hit->message;
                continue;
            }
            ASSERT_NE(hit, nullptr) << where << ": no " << e.value;
            if (!e.severity.empty()) {
                EXPECT_EQ(severity_name(hit->severity), e.severity)
                    << where << ": " << hit->message;
            }
            EXPECT_GT(hit->line, 0) << where;
            EXPECT_FALSE(hit->message.empty()) << where;
        } else {
            ADD_FAILURE() << where << ": unknown expectation " << e.kind;
        }
    }
}

TEST(LintFixtures, EffectiveSetsPerRuntimeAndUser) {
    check_fixture("effective.yaml");
}
TEST(LintFixtures, EveryRule) {
    check_fixture("rules.yaml");
}
TEST(LintFixtures, EveryPodSecurityOutcome) {
    check_fixture("pss.yaml");
}
TEST(LintFixtures, OpenShiftSecurityContextConstraints) {
    check_fixture("scc.yaml");
}
TEST(LintFixtures, PodBearingKinds) {
    check_fixture("kinds.yaml");
}
TEST(LintFixtures, LocalhostSeccompProfiles) {
    check_fixture("seccomp.yaml");
}

// Every rule capwise can report has a fixture that triggers it.
TEST(LintFixtures, EveryRuleHasAFixture) {
    std::string all;
    for (const char* file :
         {"effective.yaml", "rules.yaml", "pss.yaml", "scc.yaml", "kinds.yaml", "seccomp.yaml"}) {
        all += slurp(std::string(CAPWISE_FIXTURES) + "/lint/" + file);
    }
    for (const auto& rule : rules()) {
        EXPECT_NE(all.find(" " + std::string(rule.id) + " "), std::string::npos)
            << "no fixture expects " << rule.id;
    }
}

} // namespace
} // namespace capwise::lint
