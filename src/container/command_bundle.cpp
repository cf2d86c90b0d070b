#include "container/command_bundle.hpp"

#include "container/runc_cli.hpp"
#include "core/atomic_file.hpp"
#include "core/process.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

extern char** environ;

namespace capwise::container {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

// Top-level directories the container gets from elsewhere: runc mounts its own /proc, /dev and
// /sys, /run is private, /tmp is the host's and writable.
constexpr std::array<std::string_view, 5> kOwnDirs{"proc", "dev", "sys", "run", "tmp"};

Json bind(const std::string& path, bool writable) {
    return Json{{"destination", path},
                {"type", "bind"},
                {"source", path},
                {"options", {"rbind", writable ? "rw" : "ro"}}};
}

} // namespace

core::Status write_command_bundle(const std::string& dir, const std::vector<std::string>& argv,
                                  const core::Credentials& creds) {
    if (argv.empty()) {
        return core::make_error("no command to put in a bundle");
    }
    auto spec = runc_spec_config(dir);
    if (!spec) {
        return spec.error();
    }
    Json& config = *spec;
    const std::string rootfs = dir + "/rootfs";
    if (::mkdir(rootfs.c_str(), 0755) != 0) {
        return core::make_error(fmt::format("mkdir {}: {}", rootfs, std::strerror(errno)));
    }
    // The host's top level, entry by entry: directories become read-only binds, symbolic links
    // (merged /usr: /bin → usr/bin) the same links. Read with lstat: nothing is followed.
    DIR* top = ::opendir("/");
    if (top == nullptr) {
        return core::make_error(fmt::format("opendir /: {}", std::strerror(errno)));
    }
    std::vector<std::string> names;
    while (const dirent* e = ::readdir(top)) {
        const std::string_view name = e->d_name;
        if (name != "." && name != "..") {
            names.emplace_back(name);
        }
    }
    ::closedir(top);
    std::sort(names.begin(), names.end());
    Json mounts = config["mounts"];
    for (const auto& name : names) {
        const std::string host = "/" + name;
        const std::string inside = rootfs + host;
        struct stat st {};
        if (::lstat(host.c_str(), &st) != 0) {
            continue;
        }
        if (S_ISLNK(st.st_mode)) {
            std::array<char, 4096> target{};
            const ssize_t n = ::readlink(host.c_str(), target.data(), target.size() - 1);
            if (n > 0 && ::symlink(target.data(), inside.c_str()) != 0) {
                return core::make_error(
                    fmt::format("symlink {}: {}", inside, std::strerror(errno)));
            }
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            continue;
        }
        if (::mkdir(inside.c_str(), 0755) != 0) {
            return core::make_error(fmt::format("mkdir {}: {}", inside, std::strerror(errno)));
        }
        if (std::find(kOwnDirs.begin(), kOwnDirs.end(), name) == kOwnDirs.end()) {
            mounts.push_back(bind(host, false));
        }
    }
    mounts.push_back(Json{{"destination", "/run"},
                          {"type", "tmpfs"},
                          {"source", "tmpfs"},
                          {"options", {"nosuid", "nodev", "mode=755"}}});
    mounts.push_back(bind("/tmp", true));
    std::error_code ec;
    const std::string cwd = fs::current_path(ec).string();
    if (!ec && cwd != "/" && !cwd.starts_with("/tmp/")) {
        mounts.push_back(bind(cwd, true));
    }
    config["mounts"] = mounts;

    Json env = Json::array();
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        env.push_back(*e);
    }
    Json& process = config["process"];
    process["terminal"] = false;
    process["args"] = argv;
    process["env"] = env;
    process["cwd"] = ec ? "/" : cwd;
    process["noNewPrivileges"] = true;
    process["user"] = Json{{"uid", creds.uid.value_or(0)}, {"gid", creds.gid.value_or(0)}};
    if (!creds.groups.empty()) {
        process["user"]["additionalGids"] = creds.groups;
    }
    config["root"] = Json{{"path", "rootfs"}, {"readonly", true}};
    // The host's network: a server the command runs answers on the host's addresses, as it did
    // in the first run. The host's pids too: as PID 1 of a namespace of its own the command
    // would ignore signals it ran unharmed by (`kill -9 $$`), and end otherwise than it did.
    Json namespaces = Json::array();
    for (const auto& ns : config["linux"]["namespaces"]) {
        if (ns.value("type", "") != "network" && ns.value("type", "") != "pid") {
            namespaces.push_back(ns);
        }
    }
    config["linux"]["namespaces"] = namespaces;
    config["hostname"] = "capwise-verify";
    return core::write_file_atomically(dir + "/config.json", config.dump(2));
}

} // namespace capwise::container
