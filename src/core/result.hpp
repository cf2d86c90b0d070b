// Errors as values: a small stand-in for C++23 std::expected, so recoverable failures
// (a vanished pid, a corrupt xattr) travel to the caller instead of throwing.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace capwise::core {

// One human-readable line, already phrased for the user ("process 42 does not exist").
struct Error {
    std::string message;
    int errno_value = 0; // the errno behind it, 0 when the failure is not a syscall's
};

// E: what a failure carries; the application layer's flows use one with an exit status.
template <typename T, typename E = Error>
class [[nodiscard]] Result {
  public:
    Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
    Result(E error) : state_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(state_); }
    const T& value() const& { return std::get<0>(state_); }
    T&& value() && { return std::get<0>(std::move(state_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const E& error() const { return std::get<1>(state_); }

  private:
    std::variant<T, E> state_;
};

// For operations that return nothing but can fail.
struct Ok {};
using Status = Result<Ok>;

inline Error make_error(std::string message, int errno_value = 0) {
    return Error{std::move(message), errno_value};
}

} // namespace capwise::core
