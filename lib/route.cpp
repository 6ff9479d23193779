#include "route.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <net/if.h>
#include <netinet/in.h>

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "netlink-attributes.hpp"

namespace natd {

namespace {

nlmsghdr* route_header(char* buf, uint16_t type, uint16_t flags, uint32_t seq, uint8_t dst_len,
                       uint8_t protocol) {
        auto* nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
        nlh->nlmsg_seq = seq;
        auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
        rtm->rtm_family = AF_INET;
        rtm->rtm_dst_len = dst_len;
        rtm->rtm_table = RT_TABLE_MAIN;
        rtm->rtm_protocol = protocol;
        rtm->rtm_scope = RT_SCOPE_UNIVERSE;
        rtm->rtm_type = RTN_UNICAST;
        return nlh;
}

// RTM_NEWROUTE for `route`, natd's protocol, at `buf`. EXCL: never replace
// a route natd does not own (the public ENI's connected route, an
// admin's); sync_own_routes() creates only what is missing.
nlmsghdr* new_route_message(char* buf, const RoutePlan& route, uint32_t seq) {
        auto* nlh =
                route_header(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, seq,
                             static_cast<uint8_t>(route.destination.prefix_len()), kRouteProtocol);
        auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_get_payload(nlh));
        if (route.onlink)
                rtm->rtm_flags |= RTNH_F_ONLINK;
        mnl_attr_put_u32(nlh, RTA_TABLE, RT_TABLE_MAIN);
        mnl_attr_put_u32(nlh, RTA_DST, route.destination.address().network_order());
        mnl_attr_put_u32(nlh, RTA_GATEWAY, route.gateway.network_order());
        mnl_attr_put_u32(nlh, RTA_OIF, static_cast<uint32_t>(route.ifindex));
        return nlh;
}

std::string add_failed(const RoutePlan& route) {
        return "Could not add route " + route.destination.str() + " via " + route.gateway.str() +
               " dev " + route.ifname;
}

}  // namespace

std::vector<std::string> install_routes(NetlinkSocket& rtnl,
                                        const std::vector<const RoutePlan*>& routes) {
        if (routes.empty())
                return {};
        // One sendmsg() for all of them: the kernel adds each in turn and
        // acknowledges each, so one failure does not stop the others.
        const uint32_t first = rtnl.next_seq(static_cast<uint32_t>(routes.size()));
        std::vector<char> batch;
        std::vector<uint32_t> acked;
        std::array<char, kRequestBufferSize> buf{};
        for (size_t i = 0; i < routes.size(); ++i) {
                const uint32_t seq = first + static_cast<uint32_t>(i);
                const auto* nlh = new_route_message(buf.data(), *routes[i], seq);
                const auto* bytes = reinterpret_cast<const char*>(nlh);
                batch.insert(batch.end(), bytes, bytes + MNL_ALIGN(nlh->nlmsg_len));
                acked.push_back(seq);
        }
        std::vector<std::string> errors;
        Status s =
                rtnl.request_each(batch.data(), batch.size(), acked, [&](uint32_t seq, int error) {
                        errors.push_back(Error{std::strerror(error), error}
                                                 .wrapped(add_failed(*routes[seq - first]))
                                                 .message);
                });
        if (!s.ok())
                errors.push_back(s.failure()
                                         .wrapped("Could not add " + std::to_string(routes.size()) +
                                                  " routes")
                                         .message);
        return errors;
}

Status remove_route(NetlinkSocket& rtnl, const KernelRoute& route) {
        std::array<char, kRequestBufferSize> buf{};
        auto* nlh =
                route_header(buf.data(), RTM_DELROUTE, NLM_F_ACK, rtnl.next_seq(),
                             static_cast<uint8_t>(route.destination.prefix_len()), route.protocol);
        mnl_attr_put_u32(nlh, RTA_TABLE, RT_TABLE_MAIN);
        mnl_attr_put_u32(nlh, RTA_DST, route.destination.address().network_order());
        if (route.gateway)
                mnl_attr_put_u32(nlh, RTA_GATEWAY, route.gateway->network_order());
        mnl_attr_put_u32(nlh, RTA_OIF, static_cast<uint32_t>(route.ifindex));
        mnl_attr_put_u32(nlh, RTA_PRIORITY, route.priority);
        Status s = rtnl.request(nlh, [](const nlmsghdr*) { return MNL_CB_OK; });
        // Already gone is what we wanted.
        if (!s.ok() && !s.failure().is(ESRCH))
                return s.failure().wrapped("Could not remove route " + route.destination.str());
        return Ok{};
}

