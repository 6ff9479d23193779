#include "networkd-client.hpp"

#include <cstring>
#include <string>

namespace natd {

namespace {

constexpr const char* kService = "org.freedesktop.network1";
constexpr const char* kPath = "/org/freedesktop/network1";
constexpr const char* kInterface = "org.freedesktop.network1.Manager";

int on_reply(sd_bus_message* m, void* userdata, sd_bus_error*) {
        const auto& done = *static_cast<NetworkdClient::Done*>(userdata);
        if (const sd_bus_error* e = sd_bus_message_get_error(m))
                done(Error{std::string("networkd refused: ") +
                           (e->message != nullptr ? e->message : e->name)});
        else
                done(Ok{});
        return 0;
}

void free_done(void* userdata) {
        delete static_cast<NetworkdClient::Done*>(userdata);
}

}  // namespace

void NetworkdClient::reload(Done done) {
        call("Reload", std::move(done));
}

void NetworkdClient::call(const char* method, Done done) {
        const std::string what = std::string("Could not call networkd ") + method + ": ";
        if (bus_ == nullptr) {
                done(Error{what + "no system bus"});
                return;
        }
        auto* owned = new Done(std::move(done));
        sd_bus_slot* slot = nullptr;
        const int r = sd_bus_call_method_async(bus_, &slot, kService, kPath, kInterface, method,
                                               on_reply, owned, "");
        if (r < 0) {
                const Done failed = std::move(*owned);
                delete owned;
                failed(Error{what + std::strerror(-r)});
                return;
        }
        // The bus owns the pending call and frees the callback when it ends,
        // answered or not.
        sd_bus_slot_set_destroy_callback(slot, free_done);
        sd_bus_slot_set_floating(slot, 1);
        sd_bus_slot_unref(slot);
}

}  // namespace natd
