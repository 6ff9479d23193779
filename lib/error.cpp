#include "error.hpp"

#include <cstring>

namespace natd {

Error Error::wrapped(std::string_view context) const {
        std::string text(context);
        text += ": ";
        text += message;
        return Error{std::move(text), errno_value};
}

Error errno_error(std::string_view operation, int errno_value) {
        std::string text = "Could not ";
        text += operation;
        text += ": ";
        text += std::strerror(errno_value);
        return Error{std::move(text), errno_value};
}

Error errno_error(std::string_view operation, std::string_view object, int errno_value) {
        std::string what(operation);
        what += ' ';
        what += object;
        return errno_error(what, errno_value);
}

}  // namespace natd
