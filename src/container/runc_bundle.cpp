#include "container/runc_bundle.hpp"

#include "container/oci_state.hpp"
#include "core/atomic_file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace capwise::container {
namespace {

// Runs runc with args, stdin from /dev/null, stdout/stderr inherited; returns its exit status.
int runc(const std::vector<std::string>& args) {
    pid_t pid = ::fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        int devnull = ::open("/dev/null", O_RDONLY);
        ::dup2(devnull, 0);
        std::vector<char*> argv{const_cast<char*>("runc")};
        for (const auto& a : args) {
            argv.push_back(const_cast<char*>(a.c_str()));
        }
        argv.push_back(nullptr);
        ::execvp("runc", argv.data());
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

core::Result<std::string> read_text(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        return core::make_error(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace

core::Status write_bundle_with_caps(const std::string& bundle, core::CapSet caps,
                                    const std::string& dir) {
    auto text = read_text(bundle + "/config.json");
    if (!text) {
        return text.error();
    }
    auto config = nlohmann::json::parse(*text, nullptr, false);
    if (config.is_discarded() || !config.is_object() || !config.contains("process") ||
        !config["process"].is_object()) {
        return core::make_error(fmt::format("{}/config.json: not an OCI config", bundle));
    }
    nlohmann::json names = nlohmann::json::array();
    for (int cap : caps.members()) {
        names.push_back(core::cap_kernel_name(cap));
    }
    config["process"]["capabilities"] = {{"bounding", names},
                                         {"effective", names},
                                         {"permitted", names},
                                         {"inheritable", names},
                                         {"ambient", names}};
    std::string root = "rootfs";
    if (config.contains("root") && config["root"].is_object() && config["root"].contains("path") &&
        config["root"]["path"].is_string()) {
        root = config["root"]["path"].get<std::string>();
    }
    config["root"]["path"] =
        std::filesystem::absolute(std::filesystem::path(bundle) / root).string();
    return core::write_file_atomically(dir + "/config.json", config.dump(2));
}

core::Status make_busybox_bundle(const std::string& dir, const std::string& script,
                                 core::CapSet caps) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path rootfs = fs::path(dir) / "rootfs";
    fs::create_directories(rootfs / "bin", ec);
    fs::create_directories(rootfs / "tmp", ec);
    fs::copy_file("/bin/busybox", rootfs / "bin/busybox", fs::copy_options::overwrite_existing, ec);
    if (ec) {
        return core::make_error(
            fmt::format("cannot copy /bin/busybox (busybox-static): {}", ec.message()));
    }
    for (const char* tool : {"sh", "echo", "renice", "sleep", "true", "chroot", "chown", "touch"}) {
        fs::create_symlink("busybox", rootfs / "bin" / tool, ec);
    }
    const std::string spec_dir = dir + "/spec";
    fs::create_directories(spec_dir, ec);
    if (int status = runc({"spec", "--bundle", spec_dir}); status != 0) {
        return core::make_error(fmt::format("runc spec failed (status {})", status));
    }
    auto text = read_text(spec_dir + "/config.json");
    if (!text) {
        return text.error();
    }
    auto config = nlohmann::json::parse(*text, nullptr, false);
    if (config.is_discarded()) {
        return core::make_error("runc spec wrote malformed JSON");
    }
    config["process"]["terminal"] = false;
    config["process"]["args"] = {"sh", "-c", script};
    config["root"]["readonly"] = false;
    {
        std::ofstream out(spec_dir + "/config.json");
        out << config.dump(2);
    }
    fs::rename(rootfs, fs::path(spec_dir) / "rootfs", ec);
    if (ec) {
        return core::make_error(fmt::format("cannot move the rootfs: {}", ec.message()));
    }
    // The final config: the spec with exactly caps, rooted at the spec's rootfs.
    auto written = write_bundle_with_caps(spec_dir, caps, dir);
    return written;
}

core::Result<RuncRun> RuncRun::create(const std::string& bundle, const std::string& id) {
    // The container's init outlives `runc create`: be its reaper, to learn how it ends.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    if (int status = runc({"create", "--bundle", bundle, id}); status != 0) {
        runc({"delete", "-f", id});
        return core::make_error(fmt::format("runc create failed (status {})", status));
    }
    auto state_text = read_text("/run/runc/" + id + "/state.json");
    if (!state_text) {
        runc({"delete", "-f", id});
        return state_text.error();
    }
    auto state = parse_runc_state(*state_text);
    if (!state) {
        runc({"delete", "-f", id});
        return state.error();
    }
    return RuncRun(id, state->init_pid);
}

RuncRun::RuncRun(std::string id, pid_t init_pid)
    : id_(std::move(id)), init_pid_(init_pid),
      pidfd_(static_cast<int>(::syscall(SYS_pidfd_open, init_pid, 0))) {}

RuncRun::RuncRun(RuncRun&& other) noexcept
    : id_(std::move(other.id_)), init_pid_(std::exchange(other.init_pid_, -1)),
      pidfd_(std::exchange(other.pidfd_, -1)), reaped_(std::exchange(other.reaped_, true)) {}

RuncRun::~RuncRun() {
    if (pidfd_ >= 0) {
        ::close(pidfd_);
    }
    if (init_pid_ <= 0) {
        return;
    }
    runc({"delete", "-f", id_});
    if (!reaped_) {
        ::waitpid(init_pid_, nullptr, 0);
    }
}

core::Status RuncRun::start() {
    if (int status = runc({"start", id_}); status != 0) {
        return core::make_error(fmt::format("runc start failed (status {})", status));
    }
    return core::Ok{};
}

std::optional<int> RuncRun::try_wait() {
    if (reaped_) {
        return std::nullopt;
    }
    int status = 0;
    if (::waitpid(init_pid_, &status, WNOHANG) != init_pid_) {
        return std::nullopt;
    }
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

} // namespace capwise::container
