#include "record/session.hpp"

#include "trace/syscalls.hpp"

namespace capwise::record {

core::Result<std::unique_ptr<Session>> Session::start(const trace::KernelSymbols& symbols,
                                                      const trace::TraceOptions& options) {
    auto tracer = trace::Tracer::start(options, symbols);
    if (!tracer) {
        return tracer.error();
    }
    return std::unique_ptr<Session>(new Session(symbols, std::move(*tracer)));
}

void Session::dispatch(const trace::TraceEvent& event) const {
    for (const auto& sink : sinks_) {
        sink(event);
    }
}

core::Result<int> Session::run(int exit_fd, const std::function<std::optional<int>()>& finished,
                               trace::RunControl* control, const std::function<int()>& take_signal,
                               int idle_wait_ms) {
    const std::function<void(const trace::TraceEvent&)> sink = [this](const auto& e) {
        dispatch(e);
    };
    std::optional<int> status;
    while (!status) {
        auto polled =
            tracer_->poll(control != nullptr ? control->wait_ms() : idle_wait_ms, sink, exit_fd);
        if (!polled) {
            return polled.error();
        }
        status = finished();
        if (!status && control != nullptr) {
            if (int sig = take_signal ? take_signal() : 0; sig != 0) {
                control->on_signal(sig);
            }
            control->tick();
        }
    }
    if (auto drained = drain(); !drained) {
        return drained.error();
    }
    return *status;
}

core::Status Session::drain() {
    const std::function<void(const trace::TraceEvent&)> sink = [this](const auto& e) {
        dispatch(e);
    };
    auto drained = tracer_->drain(sink);
    if (!drained) {
        return drained.error();
    }
    return core::Ok{};
}

std::vector<seccomp::Recording>
Session::syscalls(const std::function<std::string(std::uint64_t)>& name) const {
    std::vector<seccomp::Recording> out;
    for (const auto& recorded : tracer_->recorded_syscalls()) {
        out.push_back(to_recording(recorded, name(recorded.key)));
    }
    return out;
}

seccomp::Recording to_recording(const trace::RecordedSyscalls& recorded, std::string group) {
    seccomp::Recording r;
    r.group = std::move(group);
    for (std::size_t index = 0; index < trace::kSyscallArches; ++index) {
        const auto slot_arch = static_cast<trace::SyscallArch>(index);
        // The recorder's slots are trace's tables; their libseccomp names are seccomp's arches.
        const auto named = seccomp::parse_arch_token(trace::syscall_arch_name(slot_arch));
        if (!trace::syscall_arch_exists(slot_arch) || !named) {
            continue; // a slot this machine's kernel never fills
        }
        const seccomp::Arch arch = *named;
        for (std::size_t slot = 0; slot < trace::kSyscallsPerArch; ++slot) {
            const int nr = trace::recorded_number(slot_arch, slot);
            if (recorded.entered[index][slot]) {
                r.add(arch, nr);
            }
            if (recorded.refused[index][slot]) {
                r.add_refused(arch, nr);
            }
        }
    }
    r.clone_namespaces = recorded.clone_namespaces;
    r.out_of_range = recorded.out_of_range;
    r.from_seccomp = recorded.from_seccomp;
    return r;
}

} // namespace capwise::record
