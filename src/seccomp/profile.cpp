#include "seccomp/profile.hpp"

#include "core/input.hpp"
#include "core/text.hpp"
#include "core/unique_fd.hpp"
#include "seccomp/syscall_names.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <memory>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

namespace capwise::seccomp {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 9> kActions{
    "SCMP_ACT_ALLOW",       "SCMP_ACT_ERRNO",        "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP",
    "SCMP_ACT_LOG",         "SCMP_ACT_TRACE",        "SCMP_ACT_NOTIFY"};
constexpr std::array<std::string_view, 7> kOps{"SCMP_CMP_NE",       "SCMP_CMP_LT", "SCMP_CMP_LE",
                                               "SCMP_CMP_EQ",       "SCMP_CMP_GE", "SCMP_CMP_GT",
                                               "SCMP_CMP_MASKED_EQ"};
// Bounds on hostile profiles: far beyond any real one (Docker's default has ~60 rules).
constexpr std::size_t kMaxRules = 4096;
constexpr std::size_t kMaxNames = 4096;

core::Error at(std::string_view where, std::string_view what) {
    return core::make_error(fmt::format("{}: {}", where, what));
}

core::Result<std::string> string_field(const json& object, const char* key, std::string_view where,
                                       bool required) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) {
        if (required) {
            return at(where, fmt::format("'{}' is missing", key));
        }
        return std::string();
    }
    if (!it->is_string()) {
        return at(fmt::format("{}.{}", where, key), "not a string");
    }
    return it->get<std::string>();
}

core::Result<std::optional<unsigned>> errno_field(const json& object, const char* key,
                                                  std::string_view where) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) {
        return std::optional<unsigned>();
    }
    if (!it->is_number_unsigned() || it->get<std::uint64_t>() > 4095) {
        return at(fmt::format("{}.{}", where, key), "not an errno (0..4095)");
    }
    return std::optional<unsigned>(it->get<unsigned>());
}

core::Result<std::vector<std::string>> string_list(const json& value, std::string_view where,
                                                   std::size_t limit) {
    if (!value.is_array()) {
        return at(where, "not a list");
    }
    if (value.size() > limit) {
        return at(where, fmt::format("more than {} entries", limit));
    }
    std::vector<std::string> out;
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (!value[i].is_string()) {
            return at(fmt::format("{}[{}]", where, i), "not a string");
        }
        out.push_back(value[i].get<std::string>());
    }
    return out;
}

core::Result<ArgCondition> parse_arg(const json& value, std::string_view where) {
    if (!value.is_object()) {
        return at(where, "not an object");
    }
    ArgCondition a;
    auto index = value.find("index");
    if (index == value.end() || !index->is_number_unsigned() || index->get<std::uint64_t>() > 5) {
        return at(where, "'index' must be 0..5");
    }
    a.index = index->get<unsigned>();
    for (auto [key, field] : {std::pair{"value", &a.value}, std::pair{"valueTwo", &a.value_two}}) {
        auto it = value.find(key);
        if (it == value.end() || it->is_null()) {
            continue;
        }
        if (!it->is_number_unsigned()) {
            return at(fmt::format("{}.{}", where, key), "not an unsigned number");
        }
        *field = it->get<std::uint64_t>();
    }
    auto op = string_field(value, "op", where, true);
    if (!op) {
        return op.error();
    }
    if (std::find(kOps.begin(), kOps.end(), *op) == kOps.end()) {
        return at(fmt::format("{}.op", where), fmt::format("unknown operator '{}'", *op));
    }
    a.op = *op;
    return a;
}

core::Status parse_conditions(const json& rule, Rule& r, std::string_view where) {
    for (const char* key : {"includes", "excludes"}) {
        auto it = rule.find(key);
        if (it == rule.end() || it->is_null()) {
            continue;
        }
        if (!it->is_object()) {
            return at(fmt::format("{}.{}", where, key), "not an object");
        }
        if (it->empty()) {
            continue;
        }
        r.conditional = true;
        if (auto caps = it->find("caps"); caps != it->end() && !caps->is_null()) {
            auto list = string_list(*caps, fmt::format("{}.{}.caps", where, key), 64);
            if (!list) {
                return list.error();
            }
            (std::string_view(key) == "includes" ? r.include_caps : r.exclude_caps) = *list;
        }
    }
    return core::Ok{};
}

