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
