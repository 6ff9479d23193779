// Decides whether natd repairs something that was undone, so that natd never
// fights another program forever: more than `max_repairs` undos of the same
// part within `window` suspend its repair until the part stays quiet for a
// whole window. Pure: time comes in as arguments.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace natd {

class RepairGuard {
public:
        explicit RepairGuard(size_t max_repairs = 20, uint64_t window_usec = 60ULL * 1000 * 1000)
            : max_repairs_(max_repairs), window_usec_(window_usec) {}

        // `part` ("ruleset", "routes", "forwarding") was found undone at
        // `now`. True: repair it. False: its repair is suspended.
        bool allow(const std::string& part, uint64_t now_usec);

        [[nodiscard]] bool suspended(const std::string& part) const;
        [[nodiscard]] std::vector<std::string> suspended_parts() const;

        // Lifts the suspension of every part left alone for a whole window;
        // returns those parts.
        std::vector<std::string> resume_quiet(uint64_t now_usec);

        // When the next suspension can lift, if any is in force.
        [[nodiscard]] std::optional<uint64_t> next_resume_usec() const;

private:
        struct History {
                std::deque<uint64_t> undone;  // within the window
                uint64_t last_undone = 0;
                bool suspended = false;
        };

        size_t max_repairs_;
        uint64_t window_usec_;
        std::map<std::string, History> parts_;
};

}  // namespace natd