core::Result<Rule> parse_rule(const json& value, std::string_view where) {
    if (!value.is_object()) {
        return at(where, "not an object");
    }
    Rule r;
    if (auto names = value.find("names"); names != value.end() && !names->is_null()) {
        auto list = string_list(*names, fmt::format("{}.names", where), kMaxNames);
        if (!list) {
            return list.error();
        }
        r.names = *list;
    }
    auto name = string_field(value, "name", where, false);
    if (!name) {
        return name.error();
    }
    if (!name->empty()) {
        r.names.push_back(*name);
    }
    if (r.names.empty()) {
        return at(where, "no 'names'");
    }
    for (const auto& n : r.names) {
        if (n.empty() || n.size() > 64) {
            return at(fmt::format("{}.names", where), "a name is empty or longer than 64");
        }
    }
    auto action = string_field(value, "action", where, true);
    if (!action) {
        return action.error();
    }
    if (!known_action(*action)) {
        return at(fmt::format("{}.action", where), fmt::format("unknown action '{}'", *action));
    }
    r.action = *action;
    auto err = errno_field(value, "errnoRet", where);
    if (!err) {
        return err.error();
    }
    r.errno_ret = *err;
    if (auto args = value.find("args"); args != value.end() && !args->is_null()) {
        if (!args->is_array() || args->size() > 6) {
            return at(fmt::format("{}.args", where), "not a list of at most 6 conditions");
        }
        for (std::size_t i = 0; i < args->size(); ++i) {
            auto a = parse_arg((*args)[i], fmt::format("{}.args[{}]", where, i));
            if (!a) {
                return a.error();
            }
            r.args.push_back(*a);
        }
    }
    auto comment = string_field(value, "comment", where, false);
    if (!comment) {
        return comment.error();
    }
    r.comment = *comment;
    if (auto conditions = parse_conditions(value, r, where); !conditions) {
        return conditions.error();
    }
    return r;
}

std::uint32_t action_value(std::string_view action, std::optional<unsigned> err) {
    if (action == "SCMP_ACT_ALLOW") {
        return SCMP_ACT_ALLOW;
    }
    if (action == "SCMP_ACT_ERRNO") {
        return SCMP_ACT_ERRNO(err.value_or(EPERM));
    }
    if (action == "SCMP_ACT_KILL" || action == "SCMP_ACT_KILL_THREAD") {
        return SCMP_ACT_KILL_THREAD;
    }
    if (action == "SCMP_ACT_KILL_PROCESS") {
        return SCMP_ACT_KILL_PROCESS;
    }
    if (action == "SCMP_ACT_TRAP") {
        return SCMP_ACT_TRAP;
    }
    if (action == "SCMP_ACT_LOG") {
        return SCMP_ACT_LOG;
    }
    if (action == "SCMP_ACT_TRACE") {
        return SCMP_ACT_TRACE(err.value_or(EPERM));
    }
    return SCMP_ACT_NOTIFY;
}

scmp_compare op_value(std::string_view op) {
    if (op == "SCMP_CMP_NE") {
        return SCMP_CMP_NE;
    }
    if (op == "SCMP_CMP_LT") {
        return SCMP_CMP_LT;
    }
    if (op == "SCMP_CMP_LE") {
        return SCMP_CMP_LE;
    }
    if (op == "SCMP_CMP_GE") {
        return SCMP_CMP_GE;
    }
    if (op == "SCMP_CMP_GT") {
        return SCMP_CMP_GT;
    }
    if (op == "SCMP_CMP_MASKED_EQ") {
        return SCMP_CMP_MASKED_EQ;
    }
    return SCMP_CMP_EQ;
}

struct FilterDeleter {
    void operator()(void* ctx) const { ::seccomp_release(ctx); }
};

} // namespace

