#include "cluster/kubectl.hpp"

#include "core/subprocess.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <cerrno>
#include <fmt/format.h>

namespace capwise::cluster {
namespace {

// kubectl's last non-empty stderr line ("Error from server (NotFound): ..."), printable.
std::string last_line(const std::string& err) {
    std::string_view text = err;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    const auto nl = text.rfind('\n');
    return core::printable(nl == std::string_view::npos ? text : text.substr(nl + 1), 400);
}

core::Error failure(const std::string& what, const core::SubprocessResult& r,
                    const std::chrono::milliseconds limit) {
    if (r.interrupted) {
        return core::make_error(fmt::format("{}: interrupted", what), EINTR);
    }
    if (r.truncated) {
        return core::make_error(fmt::format("{}: the answer is larger than 64 MiB (stopped)", what),
                                EFBIG);
    }
    if (r.timed_out) {
        return core::make_error(
            fmt::format("{}: no answer within {} s (stopped)", what, limit.count() / 1000),
            ETIMEDOUT);
    }
    const std::string said = last_line(r.err);
    int err = EIO;
    if (said.find("(NotFound)") != std::string::npos) {
        err = ENOENT;
    } else if (said.find("(Forbidden)") != std::string::npos) {
        err = EACCES;
    }
    return core::make_error(
        fmt::format("{}: {}", what, said.empty() ? fmt::format("exit status {}", r.status) : said),
        err);
}

} // namespace

std::string url_encode(std::string_view text) {
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

bool valid_namespace(std::string_view name) {
    if (name.empty() || name.size() > 63) {
        return false;
    }
    auto alnum = [](unsigned char c) { return std::islower(c) != 0 || std::isdigit(c) != 0; };
    return alnum(name.front()) && alnum(name.back()) &&
           std::all_of(name.begin(), name.end(),
                       [&](unsigned char c) { return alnum(c) || c == '-'; });
}

bool valid_object_name(std::string_view name) {
    if (name.empty() || name.size() > 253) {
        return false;
    }
    while (!name.empty()) {
        const auto dot = name.find('.');
        if (!valid_namespace(name.substr(0, dot))) {
            return false;
        }
        if (dot == std::string_view::npos) {
            break;
        }
        name.remove_prefix(dot + 1);
        if (name.empty()) {
            return false; // a trailing dot
        }
    }
    return true;
}

std::vector<std::string> Kubectl::base() const {
    std::vector<std::string> argv{config_.program};
    if (config_.kubeconfig) {
        argv.push_back("--kubeconfig=" + *config_.kubeconfig);
    }
    if (config_.context) {
        argv.push_back("--context=" + *config_.context);
    }
    // No --request-timeout: kubectl would add it to the raw path as a query; capwise bounds
    // each call itself (the whole kubectl process group is killed past the limit).
    return argv;
}

core::Result<std::string> Kubectl::get_text(const std::string& path) const {
    auto argv = base();
    argv.insert(argv.end(), {"get", "--raw", path});
    auto r = core::run_subprocess(argv, {}, limits(config_.timeout + std::chrono::seconds(5)));
    if (!r) {
        // Not ENOENT: that is what "the object does not exist" says.
        return core::make_error(r.error().errno_value == ENOENT
                                    ? fmt::format("kubectl not found ({}): kubectl capwise uses "
                                                  "your kubectl for every API call",
                                                  core::printable(config_.program))
                                    : r.error().message,
                                ENOEXEC);
    }
    if (r->status != 0 || r->timed_out || r->interrupted || r->truncated) {
        return failure(fmt::format("GET {}", path), *r, config_.timeout);
    }
    return std::move(r->out);
}

core::Result<nlohmann::json> Kubectl::get_json(const std::string& path) const {
    auto text = get_text(path);
    if (!text) {
        return text.error();
    }
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return core::make_error(fmt::format("GET {}: the answer is not a JSON object", path),
                                EPROTO);
    }
    return j;
}

core::Result<std::string> Kubectl::current_namespace() const {
    auto argv = base();
    argv.insert(argv.end(), {"config", "view", "--minify", "-o", "jsonpath={..namespace}"});
    auto r = core::run_subprocess(argv, {}, limits(config_.timeout));
    if (!r) {
        return r.error();
    }
    if (r->status != 0) {
        // No current context (a fresh kubeconfig): kubectl itself would use "default".
        return std::string("default");
    }
    std::string ns(core::trim(r->out));
    return ns.empty() ? std::string("default") : ns;
}

core::Result<std::string> Kubectl::apply(const std::string& manifests) const {
    auto argv = base();
    argv.insert(argv.end(), {"apply", "-f", "-"});
    auto r =
        core::run_subprocess(argv, manifests, limits(config_.timeout + std::chrono::seconds(5)));
    if (!r) {
        return r.error();
    }
    if (r->status != 0 || r->timed_out || r->interrupted || r->truncated) {
        return failure("kubectl apply", *r, config_.timeout);
    }
    return std::move(r->out);
}

} // namespace capwise::cluster
