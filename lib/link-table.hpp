// The links and IPv4 addresses of the network namespace, kept current from
// rtnetlink events. Pure state: LinkWatcher feeds it.
#pragma once

#include <map>
#include <vector>

#include "link-message.hpp"
#include "link.hpp"

namespace natd {

class LinkTable {
public:
        // Returns true when the table changed.
        bool apply(const LinkEvent& event);
        void clear() { links_.clear(); }

        [[nodiscard]] std::vector<Link> links() const;  // ordered by ifindex
        [[nodiscard]] const Link* find(int ifindex) const;

        bool operator==(const LinkTable&) const = default;

private:
        std::map<int, Link> links_;
};

}  // namespace natd