bool known_action(std::string_view action) {
    return std::find(kActions.begin(), kActions.end(), action) != kActions.end();
}

bool action_allows(std::string_view action) {
    return action == "SCMP_ACT_ALLOW" || action == "SCMP_ACT_LOG" || action == "SCMP_ACT_TRACE" ||
           action == "SCMP_ACT_NOTIFY";
}

core::Result<Profile> parse_profile(std::string_view text) {
    json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
        return core::make_error("not valid JSON");
    }
    if (!doc.is_object()) {
        return core::make_error("not a JSON object");
    }
    Profile p;
    auto action = string_field(doc, "defaultAction", "profile", true);
    if (!action) {
        return action.error();
    }
    if (!known_action(*action)) {
        return at("defaultAction", fmt::format("unknown action '{}'", *action));
    }
    p.default_action = *action;
    auto err = errno_field(doc, "defaultErrnoRet", "profile");
    if (!err) {
        return err.error();
    }
    p.default_errno = *err;
    if (auto arches = doc.find("architectures"); arches != doc.end() && !arches->is_null()) {
        auto list = string_list(*arches, "architectures", 64);
        if (!list) {
            return list.error();
        }
        p.architectures = *list;
    }
    // Docker's archMap: each entry's architecture and its sub-architectures.
    if (auto map = doc.find("archMap"); map != doc.end() && !map->is_null()) {
        if (!map->is_array() || map->size() > 64) {
            return at("archMap", "not a list");
        }
        for (std::size_t i = 0; i < map->size(); ++i) {
            const json& entry = (*map)[i];
            const std::string where = fmt::format("archMap[{}]", i);
            if (!entry.is_object()) {
                return at(where, "not an object");
            }
            auto arch = string_field(entry, "architecture", where, true);
            if (!arch) {
                return arch.error();
            }
            p.architectures.push_back(*arch);
            if (auto subs = entry.find("subArchitectures");
                subs != entry.end() && !subs->is_null()) {
                auto list = string_list(*subs, where + ".subArchitectures", 64);
                if (!list) {
                    return list.error();
                }
                p.architectures.insert(p.architectures.end(), list->begin(), list->end());
            }
        }
    }
    for (const auto& a : p.architectures) {
        if (!a.starts_with("SCMP_ARCH_") || a.size() > 32) {
            return at("architectures", fmt::format("'{}' is not an SCMP_ARCH_ name", a));
        }
    }
    if (auto rules = doc.find("syscalls"); rules != doc.end() && !rules->is_null()) {
        if (!rules->is_array()) {
            return at("syscalls", "not a list");
        }
        if (rules->size() > kMaxRules) {
            return at("syscalls", fmt::format("more than {} rules", kMaxRules));
        }
        for (std::size_t i = 0; i < rules->size(); ++i) {
            auto r = parse_rule((*rules)[i], fmt::format("syscalls[{}]", i));
            if (!r) {
                return r.error();
            }
            p.rules.push_back(std::move(*r));
        }
    }
    return p;
}

core::Result<Profile> read_profile_file(const std::string& path) {
    constexpr std::size_t kMaxProfileBytes = 4u << 20;
    auto input = core::open_input(path);
    if (!input) {
        return input.error();
    }
    auto text = core::read_input(*input, kMaxProfileBytes);
    if (!text) {
        return text.error();
    }
    auto profile = parse_profile(*text);
    if (!profile) {
        return core::make_error(
            fmt::format("{}: {}", core::escape_bytes(input->name), profile.error().message));
    }
    return profile;
}

