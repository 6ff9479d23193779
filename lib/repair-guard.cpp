#include "repair-guard.hpp"

namespace natd {

bool RepairGuard::allow(const std::string& part, uint64_t now_usec) {
        History& h = parts_[part];
        h.last_undone = now_usec;
        h.undone.push_back(now_usec);
        while (!h.undone.empty() && h.undone.front() + window_usec_ <= now_usec)
                h.undone.pop_front();
        if (h.undone.size() > max_repairs_)
                h.suspended = true;
        return !h.suspended;
}

bool RepairGuard::suspended(const std::string& part) const {
        auto it = parts_.find(part);
        return it != parts_.end() && it->second.suspended;
}

std::vector<std::string> RepairGuard::suspended_parts() const {
        std::vector<std::string> out;
        for (const auto& [part, h] : parts_)
                if (h.suspended)
                        out.push_back(part);
        return out;
}

std::vector<std::string> RepairGuard::resume_quiet(uint64_t now_usec) {
        std::vector<std::string> resumed;
        for (auto& [part, h] : parts_)
                if (h.suspended && h.last_undone + window_usec_ <= now_usec) {
                        h = History{};
                        resumed.push_back(part);
                }
        return resumed;
}

std::optional<uint64_t> RepairGuard::next_resume_usec() const {
        std::optional<uint64_t> next;
        for (const auto& [_, h] : parts_)
                if (h.suspended && (!next || h.last_undone + window_usec_ < *next))
                        next = h.last_undone + window_usec_;
        return next;
}

}  // namespace natd
