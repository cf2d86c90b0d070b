#include "container/runc_bundle.hpp"

#include "container/oci_state.hpp"
#include "container/runc_cli.hpp"
#include "core/atomic_file.hpp"
#include "core/pipe_relay.hpp"
#include "core/process.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace capwise::container {
namespace {

using namespace std::chrono_literals;

// runc's own work is quick; these only stop a wedged runc from hanging capwise.
constexpr auto kRuncLimit = 60s;

core::Error runc_failed(const std::string& step, const RuncResult& r) {
    return core::make_error(r.message.empty()
                                ? fmt::format("runc {} failed (status {})", step, r.status)
                                : fmt::format("runc {} failed: {}", step, r.message));
}

// A config or state file: hostile input, so bounded (16 MiB is far beyond any real one).
core::Result<std::string> read_text(const std::string& path) {
    auto text = core::read_small_file_at(AT_FDCWD, path.c_str(), 16u << 20);
    if (!text) {
        return core::make_error(fmt::format("cannot read {}: {}", path, text.error().message));
    }
    return text;
}

} // namespace

namespace {
core::Result<nlohmann::json> read_config(const std::string& bundle) {
    auto text = read_text(bundle + "/config.json");
    if (!text) {
        return text.error();
    }
    auto config = nlohmann::json::parse(*text, nullptr, false);
    if (config.is_discarded() || !config.is_object() || !config.contains("process") ||
        !config["process"].is_object()) {
        return core::make_error(fmt::format("{}/config.json: not an OCI config", bundle));
    }
    return config;
}
// root.path made absolute (relative paths are the bundle directory's).
std::string rootfs_of(const std::string& bundle, const nlohmann::json& config) {
    std::string root = "rootfs";
    if (config.contains("root") && config["root"].is_object() && config["root"].contains("path") &&
        config["root"]["path"].is_string()) {
        root = config["root"]["path"].get<std::string>();
    }
    return std::filesystem::absolute(std::filesystem::path(bundle) / root).string();
}
} // namespace

core::Status write_bundle_copy(const std::string& bundle, const BundleChanges& changes,
                               const std::string& dir) {
    auto config = read_config(bundle);
    if (!config) {
        return config.error();
    }
    if (changes.caps) {
        nlohmann::json names = nlohmann::json::array();
        for (int cap : changes.caps->members()) {
            names.push_back(core::cap_kernel_name(cap));
        }
        (*config)["process"]["capabilities"] = {{"bounding", names},
                                                {"effective", names},
                                                {"permitted", names},
                                                {"inheritable", names},
                                                {"ambient", names}};
    }
    if (changes.seccomp) {
        if (!config->contains("linux") || !(*config)["linux"].is_object()) {
            (*config)["linux"] = nlohmann::json::object();
        }
        (*config)["linux"]["seccomp"] = *changes.seccomp;
    }
    (*config)["root"]["path"] = changes.root ? *changes.root : rootfs_of(bundle, *config);
    return core::write_file_atomically(dir + "/config.json", config->dump(2));
}

core::Result<BundleFacts> read_bundle_facts(const std::string& bundle) {
    auto config = read_config(bundle);
    if (!config) {
        return config.error();
    }
    BundleFacts facts;
    facts.seccomp = config->contains("linux") && (*config)["linux"].is_object() &&
                    (*config)["linux"].contains("seccomp") &&
                    !(*config)["linux"]["seccomp"].is_null();
    facts.rootfs = rootfs_of(bundle, *config);
    auto flag = [](const nlohmann::json& object, const char* key) {
        auto it = object.find(key);
        return it != object.end() && it->is_boolean() && it->get<bool>();
    };
    if (auto root = config->find("root"); root != config->end() && root->is_object()) {
        facts.readonly_root = flag(*root, "readonly");
    }
    facts.no_new_privileges = flag((*config)["process"], "noNewPrivileges");
    return facts;
}

core::Status write_bundle_with_caps(const std::string& bundle, core::CapSet caps,
                                    const std::string& dir) {
    BundleChanges changes;
    changes.caps = caps;
    return write_bundle_copy(bundle, changes, dir);
}

core::Result<bool> bundle_has_seccomp(const std::string& bundle) {
    auto config = read_config(bundle);
    if (!config) {
        return config.error();
    }
    return config->contains("linux") && (*config)["linux"].is_object() &&
           (*config)["linux"].contains("seccomp") && !(*config)["linux"]["seccomp"].is_null();
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
    auto spec = runc_spec_config(spec_dir);
    if (!spec) {
        return spec.error();
    }
    nlohmann::json& config = *spec;
    config["process"]["terminal"] = false;
    config["process"]["args"] = {"sh", "-c", script};
    config["root"]["readonly"] = false;
    if (auto written = core::write_file_atomically(spec_dir + "/config.json", config.dump(2));
        !written) {
        return written;
    }
    fs::rename(rootfs, fs::path(spec_dir) / "rootfs", ec);
    if (ec) {
        return core::make_error(fmt::format("cannot move the rootfs: {}", ec.message()));
    }
    // The final config: the spec with exactly caps, rooted at the spec's rootfs.
    auto written = write_bundle_with_caps(spec_dir, caps, dir);
    return written;
}