nlohmann::ordered_json profile_json(const Profile& profile) {
    nlohmann::ordered_json out;
    out["defaultAction"] = profile.default_action;
    if (profile.default_errno) {
        out["defaultErrnoRet"] = *profile.default_errno;
    }
    out["architectures"] = profile.architectures;
    out["syscalls"] = nlohmann::ordered_json::array();
    for (const auto& r : profile.rules) {
        nlohmann::ordered_json rule;
        rule["names"] = r.names;
        rule["action"] = r.action;
        if (r.errno_ret) {
            rule["errnoRet"] = *r.errno_ret;
        }
        if (!r.args.empty()) {
            rule["args"] = nlohmann::ordered_json::array();
            for (const auto& a : r.args) {
                rule["args"].push_back(nlohmann::ordered_json{{"index", a.index},
                                                              {"value", a.value},
                                                              {"valueTwo", a.value_two},
                                                              {"op", a.op}});
            }
        }
        if (!r.comment.empty()) {
            rule["comment"] = r.comment;
        }
        out["syscalls"].push_back(std::move(rule));
    }
    return out;
}

core::Result<std::vector<sock_filter>> compile_profile(const Profile& profile) {
    const std::uint32_t fallback = action_value(profile.default_action, profile.default_errno);
    std::unique_ptr<void, FilterDeleter> ctx(::seccomp_init(fallback));
    if (!ctx) {
        return core::make_error("libseccomp: cannot create a filter");
    }
    // capwise decides about no_new_privs itself (see core::exec_with_caps).
    ::seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
    ::seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, fallback);
    for (const auto& token : profile.architectures) {
        const std::uint32_t arch = libseccomp_arch(token);
        if (arch == 0) {
            return core::make_error(fmt::format("architectures: unknown '{}'", token));
        }
        if (int rc = ::seccomp_arch_add(ctx.get(), arch); rc != 0 && rc != -EEXIST) {
            return core::make_error(
                fmt::format("architectures: cannot add '{}': {}", token, std::strerror(-rc)));
        }
    }
    for (std::size_t i = 0; i < profile.rules.size(); ++i) {
        const Rule& r = profile.rules[i];
        if (r.conditional) {
            return core::make_error(fmt::format(
                "syscalls[{}]: a conditional rule (includes/excludes) is Docker's own; an OCI "
                "profile has none",
                i));
        }
        const std::uint32_t action = action_value(r.action, r.errno_ret);
        if (action == fallback) {
            continue; // libseccomp refuses rules that repeat the default, and they change nothing
        }
        std::vector<scmp_arg_cmp> args;
        for (const auto& a : r.args) {
            args.push_back(scmp_arg_cmp{a.index, op_value(a.op), a.value, a.value_two});
        }
        for (const auto& name : r.names) {
            const int nr = ::seccomp_syscall_resolve_name(name.c_str());
            if (nr == __NR_SCMP_ERROR) {
                return core::make_error(
                    fmt::format("syscalls[{}]: unknown system call '{}'", i, name));
            }
            const int rc =
                ::seccomp_rule_add_array(ctx.get(), action, nr, static_cast<unsigned>(args.size()),
                                         args.empty() ? nullptr : args.data());
            if (rc != 0) {
                return core::make_error(fmt::format("syscalls[{}]: libseccomp refused the rule "
                                                    "for '{}': {}",
                                                    i, name, std::strerror(-rc)));
            }
        }
    }
    core::UniqueFd mem(::memfd_create("capwise-seccomp", MFD_CLOEXEC));
    if (!mem.valid()) {
        return core::make_error(fmt::format("memfd_create: {}", std::strerror(errno)));
    }
    if (int rc = ::seccomp_export_bpf(ctx.get(), mem.get()); rc != 0) {
        return core::make_error(
            fmt::format("libseccomp: cannot build the filter: {}", std::strerror(-rc)));
    }
    const off_t size = ::lseek(mem.get(), 0, SEEK_END);
    if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0 ||
        size > static_cast<off_t>(BPF_MAXINSNS * sizeof(sock_filter))) {
        return core::make_error("libseccomp built a filter the kernel would not load "
                                "(more than 4096 instructions?)");
    }
    std::vector<sock_filter> program(static_cast<std::size_t>(size) / sizeof(sock_filter));
    if (::pread(mem.get(), program.data(), static_cast<std::size_t>(size), 0) != size) {
        return core::make_error(fmt::format("reading the filter back: {}", std::strerror(errno)));
    }
    return program;
}

} // namespace capwise::seccomp
