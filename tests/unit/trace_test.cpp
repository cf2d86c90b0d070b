// The tracer's user-space parts without a kernel: hook selection (with faked probes), kallsyms
// parsing, classifier ranges, record decoding and rendering.
#include "output/trace_render.hpp"
#include "support/temp_dir.hpp"
#include "trace/classifier.hpp"
#include "trace/event.hpp"
#include "trace/hook.hpp"
#include "trace/kernel_symbols.hpp"
#include "trace/run_control.hpp"
#include "trace/syscalls.hpp"

#include <csignal>
#include <cstring>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/syscall.h>
#include <thread>

namespace capwise::trace {
namespace {

TEST(HookSelection, AutoTakesTheFirstThatAttaches) {
    std::vector<Hook> tried;
    auto only_kprobe = [&](Hook h) -> core::Status {
        tried.push_back(h);
        if (h == Hook::Kprobe) {
            return core::Ok{};
        }
        return core::make_error(h == Hook::Tracepoint ? "no such tracepoint" : "EPERM", 1);
    };
    auto hook = select_hook(HookChoice::Auto, only_kprobe);
    ASSERT_TRUE(hook);
    EXPECT_EQ(*hook, Hook::Kprobe);
    EXPECT_EQ(tried, (std::vector<Hook>{Hook::Tracepoint, Hook::Fentry, Hook::Kprobe}));

    tried.clear();
    auto tracepoint_ok = [&](Hook h) -> core::Status {
        tried.push_back(h);
        return core::Ok{};
    };
    EXPECT_EQ(*select_hook(HookChoice::Auto, tracepoint_ok), Hook::Tracepoint);
    EXPECT_EQ(tried.size(), 1U); // nothing else loaded once one works
}

TEST(HookSelection, ForcedHookIsTheOnlyOneTried) {
    std::vector<Hook> tried;
    auto fail_all = [&](Hook h) -> core::Status {
        tried.push_back(h);
        return core::make_error("refused", 1);
    };
    auto hook = select_hook(HookChoice::Fentry, fail_all);
    ASSERT_FALSE(hook);
    EXPECT_EQ(tried, (std::vector<Hook>{Hook::Fentry}));
    EXPECT_NE(hook.error().message.find("fentry: refused"), std::string::npos);
}

TEST(HookSelection, TotalFailureNamesEveryHookInOneLine) {
    auto fail_all = [](Hook h) -> core::Status {
        return core::make_error(std::string(hook_name(h)) + " unavailable", 1);
    };
    auto hook = select_hook(HookChoice::Auto, fail_all);
    ASSERT_FALSE(hook);
    const auto& msg = hook.error().message;
    EXPECT_EQ(msg.find('\n'), std::string::npos);
    for (const char* name : {"tracepoint: tracepoint unavailable", "fentry: fentry unavailable",
                             "kprobe: kprobe unavailable"}) {
        EXPECT_NE(msg.find(name), std::string::npos) << msg;
    }
}

TEST(HookSelection, ParseChoices) {
    EXPECT_EQ(*parse_hook_choice("auto"), HookChoice::Auto);
    EXPECT_EQ(*parse_hook_choice("fentry"), HookChoice::Fentry);
    EXPECT_FALSE(parse_hook_choice("fexit")); // one spelling, the one --help and the README use
    EXPECT_EQ(*parse_hook_choice("kprobe"), HookChoice::Kprobe);
    EXPECT_FALSE(parse_hook_choice("uprobe"));
}

const char* kKallsyms = "ffffffff81000000 T _stext\n"
                        "ffffffff81100000 T cap_capable\n"
                        "ffffffff81100100 T security_capable\n"
                        "ffffffff81100200 t ns_capable_noaudit\n"
                        "ffffffff81100300 T ns_capable_setid\n"
                        "ffffffff81100400 T __x64_sys_chroot\n"
                        "ffffffff81100480 T _etext\n"
                        "ffffffff81100500 D some_data\n"
                        "ffffffffc0001000 t mod_fn\t[mymod]\n"
                        "garbage line\n"
                        "zzzz T bad_address\n";

TEST(KernelSymbols, ParsesNamesAndRanges) {
    auto syms = KernelSymbols::parse(kKallsyms);
    ASSERT_TRUE(syms) << syms.error().message;
    EXPECT_EQ(syms->name_of(0xffffffff81100083ULL), "cap_capable");
    EXPECT_EQ(syms->describe(0xffffffff81100083ULL), "cap_capable+0x83");
    EXPECT_EQ(syms->name_of(0xffffffff81100450ULL), "__x64_sys_chroot");
    EXPECT_FALSE(syms->name_of(0xffffffff81100600ULL)); // inside data, not a function
    EXPECT_EQ(syms->name_of(0xffffffffc0001010ULL), "mod_fn");
    EXPECT_FALSE(syms->name_of(0x1000));
    auto r = syms->ranges_of("__x64_sys_chroot");
    ASSERT_EQ(r.size(), 1U);
    EXPECT_EQ(r[0].start, 0xffffffff81100400ULL);
    EXPECT_EQ(r[0].end, 0xffffffff81100480ULL); // ends where the next symbol starts
    EXPECT_TRUE(syms->ranges_of("no_such_function").empty());
}

TEST(KernelSymbols, SeveralRangesInOnePassAndKernelText) {
    auto syms = KernelSymbols::parse(kKallsyms);
    ASSERT_TRUE(syms);
    const std::string_view names[] = {"ns_capable_setid", "cap_capable", "absent"};
    auto found = syms->ranges_of(names);
    ASSERT_EQ(found.size(), 2U);
    EXPECT_EQ(found[0].first, 1U); // cap_capable comes first in the address-sorted table
    EXPECT_EQ(found[0].second.start, 0xffffffff81100000ULL);
    EXPECT_EQ(found[1].first, 0U);
    EXPECT_EQ(found[1].second.end, 0xffffffff81100400ULL);
    auto text = syms->kernel_text();
    ASSERT_TRUE(text);
    EXPECT_EQ(text->start, 0xffffffff81000000ULL);
    EXPECT_EQ(text->end, 0xffffffff81100480ULL);
    EXPECT_FALSE(KernelSymbols::parse("ffffffff81000000 T cap_capable\n")->kernel_text());
}

// Read on a thread of its own while the tracer loads: copies share the one read, every accessor
// waits for it, and a failed read is an error from wait() and an empty table, never a crash.
TEST(KernelSymbols, ReadInTheBackground) {
    capwise::testing::TempDir t;
    const std::string path = t.write("kallsyms", kKallsyms).string();
    auto syms = KernelSymbols::load_in_background(path);
    const KernelSymbols copy = syms;
    EXPECT_EQ(copy.name_of(0xffffffff81100083ULL), "cap_capable");
    EXPECT_TRUE(syms.wait());
    EXPECT_EQ(syms.describe(0xffffffff81100083ULL), "cap_capable+0x83");
    ASSERT_TRUE(syms.kernel_text());
    EXPECT_EQ(syms.kernel_text()->end, 0xffffffff81100480ULL);
    EXPECT_EQ(syms.size(), copy.size());

    auto missing = KernelSymbols::load_in_background((t.path() / "absent").string());
    auto waited = missing.wait();
    ASSERT_FALSE(waited);
    EXPECT_NE(waited.error().message.find("cannot read"), std::string::npos);
    EXPECT_EQ(missing.size(), 0U);
    EXPECT_FALSE(missing.name_of(0xffffffff81100083ULL));
}

TEST(KernelSymbols, HiddenAddressesAreAnError) {
    auto syms = KernelSymbols::parse("0000000000000000 T cap_capable\n0000000000000000 T x\n");
    ASSERT_FALSE(syms);
    EXPECT_NE(syms.error().message.find("kptr_restrict"), std::string::npos);
    EXPECT_FALSE(KernelSymbols::parse(""));
}

TEST(Classifier, RangesAreSortedAndKinded) {
    auto syms = KernelSymbols::parse(kKallsyms);
    ASSERT_TRUE(syms);
    auto ranges = build_ranges(*syms);
    ASSERT_EQ(ranges.size(), 4U); // cap_capable, security_capable, noaudit, setid
    for (std::size_t i = 1; i < ranges.size(); ++i) {
        EXPECT_LT(ranges[i - 1].start, ranges[i].start);
    }
    EXPECT_EQ(ranges[2].kind, CAPWISE_RANGE_HELPER | CAPWISE_RANGE_NOAUDIT);
    EXPECT_EQ(ranges[3].kind, CAPWISE_RANGE_HELPER | CAPWISE_RANGE_SETID);
    EXPECT_TRUE(is_capability_helper("ns_capable"));
    EXPECT_FALSE(is_capability_helper("__x64_sys_chroot"));
    EXPECT_FALSE(is_capability_helper("ptracer_capable")); // non-audit, but a real caller
    EXPECT_LE(classified_functions().size(), static_cast<std::size_t>(CAPWISE_MAX_RANGES));
}

std::vector<std::uint8_t> record(const capwise_event& e, std::size_t extra = 0) {
    std::vector<std::uint8_t> out(sizeof(e) + extra, 0);
    std::memcpy(out.data(), &e, sizeof(e));
    return out;
}

TEST(Events, DecodeAndResolve) {
    capwise_event raw{};
    raw.timestamp_ns = 1000;
    raw.pid = 42;
    raw.tid = 43;
    raw.cap = 18;
    raw.ret = -1;
    raw.audit = 1;
    raw.hook = CAPWISE_HOOK_TRACEPOINT;
    raw.syscall = SYS_chroot;
    raw.cap_effective = 0x3;
    raw.caller_ip = 0xffffffff81100410ULL;
    std::memcpy(raw.comm, "chroot\0junk", 11);
    auto bytes = record(raw);
    auto e = decode_event(bytes, 5);
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ(e->timestamp_ns, 1005U);
    EXPECT_EQ(e->comm, "chroot");
    EXPECT_FALSE(e->allowed());
    auto syms = KernelSymbols::parse(kKallsyms);
    resolve(*e, *syms);
    EXPECT_EQ(e->caller, "__x64_sys_chroot");
    EXPECT_EQ(syscall_name(SYS_chroot), "chroot"); // the native number (161 on x86_64, 51 on arm64)
    EXPECT_EQ(syscall_name(-1), "");
    EXPECT_EQ(syscall_name(99999), "syscall_99999");
    // A 32-bit task's numbers name calls of its own table.
    raw.syscall_arch = CAPWISE_ARCH_COMPAT;
    auto compat = decode_event(record(raw), 5);
    ASSERT_TRUE(compat);
    EXPECT_EQ(compat->syscall_arch, SyscallArch::Compat);
#if defined(__aarch64__)
    EXPECT_EQ(syscall_name(61, SyscallArch::Compat), "chroot"); // aarch64's 61 is getdents64
    EXPECT_EQ(syscall_name(61), "getdents64");
    EXPECT_EQ(syscall_arch_name(SyscallArch::Compat), "arm");
#else
    EXPECT_EQ(syscall_name(213, SyscallArch::Compat), "setuid32"); // x86_64's 213: epoll_create
    EXPECT_EQ(syscall_name(213), "epoll_create");
    EXPECT_EQ(syscall_name(0x40000000 | 105, SyscallArch::X32), "setuid");
    EXPECT_EQ(syscall_arch_name(SyscallArch::Compat), "x86");
#endif
    EXPECT_EQ(syscall_name(5000, SyscallArch::Compat), "syscall_5000");
}

TEST(Events, MalformedRecordsAreErrors) {
    capwise_event raw{};
    EXPECT_FALSE(decode_event(std::vector<std::uint8_t>(10), 0));
    raw.kstack_len = 5; // claims frames the record does not hold
    EXPECT_FALSE(decode_event(record(raw), 0));
    raw.kstack_len = 1000;
    EXPECT_FALSE(decode_event(record(raw, 8 * 1000), 0));
    raw.kstack_len = 3;
    raw.kstack_skip = 4; // more hook frames than frames: nothing left to show, still valid
    auto skipped_all = decode_event(record(raw, 24), 0);
    ASSERT_TRUE(skipped_all);
    EXPECT_TRUE(skipped_all->kstack.empty());
    raw.kstack_skip = 1; // the hook's own frame is cut: the stack starts at the next one
    std::vector<std::uint8_t> framed = record(raw, 24);
    const std::uint64_t frames[3] = {0xffffffffc0000001ULL, 0xffffffff81100010ULL, 7};
    std::memcpy(framed.data() + sizeof(raw), frames, sizeof(frames));
    auto cut = decode_event(framed, 0);
    ASSERT_TRUE(cut);
    ASSERT_EQ(cut->kstack.size(), 2U);
    EXPECT_EQ(cut->kstack[0], 0xffffffff81100010ULL);
    raw.kstack_skip = 0;
    raw.kstack_len = 2;
    auto ok = decode_event(record(raw, 16), 0);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->kstack.size(), 2U);
}

TEST(Render, JsonLinesUseInspektorGadgetFieldNames) {
    TraceEvent e;
    e.timestamp_ns = 1677087968732237745ULL;
    e.mntns = 4026533307ULL;
    e.pid = 3277678;
    e.tid = 3277678;
    e.ppid = 1;
    e.comm = std::string("ch\"root\x01\xff", 9);
    e.syscall = SYS_chroot;
    e.cap = 18;
    e.ret = 0;
    e.caps = core::CapSet(0x3fffffffffULL);
    e.target_userns = 4026531837U;
    e.current_userns = 4026531837U;
    e.caller = "__x64_sys_chroot";
    output::TraceRenderer json(true, {}, 40);
    std::string line;
    json.render(e, nullptr, line);
    ASSERT_EQ(line.back(), '\n');
    auto j = nlohmann::json::parse(line);
    for (const char* field : {"timestamp", "mountnsid", "pid", "tid", "ppid", "comm", "syscall",
                              "uid", "gid", "cap", "capName", "audit", "verdict", "insetid",
                              "targetuserns", "currentuserns", "caps", "capsNames", "caller"}) {
        EXPECT_TRUE(j.contains(field)) << field;
    }
    EXPECT_EQ(j["timestamp"], 1677087968732237745ULL);
    EXPECT_EQ(j["comm"], "ch\"root\x01\xEF\xBF\xBD"); // invalid UTF-8 replaced, never thrown
    EXPECT_EQ(j["syscall"], "chroot");
    EXPECT_EQ(j["capName"], "SYS_CHROOT");
    EXPECT_EQ(j["verdict"], "Allow");
    EXPECT_EQ(j["audit"], 1);
    EXPECT_EQ(j["caps"], 274877906943ULL);
    EXPECT_EQ(j["capsNames"].size(), 38U);
    EXPECT_EQ(j["capsNames"][18], "sys_chroot");
    EXPECT_FALSE(j.contains("kstack"));
    EXPECT_EQ(j["mountnsid"], 4026533307ULL);
    EXPECT_EQ(j["pid"], 3277678);
    EXPECT_EQ(j["tid"], 3277678);
    EXPECT_EQ(j["ppid"], 1);
    EXPECT_EQ(j["insetid"], false);
    EXPECT_EQ(j["targetuserns"], 4026531837U);
    EXPECT_EQ(j["currentuserns"], 4026531837U);
    EXPECT_EQ(j["hook"], "tracepoint");
    EXPECT_FALSE(j.contains("syscallArch")); // native calls say nothing of it
    EXPECT_FALSE(j.contains("borrowed"));
    EXPECT_FALSE(j.contains("cgroupId"));

    // A 32-bit task's call, borrowed credentials and a cgroup: the optional fields.
    e.syscall_arch = SyscallArch::Compat;
    e.syscall = 61;
    e.borrowed = true;
    e.own_caps = core::CapSet(0x1);
    e.cgroup_id = 0x8000000000000001ULL;
    e.cgroup = "cri-containerd-abc.scope";
    e.cap = 99; // beyond the known ones: a number, still a JSON string
    line.clear();
    json.render(e, nullptr, line);
    j = nlohmann::json::parse(line);
    EXPECT_EQ(j["syscall"], syscall_name(61, SyscallArch::Compat));
    EXPECT_EQ(j["syscallArch"], syscall_arch_name(SyscallArch::Compat));
    EXPECT_EQ(j["borrowed"], true);
    EXPECT_EQ(j["ownCaps"], 1);
    EXPECT_EQ(j["cgroupId"], 0x8000000000000001ULL);
    EXPECT_EQ(j["cgroup"], "cri-containerd-abc.scope");
    EXPECT_EQ(j["capName"], "99");
}

TEST(Render, ColumnsAndParsing) {
    auto cols = output::parse_trace_columns("pid, capname ,VERDICT,kstack");
    ASSERT_TRUE(cols);
    EXPECT_EQ(cols->size(), 4U);
    auto bad = output::parse_trace_columns("pid,bogus");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("'bogus'"), std::string::npos);
    EXPECT_FALSE(output::parse_trace_columns(" , "));

