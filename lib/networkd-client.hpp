// natd's calls to systemd-networkd over D-Bus (org.freedesktop.network1),
// asynchronous on natd's event loop.
#pragma once

#include <functional>

#include "handles.hpp"
#include "result.hpp"

namespace natd {

class NetworkdClient {
public:
        using Done = std::function<void(const Status&)>;

        // `bus` may be null (no system bus): every call then fails at once.
        explicit NetworkdClient(sd_bus* bus) : bus_(bus) {}

        // Manager.Reload(): re-read .network files and drop-ins; links whose
        // files changed are reconfigured.
        void reload(Done done);

private:
        void call(const char* method, Done done);

        sd_bus* bus_;
};

}  // namespace natd
