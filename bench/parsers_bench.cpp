// Micro-benchmarks of the hot parsers: ps reads one status per process, scan one xattr per file.
#include "core/file_caps.hpp"
#include "core/proc_status.hpp"

#include <benchmark/benchmark.h>
#include <fstream>
#include <sstream>

namespace {

using namespace capwise::core;

void BM_ParseProcStatus(benchmark::State& state) {
    std::ifstream in(std::string(CAPWISE_FIXTURES) + "/proc_status/linux-6.18-root.txt");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    for (auto _ : state) {
        auto st = parse_proc_status(text);
        benchmark::DoNotOptimize(st);
    }
}
BENCHMARK(BM_ParseProcStatus);

void BM_ParseFileCaps(benchmark::State& state) {
    FileCaps caps;
    caps.permitted = CapSet::of({12, 13});
    caps.effective = true;
    const auto bytes = encode_file_caps(caps);
    for (auto _ : state) {
        auto parsed = parse_file_caps(bytes);
        benchmark::DoNotOptimize(parsed);
    }
}
BENCHMARK(BM_ParseFileCaps);

void BM_FormatCapText(benchmark::State& state) {
    const CapSet all = CapSet::all_up_to(40) - CapSet::of({24});
    for (auto _ : state) {
        auto text = format_cap_text(all, CapSet{}, all, 40);
        benchmark::DoNotOptimize(text);
    }
}
BENCHMARK(BM_FormatCapText);

} // namespace

// Enrichment on the event path: rendering an event bare and with its container and pod, and
// the cached mount-namespace lookup that finds the container.
#include "container/registry.hpp"
#include "output/trace_render.hpp"

namespace {

capwise::trace::TraceEvent sample_event() {
    capwise::trace::TraceEvent e;
    e.timestamp_ns = 1795361769146925249ULL;
    e.mntns = 4026532176ULL;
    e.pid = 4242;
    e.tid = 4242;
    e.ppid = 1;
    e.comm = "chroot";
    e.syscall = 161;
    e.cap = 18;
    e.caps = CapSet(0x20000420ULL);
    e.caller = "__x64_sys_chroot";
    return e;
}

void BM_RenderJsonHost(benchmark::State& state) {
    capwise::output::TraceRenderer r(true, {}, 40);
    const auto e = sample_event();
    std::string out;
    for (auto _ : state) {
        out.clear();
        r.render(e, nullptr, out);
        benchmark::DoNotOptimize(out);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RenderJsonHost);

void BM_RenderJsonPod(benchmark::State& state) {
    capwise::output::TraceRenderer r(true, {}, 40);
    const auto e = sample_event();
    capwise::container::Container c;
    c.runtime = "containerd";
    c.id = "3f1c0a9e6b7d";
    c.name = "nginx";
    c.image = "docker.io/library/nginx:1.27";
    c.k8s = {"node-1", "shop",           "web-7d4b9c6f8-x2kq9", "u-1",
             "nginx",  {{"app", "web"}}, "Deployment/web"};
    std::string out;
    for (auto _ : state) {
        out.clear();
        r.render(e, &c, out);
        benchmark::DoNotOptimize(out);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RenderJsonPod);

void BM_ResolveMntnsCached(benchmark::State& state) {
    capwise::container::DiscoveryConfig none; // no roots: every namespace is the host
    capwise::container::Registry registry(none);
    registry.rescan();
    (void)registry.resolve_mntns(4026532176ULL);
    for (auto _ : state) {
        benchmark::DoNotOptimize(registry.resolve_mntns(4026532176ULL));
    }
}
BENCHMARK(BM_ResolveMntnsCached);

} // namespace
