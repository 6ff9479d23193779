#include "link-table.hpp"

#include <algorithm>

namespace natd {

namespace {

template <class... Ts>
struct Overloaded : Ts... {
        using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace

bool LinkTable::apply(const LinkEvent& event) {
        return std::visit(
                Overloaded{
                        [&](const LinkAdded& e) {
                                Link updated = e.link;
                                auto it = links_.find(updated.ifindex);
                                if (it != links_.end())
                                        updated.ipv4 = it->second.ipv4;  // not in RTM_NEWLINK
                                if (it != links_.end() && it->second == updated)
                                        return false;
                                links_[updated.ifindex] = std::move(updated);
                                return true;
                        },
                        [&](const LinkRemoved& e) { return links_.erase(e.ifindex) > 0; },
                        [&](const AddressAdded& e) {
                                // An address may be announced before its link in a
                                // dump race; the link's own message fills the rest.
                                auto& addrs = links_[e.ifindex].ipv4;
                                links_[e.ifindex].ifindex = e.ifindex;
                                if (std::find(addrs.begin(), addrs.end(), e.address) != addrs.end())
                                        return false;
                                addrs.push_back(e.address);
                                return true;
                        },
                        [&](const AddressRemoved& e) {
                                auto it = links_.find(e.ifindex);
                                if (it == links_.end())
                                        return false;
                                auto& addrs = it->second.ipv4;
                                auto pos = std::find(addrs.begin(), addrs.end(), e.address);
                                if (pos == addrs.end())
                                        return false;
                                addrs.erase(pos);
                                return true;
                        },
                },
                event);
}

std::vector<Link> LinkTable::links() const {
        std::vector<Link> out;
        out.reserve(links_.size());
        for (const auto& [_, link] : links_)
                if (!link.name.empty())  // skip addresses whose link we have not seen yet
                        out.push_back(link);
        return out;
}

const Link* LinkTable::find(int ifindex) const {
        auto it = links_.find(ifindex);
        return it == links_.end() ? nullptr : &it->second;
}

}  // namespace natd
