// The HTTP endpoint of [Metrics] Listen=: GET /metrics answers with the
// exposition. GNU libmicrohttpd parses HTTP, in its external event loop
// mode (MHD_USE_EPOLL, no internal thread): its epoll descriptor is an
// io source of natd's sd-event loop, MHD_run() runs when it is readable,
// and a timer honours MHD_get_timeout() (connection timeouts, and work
// MHD has left for the next call). natd stays one thread.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <systemd/sd-event.h>

#include "handles.hpp"
#include "ipv4.hpp"
#include "result.hpp"

namespace natd {

class MetricsServer {
public:
        // Called for every GET /metrics: the exposition as of now.
        using Render = std::function<std::string()>;

        // Binds `at` and serves on `loop`; an error ("Could not listen on
        // 127.0.0.1:9647: Address already in use") when it cannot.
        static Result<std::unique_ptr<MetricsServer>> start(sd_event* loop, const Ipv4Endpoint& at,
                                                            Render render);
        ~MetricsServer() = default;
        MetricsServer(const MetricsServer&) = delete;
        MetricsServer& operator=(const MetricsServer&) = delete;

        [[nodiscard]] const Ipv4Endpoint& endpoint() const { return at_; }

private:
        MetricsServer(sd_event* loop, Ipv4Endpoint at, Render render)
            : loop_(loop), at_(at), render_(std::move(render)) {}
        Status attach();
        void run();
        static MHD_Result answer(void* cls, MHD_Connection* connection, const char* url,
                                 const char* method, const char* version, const char* upload_data,
                                 size_t* upload_data_size, void** request);
        static void log(void* cls, const char* format, va_list args);

        sd_event* loop_;
        Ipv4Endpoint at_;
        Render render_;
        std::string last_log_;  // MHD's last complaint, for the bind error
        // Declared before the sources: they go first, the daemon (which
        // owns the epoll descriptor) last.
        MhdDaemonPtr daemon_;
        SdEventSourcePtr io_;
        SdEventSourcePtr timer_;
};

}  // namespace natd
