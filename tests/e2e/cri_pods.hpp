// Real pods for the agent's tests: a private containerd with its CRI plugin started for one test
// (tests/e2e/cri/containerd.sh) and pods made on it over CRI as a kubelet makes them (cri.py), and
// the agent run on the host as its DaemonSet runs it. Each stops everything it started when the
// test ends, also when it fails.
#pragma once

#include "e2e/run.hpp"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace capwise::e2e {

namespace cri_fs = std::filesystem;
using CriJson = nlohmann::json;

inline const std::string kCri = std::string(CAPWISE_SOURCE_DIR) + "/tests/e2e/cri";
inline const std::string kImage = "localhost/capwise-busybox:e2e";

// A private containerd for one test, stopped with everything it started when the test ends,
// also when it fails.
class Containerd {
  public:
    explicit Containerd(const cri_fs::path& dir) : dir_(dir.string()) {
        auto r = run({"bash", kCri + "/containerd.sh", "start", dir_}, 240);
        started_ = r.status == 0;
        EXPECT_TRUE(started_) << r.out << r.err;
        socket_ = dir_ + "/containerd.sock";
    }
    ~Containerd() { run({"bash", kCri + "/containerd.sh", "stop", dir_}, 120); }
    Containerd(const Containerd&) = delete;
    Containerd& operator=(const Containerd&) = delete;
    bool started() const { return started_; }

    // Runs a scenario (see cri.py) to its end: one JSON object per container run.
    std::vector<CriJson> run_pods(const CriJson& scenario, int timeout_s = 600) const {
        const std::string file = dir_ + "/scenario.json";
        std::ofstream(file) << scenario.dump();
        auto r = run({"/usr/bin/python3", kCri + "/cri.py", socket_, file}, timeout_s);
        EXPECT_EQ(r.status, 0) << r.err;
        std::vector<CriJson> out;
        for (const auto& line : lines(r.out)) {
            out.push_back(CriJson::parse(line, nullptr, false));
        }
        return out;
    }

  private:
    std::string dir_, socket_;
    bool started_ = false;
};

// The agent on the host, as its DaemonSet runs it, stopped with SIGTERM (its final state written).
class HostAgent {
  public:
    explicit HostAgent(const cri_fs::path& dir, const std::string& node = "cri-node",
                       bool seccomp = false, std::vector<std::string> extra = {})
        : dir_(dir.string()) {
        cri_fs::create_directories(dir_ + "/state");
        std::vector<std::string> args = {"capwise",
                                         "agent",
                                         "--node",
                                         node,
                                         "--state-dir",
                                         dir_ + "/state",
                                         "--publish-interval",
                                         "1s",
                                         "--timeout",
                                         "900s"};
        if (seccomp) {
            args.push_back("--seccomp");
        }
        args.insert(args.end(), extra.begin(), extra.end());
        std::vector<char*> argv;
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        pid_ = ::fork();
        if (pid_ == 0) {
            ::setpgid(0, 0);
            ::prctl(PR_SET_PDEATHSIG, SIGKILL); // dies with the test
            const std::string log = dir_ + "/agent.log";
            std::freopen(log.c_str(), "w", stdout);
            std::freopen((dir_ + "/agent.err").c_str(), "w", stderr);
            ::execv(CAPWISE_BINARY, argv.data());
            ::_exit(127);
        }
        // Ready when its first snapshot is out (the tracer attached).
        for (int i = 0; i < 300 && !ready(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        EXPECT_TRUE(ready()) << err();
    }
    ~HostAgent() { stop(); }
    HostAgent(const HostAgent&) = delete;
    HostAgent& operator=(const HostAgent&) = delete;

    // SIGTERM, then SIGKILL past 30 s; the exit status.
    int stop() {
        if (pid_ <= 0) {
            return status_;
        }
        ::kill(pid_, SIGTERM);
        int st = 0;
        for (int i = 0; i < 300; ++i) {
            if (::waitpid(pid_, &st, WNOHANG) == pid_) {
                pid_ = -1;
                status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                return status_;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        ::kill(-pid_, SIGKILL);
        ::waitpid(pid_, &st, 0);
        pid_ = -1;
        status_ = 137;
        return status_;
    }
    bool alive() const { return pid_ > 0 && ::kill(pid_, 0) == 0; }
    std::string log() const { return slurp(dir_ + "/agent.log"); }
    std::string err() const { return slurp(dir_ + "/agent.err"); }
    std::string state() const { return slurp(dir_ + "/state/summaries.ndjson"); }

  private:
    bool ready() const { return log().find("agentSnapshotEnd") != std::string::npos; }
    static std::string slurp(const std::string& path) {
        std::ifstream in(path);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }
    std::string dir_;
    pid_t pid_ = -1;
    int status_ = -1;
};

inline CriJson container(const std::string& name, const std::string& script) {
    return {{"name", name}, {"image", kImage}, {"command", {"sh", "-c", script}}};
}

inline CriJson pod(const std::string& ns, const std::string& name, const std::string& uid,
                   CriJson containers, CriJson init = CriJson::array()) {
    return {{"namespace", ns},
            {"name", name},
            {"uid", uid},
            {"init", init},
            {"containers", containers}};
}

// What the loopback API server answers (e2e/api_server.hpp): an API object's metadata, with a
// controller when one is named.
inline CriJson meta(const std::string& ns, const std::string& name, const std::string& uid,
                    const std::string& owner_kind = "", const std::string& owner_name = "",
                    const std::string& owner_uid = "") {
    CriJson m{{"namespace", ns}, {"name", name}, {"uid", uid}};
    if (!owner_kind.empty()) {
        m["ownerReferences"] = CriJson::array({CriJson{{"apiVersion", "apps/v1"},
                                                       {"kind", owner_kind},
                                                       {"name", owner_name},
                                                       {"uid", owner_uid},
                                                       {"controller", true}}});
    }
    return m;
}

inline CriJson api_pod(CriJson metadata, const std::string& node, const std::string& phase,
                       const std::vector<std::string>& init,
                       const std::vector<std::string>& containers) {
    CriJson spec{{"containers", CriJson::array()}};
    if (!node.empty()) {
        spec["nodeName"] = node;
    }
    for (const auto& c : containers) {
        spec["containers"].push_back({{"name", c}, {"image", kImage}});
    }
    for (const auto& c : init) {
        spec["initContainers"].push_back({{"name", c}, {"image", kImage}});
    }
    CriJson status{{"phase", phase}};
    if (phase == "Running") {
        status["conditions"] = CriJson::array({{{"type", "Ready"}, {"status", "True"}}});
    }
    return {{"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata", std::move(metadata)},
            {"spec", spec},
            {"status", status}};
}

inline CriJson list(const std::vector<CriJson>& items) {
    return {{"apiVersion", "v1"}, {"kind", "List"}, {"items", items}};
}

} // namespace capwise::e2e
