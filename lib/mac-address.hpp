// Ethernet MAC addresses, as ENIs have them.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "result.hpp"

namespace natd {

class MacAddress {
public:
        MacAddress() = default;
        explicit MacAddress(std::array<uint8_t, 6> bytes) : bytes_(bytes) {}

        // Six colon-separated pairs of hex digits, any case: "0a:1b:2c:3d:4e:5f".
        static Result<MacAddress> parse(std::string_view text);
        // From IFLA_ADDRESS; an error unless exactly 6 bytes.
        static Result<MacAddress> from_bytes(std::span<const uint8_t> bytes);

        [[nodiscard]] const std::array<uint8_t, 6>& bytes() const { return bytes_; }
        [[nodiscard]] std::string str() const;  // lower case, colon separated

        bool operator==(const MacAddress&) const = default;

private:
        std::array<uint8_t, 6> bytes_{};
};

}  // namespace natd