namespace {

// A process that outlives capwise to delete its container: it waits for EOF on a pipe only
// capwise holds; a byte before EOF means capwise cleaned up itself. Only read, execve and _exit
// run in the forked child.
core::Result<std::pair<pid_t, core::UniqueFd>> start_guard(const std::string& id,
                                                           const std::string& scratch_dir) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
        return core::make_error(fmt::format("pipe: {}", std::strerror(errno)), errno);
    }
    const std::string script = "timeout -k 5 60 runc delete -f \"$1\" >/dev/null 2>&1; "
                               "[ -z \"$2\" ] || { umount -l \"$2/rootfs\" 2>/dev/null; "
                               "rm -rf --one-file-system -- \"$2\"; }";
    const char* argv[] = {"/bin/sh",           "-c",   script.c_str(), "capwise-guard", id.c_str(),
                          scratch_dir.c_str(), nullptr};
    const pid_t pid = ::fork();
    if (pid < 0) {
        const int err = errno;
        ::close(p[0]);
        ::close(p[1]);
        return core::make_error(fmt::format("fork: {}", std::strerror(err)), err);
    }
    if (pid == 0) {
        ::close(p[1]);
        // Its own process group: a Ctrl-C meant for capwise must not take the guard with it; and
        // its own name, so that `pkill capwise` does not either.
        ::setpgid(0, 0);
        ::prctl(PR_SET_NAME, "cw-guard");
        char byte = 0;
        ssize_t n;
        do {
            n = ::read(p[0], &byte, 1);
        } while (n < 0 && errno == EINTR);
        if (n == 1) {
            ::_exit(0);
        }
        ::execv("/bin/sh", const_cast<char* const*>(argv));
        ::_exit(127);
    }
    ::close(p[0]);
    return std::make_pair(pid, core::UniqueFd(p[1]));
}

} // namespace

core::Result<RuncRun> RuncRun::create(const std::string& bundle, const std::string& id, bool quiet,
                                      const std::string& scratch_dir,
                                      const std::function<void(pid_t)>& before_create) {
    // The container's init outlives `runc create`: be its reaper, to learn how it ends.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    auto guard = start_guard(id, scratch_dir);
    if (!guard) {
        return guard.error();
    }
    auto finish_guard = [&] {
        (void)core::write_fd_all(guard->second.get(), "1");
        guard->second.reset();
        ::waitpid(guard->first, nullptr, 0);
    };
    auto created = run_runc({"create", "--bundle", bundle, id}, kRuncLimit, /*keep_stderr=*/true,
                            /*discard_stdout=*/quiet, before_create);
    if (created.status != 0) {
        (void)run_runc({"delete", "-f", id}, kRuncLimit);
        finish_guard();
        return runc_failed("create", created);
    }
    auto state_text = read_text("/run/runc/" + id + "/state.json");
    if (!state_text) {
        (void)run_runc({"delete", "-f", id}, kRuncLimit);
        finish_guard();
        return state_text.error();
    }
    auto state = parse_runc_state(*state_text);
    if (!state) {
        (void)run_runc({"delete", "-f", id}, kRuncLimit);
        finish_guard();
        return state.error();
    }
    return RuncRun(id, state->init_pid, std::move(created.container_stderr), quiet, guard->first,
                   std::move(guard->second));
}

RuncRun::RuncRun(std::string id, pid_t init_pid, core::UniqueFd container_stderr, bool quiet,
                 pid_t guard, core::UniqueFd guard_fd)
    : id_(std::move(id)), init_pid_(init_pid),
      pidfd_(static_cast<int>(::syscall(SYS_pidfd_open, init_pid, 0))), guard_(guard),
      guard_fd_(std::move(guard_fd)),
      relay_(std::make_unique<core::PipeRelay>(std::move(container_stderr), quiet)) {}

RuncRun::RuncRun(RuncRun&& other) noexcept
    : id_(std::move(other.id_)), init_pid_(std::exchange(other.init_pid_, -1)),
      pidfd_(std::exchange(other.pidfd_, -1)), reaped_(std::exchange(other.reaped_, true)),
      guard_(std::exchange(other.guard_, -1)), guard_fd_(std::move(other.guard_fd_)),
      relay_(std::move(other.relay_)) {}

RuncRun::~RuncRun() {
    if (pidfd_ >= 0) {
        ::close(pidfd_);
    }
    if (init_pid_ <= 0) {
        return;
    }
    (void)run_runc({"delete", "-f", id_}, kRuncLimit);
    if (!reaped_) {
        // Deleted, the container's init is gone; if runc could not delete it, it goes now (it is
        // our child, so the pid cannot have been reused).
        ::kill(init_pid_, SIGKILL);
        ::waitpid(init_pid_, nullptr, 0);
    }
    relay_.reset(); // every process of the container is gone: forward what is left, stop
    if (guard_ > 0) {
        (void)core::write_fd_all(guard_fd_.get(), "1"); // cleaned up: the guard just exits
        guard_fd_.reset();
        ::waitpid(guard_, nullptr, 0);
    }
}

void RuncRun::signal(int sig) const {
    (void)run_runc({"kill", id_, std::to_string(sig)}, kRuncLimit);
}

void RuncRun::stop_all() const {
    (void)run_runc({"kill", "--all", id_, "KILL"}, kRuncLimit);
}

core::Status RuncRun::start() {
    if (auto r = run_runc({"start", id_}, kRuncLimit); r.status != 0) {
        return runc_failed("start", r);
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
