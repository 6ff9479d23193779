#include "mac-address.hpp"

namespace natd {

namespace {

int hex_value(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

}  // namespace

Result<MacAddress> MacAddress::parse(std::string_view text) {
        const auto fail = [text]() -> Result<MacAddress> {
                return Error{"invalid MAC address '" + std::string(text) +
                             "': expected six colon-separated pairs of hex digits"};
        };
        // "xx:xx:xx:xx:xx:xx": pair i starts at 3*i, colons in between.
        if (text.size() != 17)
                return fail();
        std::array<uint8_t, 6> bytes{};
        for (size_t i = 0; i < 6; ++i) {
                const int hi = hex_value(text[3 * i]);
                const int lo = hex_value(text[3 * i + 1]);
                if (hi < 0 || lo < 0 || (i < 5 && text[3 * i + 2] != ':'))
                        return fail();
                bytes[i] = static_cast<uint8_t>(hi * 16 + lo);
        }
        return MacAddress{bytes};
}

Result<MacAddress> MacAddress::from_bytes(std::span<const uint8_t> bytes) {
        if (bytes.size() != 6)
                return Error{"invalid MAC address: " + std::to_string(bytes.size()) +
                             " bytes, expected 6"};
        std::array<uint8_t, 6> a{};
        for (size_t i = 0; i < 6; ++i)
                a[i] = bytes[i];
        return MacAddress{a};
}

std::string MacAddress::str() const {
        static constexpr char digits[] = "0123456789abcdef";
        std::string s;
        s.reserve(17);
        for (const uint8_t b : bytes_) {
                if (!s.empty())
                        s += ':';
                s += digits[b >> 4];
                s += digits[b & 0xf];
        }
        return s;
}

}  // namespace natd
