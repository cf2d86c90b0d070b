// Running an OCI bundle with runc so that its process can be traced from its first instruction:
// `runc create` (the container's init waits before exec), the caller learns the init pid and
// starts following it, then `runc start`. capwise becomes the child subreaper so it can collect
// the container's exit status. The container is deleted when this object goes.
#pragma once

#include "core/capability.hpp"
#include "core/pipe_relay.hpp"
#include "core/result.hpp"
#include "core/unique_fd.hpp"

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <sys/types.h>

namespace capwise::container {

// What a copy of a bundle changes: process.capabilities (all five sets exactly caps), and
// linux.seccomp (the profile as OCI JSON).
struct BundleChanges {
    std::optional<core::CapSet> caps;
    std::optional<nlohmann::json> seccomp;
    std::optional<std::string> root; // root.path (absolute): an overlay of the original rootfs
};
// A copy of bundle's config.json with changes, root.path pointing at the original rootfs,
// written into dir (which must exist).
core::Status write_bundle_copy(const std::string& bundle, const BundleChanges& changes,
                               const std::string& dir);
// Whether the bundle's config sets linux.seccomp.
core::Result<bool> bundle_has_seccomp(const std::string& bundle);

// What running a bundle depends on, from its config.
struct BundleFacts {
    bool seccomp = false;           // linux.seccomp is set
    std::string rootfs;             // root.path, absolute
    bool readonly_root = false;     // root.readonly
    bool no_new_privileges = false; // process.noNewPrivileges
};
core::Result<BundleFacts> read_bundle_facts(const std::string& bundle);

// A copy of bundle's config.json whose process.capabilities (all five sets) are exactly caps,
// with root.path pointing at the original rootfs, written into dir (which must exist).
core::Status write_bundle_with_caps(const std::string& bundle, core::CapSet caps,
                                    const std::string& dir);

// A minimal bundle in dir: a busybox-static rootfs and `runc spec`'s config, running
// `sh -c script` with exactly caps. For the demo and the tests; needs /bin/busybox and runc.
core::Status make_busybox_bundle(const std::string& dir, const std::string& script,
                                 core::CapSet caps);

class RuncRun {
  public:
    // runc create: the container exists, its init is waiting to exec. Quiet: the container's
    // stdout and stderr are discarded (re-runs), else they reach capwise's own. A guard process
    // deletes the container (and removes scratch_dir, when given) if capwise dies, even by
    // SIGKILL, before this object cleaned up.
    static core::Result<RuncRun> create(const std::string& bundle, const std::string& id,
                                        bool quiet = false, const std::string& scratch_dir = "",
                                        const std::function<void(pid_t)>& before_create = {});
    RuncRun(RuncRun&& other) noexcept;
    RuncRun& operator=(RuncRun&&) = delete;
    RuncRun(const RuncRun&) = delete;
    ~RuncRun();

    pid_t init_pid() const { return init_pid_; }
    core::Status start();
    // The container process's exit status (128+signal when killed) once it has ended.
    std::optional<int> try_wait();
    // Readable when the container process ends (a pidfd; -1 before Linux 5.3).
    int exit_fd() const { return pidfd_; }
    // The container's init gets sig (runc kill).
    void signal(int sig) const;
    // Every process of the container gets SIGKILL (runc kill --all).
    void stop_all() const;

  private:
    RuncRun(std::string id, pid_t init_pid, core::UniqueFd container_stderr, bool quiet,
            pid_t guard, core::UniqueFd guard_fd);
    std::string id_;
    pid_t init_pid_ = -1;
    int pidfd_ = -1;
    bool reaped_ = false;
    pid_t guard_ = -1;
    core::UniqueFd guard_fd_; // write end: one byte says "cleaned up", EOF alone "capwise died"
    // The container writes its stderr into the pipe runc's own messages were captured from;
    // a thread passes it on to capwise's stderr while the container lives.
    std::unique_ptr<core::PipeRelay> relay_;
};

} // namespace capwise::container
