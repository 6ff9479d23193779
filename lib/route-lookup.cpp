#include "route-lookup.hpp"

#include <array>
#include <cerrno>
#include <netinet/in.h>

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "netlink-attributes.hpp"

namespace natd {

RouteAnswer lookup_route(NetlinkSocket& rtnl, const RouteQuery& query) {
        std::array<char, kRequestBufferSize> buf{};
        auto* nlh = mnl_nlmsg_put_header(buf.data());
        nlh->nlmsg_type = RTM_GETROUTE;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
        nlh->nlmsg_seq = rtnl.next_seq();
        auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
        rtm->rtm_family = AF_INET;
        rtm->rtm_dst_len = 32;
        rtm->rtm_src_len = 32;
        mnl_attr_put_u32(nlh, RTA_DST, query.destination.network_order());
        mnl_attr_put_u32(nlh, RTA_SRC, query.source.network_order());
        // With an input interface the kernel takes the input path
        // (ip_route_input): forwarding, rp_filter and martian checks apply.
        mnl_attr_put_u32(nlh, RTA_IIF, static_cast<uint32_t>(query.input_ifindex));

        RouteAnswer answer;
        Status s = rtnl.request(nlh, [&](const nlmsghdr* reply) {
                // As parse_route_message() (route.cpp): no read past a
                // short message or a short u32 attribute.
                if (reply->nlmsg_type != RTM_NEWROUTE ||
                    reply->nlmsg_len < mnl_nlmsg_size(sizeof(rtmsg)))
                        return MNL_CB_OK;
                const auto* r = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(reply));
                answer.type = r->rtm_type;
                for_each_attribute(reply, sizeof(*r), [&](const nlattr* attr) {
                        if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
                                return;
                        switch (mnl_attr_get_type(attr)) {
                        case RTA_OIF:
                                answer.output_ifindex = static_cast<int>(mnl_attr_get_u32(attr));
                                break;
                        case RTA_GATEWAY:
                                answer.gateway = Ipv4Address::from_network(mnl_attr_get_u32(attr));
                                break;
                        default:
                                break;
                        }
                });
                return MNL_CB_OK;
        });
        if (!s.ok())
                answer.error = s.failure().errno_value != 0 ? s.failure().errno_value : EIO;
        return answer;
}

}  // namespace natd