std::optional<KernelRoute> parse_route_message(const nlmsghdr* reply) {
        if (reply->nlmsg_type != RTM_NEWROUTE)
                return std::nullopt;
        // A message too short for its rtmsg is not read past its end: the
        // kernel never sends one, but this function trusts no length.
        if (reply->nlmsg_len < mnl_nlmsg_size(sizeof(rtmsg)))
                return std::nullopt;
        const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(reply));
        if (rtm->rtm_family != AF_INET || rtm->rtm_type != RTN_UNICAST)
                return std::nullopt;
        KernelRoute r;
        uint32_t table = rtm->rtm_table;
        uint32_t dst = 0;
        r.protocol = rtm->rtm_protocol;
        r.onlink = (rtm->rtm_flags & RTNH_F_ONLINK) != 0;
        for_each_attribute(reply, sizeof(*rtm), [&](const nlattr* attr) {
                // Every attribute read here is a u32. mnl_attr_parse() only
                // checks that an attribute fits the message, not that its
                // payload is 4 bytes: reading a shorter one would read the
                // bytes after it (the next attribute, or past the message).
                if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
                        return;
                switch (mnl_attr_get_type(attr)) {
                case RTA_TABLE:
                        table = mnl_attr_get_u32(attr);
                        break;
                case RTA_DST:
                        dst = mnl_attr_get_u32(attr);
                        break;
                case RTA_GATEWAY:
                        r.gateway = Ipv4Address::from_network(mnl_attr_get_u32(attr));
                        break;
                case RTA_OIF:
                        r.ifindex = static_cast<int>(mnl_attr_get_u32(attr));
                        break;
                case RTA_PRIORITY:
                        r.priority = mnl_attr_get_u32(attr);
                        break;
                default:
                        break;
                }
        });
        if (table != RT_TABLE_MAIN)
                return std::nullopt;
        r.destination = Ipv4Cidr(Ipv4Address::from_network(dst), rtm->rtm_dst_len);
        return r;
}

Result<std::vector<KernelRoute>> read_routes(NetlinkSocket& rtnl) {
        std::array<char, kRequestBufferSize> buf{};
        auto* nlh = route_header(buf.data(), RTM_GETROUTE, NLM_F_DUMP, rtnl.next_seq(), 0, 0);
        std::vector<KernelRoute> routes;
        Status s = rtnl.request(nlh, [&](const nlmsghdr* reply) {
                if (auto r = parse_route_message(reply))
                        routes.push_back(*r);
                return MNL_CB_OK;
        });
        if (!s.ok())
                return s.failure().wrapped("Could not list routes");
        return routes;
}

bool route_present(const RoutePlan& route, const std::vector<KernelRoute>& kernel,
                   RouteOwner owner) {
        for (const auto& k : kernel)
                if (k.destination == route.destination && k.gateway == route.gateway &&
                    k.ifindex == route.ifindex && k.onlink == route.onlink &&
                    (owner == RouteOwner::Natd || k.protocol != kRouteProtocol))
                        return true;
        return false;
}

const KernelRoute* conflicting_route(const RoutePlan& route,
                                     const std::vector<KernelRoute>& kernel) {
        for (const auto& k : kernel)
                if (k.destination == route.destination && k.protocol != kRouteProtocol &&
                    !(k.gateway == route.gateway && k.ifindex == route.ifindex))
                        return &k;
        return nullptr;
}

std::string describe_conflict(const RoutePlan& route, const KernelRoute& other) {
        std::array<char, IF_NAMESIZE> name{};
        const char* dev = if_indextoname(static_cast<unsigned>(other.ifindex), name.data());
        std::string text = route.destination.str() + " via " + route.gateway.str() + " dev " +
                           route.ifname + " conflicts with an existing route " +
                           other.destination.str();
        if (other.gateway)
                text += " via " + other.gateway->str();
        text += " dev " + (dev != nullptr ? std::string(dev) : std::to_string(other.ifindex));
        text += " proto " + std::to_string(other.protocol) + ": left alone";
        return text;
}

std::vector<std::string> compare_routes(const std::vector<RoutePlan>& plan,
                                        const std::vector<KernelRoute>& kernel, RouteOwner owner) {
        std::vector<std::string> diffs;
        for (const auto& r : plan)
                if (!route_present(r, kernel, owner))
                        diffs.push_back(
                                "route " + r.destination.str() + " via " + r.gateway.str() +
                                " dev " + r.ifname + " onlink is missing" +
                                (owner == RouteOwner::Networkd ? " (systemd-networkd)" : ""));
        return diffs;
}

}  // namespace natd
