// natd's one error type. An error says what failed (the operation and the
// object it was done to) and, when the kernel or a system call refused, the
// errno behind it, so that callers decide on the errno ("already gone" is
// fine for a removal) and never on the text.
#pragma once

#include <string>
#include <string_view>

namespace natd {

struct Error {
        std::string message;  // the whole sentence, as logged and shown in status
        int errno_value = 0;  // 0: not from the kernel or a system call

        [[nodiscard]] bool is(int e) const { return errno_value == e; }
        // "CONTEXT: message", keeping the errno.
        [[nodiscard]] Error wrapped(std::string_view context) const;
};

// "Could not <operation>: <strerror(errno)>", carrying the errno.
Error errno_error(std::string_view operation, int errno_value);
// "Could not <operation> <object>: <strerror(errno)>".
Error errno_error(std::string_view operation, std::string_view object, int errno_value);

}  // namespace natd
