// A value or an error message: the return type of every parser and of
// fallible operations whose caller decides how loud the failure is.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "error.hpp"

namespace natd {

template <typename T>
class [[nodiscard]] Result {
public:
        Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
        Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

        [[nodiscard]] bool ok() const { return std::holds_alternative<T>(v_); }
        explicit operator bool() const { return ok(); }

        [[nodiscard]] const T& value() const& { return std::get<T>(v_); }
        [[nodiscard]] T& value() & { return std::get<T>(v_); }
        [[nodiscard]] T&& value() && { return std::get<T>(std::move(v_)); }
        [[nodiscard]] const std::string& error() const { return failure().message; }
        [[nodiscard]] const Error& failure() const { return std::get<Error>(v_); }
        // The errno behind the failure, 0 when there is none.
        [[nodiscard]] int errno_value() const { return ok() ? 0 : failure().errno_value; }

private:
        std::variant<T, Error> v_;
};

// For operations that return nothing on success.
struct Ok {};
using Status = Result<Ok>;

inline std::string join(const std::vector<std::string>& parts, std::string_view separator = "; ") {
        std::string out;
        for (const auto& p : parts) {
                if (!out.empty())
                        out += separator;
                out += p;
        }
        return out;
}

// Ok when nothing failed, else every failure in one message.
inline Status status_of(const std::vector<std::string>& errors) {
        if (errors.empty())
                return Ok{};
        return Error{join(errors)};
}

}  // namespace natd
