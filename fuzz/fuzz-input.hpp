// What the fuzz targets share: cutting the fuzzer's bytes into the pieces a
// parser takes, and walking them as netlink messages the way natd's socket
// loop does. Header-only: each target is one source file, linked either
// with libFuzzer (clang) or with replay-main.cpp (the ordinary build).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include <libmnl/libmnl.h>

namespace natd::fuzz {

inline std::string_view as_text(const uint8_t* data, size_t size) {
        return {reinterpret_cast<const char*>(data), size};
}

// `text` cut at every `separator`: a 1-byte input gives one piece, so every
// input is a valid one. The seeds use the separator, and libFuzzer's
// mutations keep it, so multi-piece inputs (drop-in sets, IMDS items) are
// explored as much as single ones.
inline std::vector<std::string_view> split(std::string_view text, std::string_view separator) {
        std::vector<std::string_view> pieces;
        for (;;) {
                const size_t at = text.find(separator);
                if (at == std::string_view::npos) {
                        pieces.push_back(text);
                        return pieces;
                }
                pieces.push_back(text.substr(0, at));
                text.remove_prefix(at + separator.size());
        }
}

// Calls `parse` with every netlink message in `data`, as mnl_cb_run() hands
// them to natd's callbacks (lib/netlink-socket.cpp): the buffer is walked
// with mnl_nlmsg_ok()/mnl_nlmsg_next(), so a message's nlmsg_len is at
// least a header and at most what is left, exactly the guarantees the real
// loop gives; control messages (NLMSG_ERROR, NLMSG_DONE, ...) are mnl_cb_run's
// own and never reach a parser. Nothing else is trusted: the family header
// and the attributes inside are the fuzzer's. Each message is copied to a
// heap buffer of exactly its aligned length, so AddressSanitizer reports a
// parser that reads past the message's end (in the real receive buffer
// that read would silently see the next message). Reads inside libmnl and
// libnftnl are not instrumented: a parser that lets libmnl read past an
// attribute (mnl_attr_get_u32() of a shorter one) is not seen this way.
template <typename Parse>
void for_each_netlink_message(const uint8_t* data, size_t size, Parse&& parse) {
        if (size > static_cast<size_t>(INT32_MAX))  // libmnl counts in int
                return;
        // An aligned copy: nlmsghdr is read in place, as from recv()'s buffer.
        std::unique_ptr<char[]> whole(new char[size == 0 ? 1 : size]);
        if (size > 0)
                std::memcpy(whole.get(), data, size);
        int left = static_cast<int>(size);
        for (const auto* nlh = reinterpret_cast<const nlmsghdr*>(whole.get());
             mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
                // mnl_nlmsg_ok() compares (int)nlmsg_len with what is left,
                // so a length of 2^31 or more passes it and mnl_cb_run()
                // would hand that message on. The kernel never sends one (a
                // message fits the receive buffer); natd trusts it there,
                // and the target checks it, unsigned, rather than report
                // libmnl's quirk as a parser's fault.
                if (nlh->nlmsg_len > static_cast<uint32_t>(left))
                        break;
                if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
                        continue;
                // libmnl bounds attributes by the message's aligned end
                // (mnl_nlmsg_get_payload_tail()), so the copy keeps the up
                // to 3 bytes of padding the kernel's buffer has, zeroed.
                const size_t aligned = MNL_ALIGN(nlh->nlmsg_len);
                std::unique_ptr<char[]> one(new char[aligned]());
                std::memcpy(one.get(), nlh, nlh->nlmsg_len);
                parse(reinterpret_cast<const nlmsghdr*>(one.get()));
        }
}

}  // namespace natd::fuzz
