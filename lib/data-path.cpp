#include "data-path.hpp"

#include <cerrno>
#include <cstring>

#include <linux/rtnetlink.h>

#include "forwarding.hpp"

namespace natd {

namespace {

const Link* find_link(const std::vector<Link>& links, int ifindex) {
        for (const auto& l : links)
                if (l.ifindex == ifindex)
                        return &l;
        return nullptr;
}

bool is_local(Ipv4Address a, const std::vector<Link>& links) {
        for (const auto& l : links)
                for (const auto& addr : l.ipv4)
                        if (addr.address() == a)
                                return true;
        return false;
}

std::string interface_name(const std::vector<Link>& links, int ifindex) {
        if (const Link* l = find_link(links, ifindex))
                return l->name;
        return "interface " + std::to_string(ifindex);
}

// What happens to a packet arriving on `in` whose lookup the kernel
// refused, as the predicate of a sentence.
std::string refusal(int error, const std::string& in) {
        switch (error) {
        case ENETUNREACH:
                return "finds no route";
        case EHOSTUNREACH:
                return "is refused: forwarding is off on " + in + " (" +
                       interface_forwarding_key(in) + ") or the route is unreachable";
        case EXDEV:
                return "is dropped by the reverse-path filter of " + in + " (rp_filter)";
        case EINVAL:
                return "is a martian to the kernel";
        case EACCES:
                return "hits a prohibit route";
        default:
                return "is refused: " + std::string(std::strerror(error));
        }
}

std::string via(const RouteAnswer& a) {
        return a.gateway ? " (via " + a.gateway->str() + ")" : "";
}

std::vector<std::string> public_interface_problems(const Link* pub, const std::string& name) {
        if (pub == nullptr)
                return {"public interface " + name + " is gone"};
        if (!pub->up)
                return {"public interface " + name + " is down"};
        if (pub->operstate == "down" || pub->operstate == "lowerlayerdown")
                return {"public interface " + name + " has no carrier (operstate " +
                        pub->operstate + ")"};
        if (pub->ipv4.empty())
                return {"public interface " + name +
                        " has no IPv4 address: masquerade has no source address"};
        return {};
}

}  // namespace

Ipv4Address probe_host(const Ipv4Cidr& subnet, const std::vector<Link>& links) {
        const Ipv4Cidr net = subnet.network();
        if (net.prefix_len() >= 31)
                return subnet.address();
        const uint32_t size = uint32_t{1} << (32 - net.prefix_len());
        const uint32_t base = net.address().host_order();
        const Ipv4Address last{base + size - 2};
        if (!is_local(last, links) || size <= 4)
                return last;
        return Ipv4Address{base + size - 3};
}

std::vector<Ipv4Cidr> forwarded_subnets(const NatPlan& plan) {
        if (plan.single_eni)
                return plan.source_cidrs;  // in and out through the one ENI
        std::vector<Ipv4Cidr> out{plan.private_subnet};
        for (const auto& r : plan.routes)
                out.push_back(r.destination);
        return out;
}

std::vector<std::string> check_data_path(const NatPlan& plan, const std::vector<Link>& links,
                                         const RouteLookup& lookup) {
        const auto& pub = plan.public_interface;
        const auto& priv = plan.private_interface;
        std::vector<std::string> problems =
                public_interface_problems(find_link(links, pub.ifindex), pub.name);
        if (!problems.empty())
                return problems;  // every lookup would fail for this one reason

        // One sentence per cause, naming every subnet it hits.
        struct Finding {
                std::string head;  // "internet-bound traffic from "
                std::string tail;  // " finds no route: ..."
                std::vector<std::string> subnets;
        };
        std::vector<Finding> findings;
        auto note = [&](const std::string& head, const Ipv4Cidr& subnet, const std::string& tail) {
                for (auto& f : findings)
                        if (f.head == head && f.tail == tail) {
                                f.subnets.push_back(subnet.str());
                                return;
                        }
                findings.push_back({head, tail, {subnet.str()}});
        };
        const std::string out_head = "internet-bound traffic from ";
        const std::string in_head = "return traffic to ";
        for (const auto& subnet : forwarded_subnets(plan)) {
                const Ipv4Address host = probe_host(subnet, links);
                const RouteAnswer out = lookup({host, kInternetProbe, priv.ifindex});
                if (out.error != 0) {
                        note(out_head, subnet,
                             " arriving on " + priv.name + " " + refusal(out.error, priv.name) +
                                     (out.error == ENETUNREACH
                                              ? ": no default route via " + pub.name
                                              : ""));
                } else if (out.type != RTN_UNICAST) {
                        note(out_head, subnet,
                             " is not forwarded (route type " + std::to_string(out.type) + ")");
                } else if (out.output_ifindex == priv.ifindex && !plan.single_eni) {
                        // AL2023's net-utils adds a main-table default route via
                        // every ENI: once the public one goes, this one wins.
                        note(out_head, subnet,
                             " would leave through " + priv.name + ", the private ENI" + via(out) +
                                     ": it would loop back into the VPC");
                } else if (out.output_ifindex != pub.ifindex) {
                        note(out_head, subnet,
                             " would leave through " + interface_name(links, out.output_ifindex) +
                                     via(out) + ", not through the public ENI " + pub.name);
                }

                const RouteAnswer in = lookup({kInternetProbe, host, pub.ifindex});
                if (in.error != 0)
                        note(in_head, subnet,
                             " arriving on " + pub.name + " " + refusal(in.error, pub.name));
                else if (in.type != RTN_UNICAST || in.output_ifindex != priv.ifindex)
                        note(in_head, subnet,
                             " would leave through " + interface_name(links, in.output_ifindex) +
                                     ", not through the private ENI " + priv.name);
        }
        for (const auto& f : findings)
                problems.push_back(f.head + join(f.subnets, ", ") + f.tail);
        return problems;
}

}  // namespace natd