    output::TraceRenderer text(false, output::default_trace_columns(), 40);
    EXPECT_EQ(text.header().rfind("PID", 0), 0U);
    TraceEvent e;
    e.pid = 7;
    e.comm = "a\nb";
    e.cap = 21;
    e.ret = -1;
    std::string line;
    text.render(e, nullptr, line);
    EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1); // the name's newline is escaped
    EXPECT_NE(line.find("SYS_ADMIN"), std::string::npos);
    EXPECT_NE(line.find("Deny"), std::string::npos);
}

TEST(Render, JsonStringEscaping) {
    std::string out;
    output::append_json_string(out, "a\\b\"c\n\xe2\x82\xac\xed\xa0\x80");
    EXPECT_EQ(out, "\"a\\\\b\\\"c\\u000a\xe2\x82\xac\\ufffd\\ufffd\\ufffd\"");
    // 0xF5-0xFF never start a character, whatever follows them (found by fuzz_renderers).
    out.clear();
    output::append_json_string(out, "\xff\xbf\xbf\xf8\x88\x80\x80");
    EXPECT_EQ(out, R"("\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd")");
}

// The one stop policy: a polite signal at the limit (or the user's first signal), the whole tree
// after the grace period (or at the second signal).
TEST(RunControl, PoliteFirstThenTheWholeTree) {
    std::vector<std::string> calls;
    RunControl limited([&](int sig) { calls.push_back("signal " + std::to_string(sig)); },
                       [&] { calls.push_back("tree"); }, std::chrono::milliseconds(20),
                       std::chrono::milliseconds(30));
    limited.tick();
    EXPECT_TRUE(calls.empty());
    EXPECT_LE(limited.wait_ms(), 20);
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    limited.tick();
    EXPECT_EQ(calls, (std::vector<std::string>{"signal 15"}));
    EXPECT_EQ(limited.end(), RunEnd::TimedOut);
    std::this_thread::sleep_for(std::chrono::milliseconds(35));
    limited.tick();
    limited.tick();
    EXPECT_EQ(calls, (std::vector<std::string>{"signal 15", "tree"}));

    calls.clear();
    RunControl unlimited([&](int sig) { calls.push_back("signal " + std::to_string(sig)); },
                         [&] { calls.push_back("tree"); }, std::nullopt);
    EXPECT_EQ(unlimited.wait_ms(), 200);
    unlimited.tick();
    EXPECT_TRUE(calls.empty());
    unlimited.on_signal(SIGINT);
    EXPECT_EQ(unlimited.end(), RunEnd::Interrupted);
    unlimited.on_signal(SIGINT);
    EXPECT_EQ(calls, (std::vector<std::string>{"signal 2", "tree"}));
    EXPECT_STREQ(run_end_text(RunEnd::TimedOut), "stopped at its time limit");
}

} // namespace
} // namespace capwise::trace
