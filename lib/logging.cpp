#include "logging.hpp"

#include <cstdlib>
#include <memory>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace natd {

namespace {

// "%*" -> the sd-daemon(3) priority prefix digit of the message's level.
class SyslogPriorityFlag final : public spdlog::custom_flag_formatter {
public:
        void format(const spdlog::details::log_msg& msg, const std::tm&,
                    spdlog::memory_buf_t& dest) override {
                char digit = '6';  // LOG_INFO
                switch (msg.level) {
                case spdlog::level::trace:
                case spdlog::level::debug:
                        digit = '7';
                        break;
                case spdlog::level::warn:
                        digit = '4';
                        break;
                case spdlog::level::err:
                        digit = '3';
                        break;
                case spdlog::level::critical:
                        digit = '2';
                        break;
                default:
                        break;
                }
                dest.push_back(digit);
        }
        [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
                return std::make_unique<SyslogPriorityFlag>();
        }
};

}  // namespace

void setup_logging(bool debug) {
        auto logger = std::make_shared<spdlog::logger>(
                "natd", std::make_shared<spdlog::sinks::stderr_sink_mt>());
        auto formatter = std::make_unique<spdlog::pattern_formatter>();
        if (std::getenv("JOURNAL_STREAM") != nullptr)
                formatter->add_flag<SyslogPriorityFlag>('*').set_pattern("<%*>%v");
        else
                formatter->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$: %v");
        logger->set_formatter(std::move(formatter));
        logger->set_level(debug ? spdlog::level::debug : spdlog::level::info);
        logger->flush_on(spdlog::level::trace);
        spdlog::set_default_logger(std::move(logger));
}

}  // namespace natd
