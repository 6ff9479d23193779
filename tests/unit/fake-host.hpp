// A recording fake of the Host seam: a small simulated kernel (forwarding,
// natd's table, the main routing table), file system and systemd-networkd,
// with failures that tests inject per operation. It answers verify() from
// its own state the way KernelCommitter reads the real kernel back.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "host.hpp"
#include "route.hpp"

namespace natd::testing {

struct FakeRoute {
        RoutePlan route;
        uint8_t protocol = kRouteProtocol;
};

class FakeHost final : public Host {
public:
        // Simulated state; tests change it to imitate other programs.
        bool forwarding = false;
        // net.ipv4.conf.<if>.forwarding switched apart from ip_forward.
        std::map<std::string, bool> interface_forwarding;
        // net.ipv4.conf.<all|if>.send_redirects; missing: the kernel's 1.
        std::map<std::string, bool> send_redirects;
        // Answers route lookups; unset: a kernel that forwards as planned
        // (out of the public interface via its gateway, back to the private).
        std::function<RouteAnswer(const RouteQuery&)> route_lookup;
        std::optional<RulesetPlan> table;
        std::optional<ConntrackPlan> conntrack;  // what set_conntrack last set
        std::vector<FakeRoute> routes;
        std::map<std::filesystem::path, std::string> files;
        std::map<int, NetworkdLink> networkd;
        bool bus = false;
        std::vector<std::string> blockers;

        // Failure injection: operation name -> errno it fails with, until erased.
        std::map<std::string, int> failing;
        // The operation succeeds but changes nothing (a kernel that ignores natd).
        std::set<std::string> ignoring;

        NatPlan verified_plan;  // the last verify()'s, for lookup_route()

        // What natd did, in order: "set_forwarding", "replace_ruleset", ...
        std::vector<std::string> calls;
        std::vector<std::function<void(const Status&)>> pending_reloads;

        [[nodiscard]] size_t count(const std::string& call) const {
                size_t n = 0;
                for (const auto& c : calls)
                        n += c == call ? 1 : 0;
                return n;
        }
        // networkd answers the oldest Reload and, if it worked, installs the
        // routes of natd's drop-in (protocol static).
        void answer_reload(bool ok, const std::vector<RoutePlan>& dropin_routes = {}) {
                auto done = pending_reloads.front();
                pending_reloads.erase(pending_reloads.begin());
                if (ok)
                        for (const auto& r : dropin_routes)
                                install(r, 4 /* RTPROT_STATIC */);
                done(ok ? Status(Ok{}) : Status(Error{"networkd refused: test", EIO}));
        }
        void install(const RoutePlan& r, uint8_t protocol) {
                std::erase_if(routes, [&](const FakeRoute& k) {
                        return k.route.destination == r.destination;
                });
                routes.push_back({r, protocol});
        }
        void delete_route(const std::string& destination) {
                std::erase_if(routes, [&](const FakeRoute& k) {
                        return k.route.destination.str() == destination;
                });
        }

        Status set_forwarding(const NatPlan& plan) override {
                if (auto s = enter("set_forwarding"); !s.ok())
                        return s;
                if (!ignoring.contains("set_forwarding")) {
                        forwarding = plan.forwarding;
                        interface_forwarding.erase(plan.public_interface.name);
                        interface_forwarding.erase(plan.private_interface.name);
                        if (plan.no_redirects)
                                for (const auto& conf :
                                     {std::string("all"), plan.public_interface.name})
                                        send_redirects[conf] = false;
                }
                return Ok{};
        }
        Status set_conntrack(const ConntrackPlan& plan) override {
                if (auto s = enter("set_conntrack"); !s.ok())
                        return s;
                if (!ignoring.contains("set_conntrack"))
                        conntrack = plan;
                return Ok{};
        }
        Status replace_ruleset(const RulesetPlan& ruleset) override {
                if (auto s = enter("replace_ruleset"); !s.ok())
                        return s;
                if (!ignoring.contains("replace_ruleset"))
                        table = ruleset;
                return Ok{};
        }
        Status sync_own_routes(const std::vector<RoutePlan>& wanted) override {
                if (auto s = enter("sync_own_routes"); !s.ok())
                        return s;
                if (ignoring.contains("sync_own_routes"))
                        return Ok{};
                std::erase_if(routes,
                              [](const FakeRoute& k) { return k.protocol == kRouteProtocol; });
                // Created, never replacing another's (NLM_F_EXCL).
                for (const auto& r : wanted)
                        if (!foreign_at(r))
                                install(r, kRouteProtocol);
                return Ok{};
        }
        // Someone else's route for the destination of `r` that is not `r`.
        [[nodiscard]] const FakeRoute* foreign_at(const RoutePlan& r) const {
                for (const auto& k : routes)
                        if (k.route.destination == r.destination && k.protocol != kRouteProtocol &&
                            !(k.route.gateway == r.gateway && k.route.ifindex == r.ifindex))
                                return &k;
                return nullptr;
        }
        Verification verify(const NatPlan& plan) override {
                calls.emplace_back("verify");
                Verification v;
                v.forwarding_enabled = forwarding;
                if (forwarding != plan.forwarding)
                        v.forwarding.push_back(std::string("net.ipv4.ip_forward is ") +
                                               (forwarding ? "1" : "0"));
                for (const auto* i : {&plan.private_interface, &plan.public_interface})
                        if (auto it = interface_forwarding.find(i->name);
                            it != interface_forwarding.end() && it->second != plan.forwarding) {
                                v.forwarding.push_back("net.ipv4.conf." + i->name +
                                                       ".forwarding is " +
                                                       (it->second ? "1" : "0"));
                                v.forwarding_enabled = false;
                        }
                if (plan.no_redirects)
                        for (const auto& conf : {std::string("all"), plan.public_interface.name})
                                if (auto it = send_redirects.find(conf);
                                    it == send_redirects.end() || it->second)
                                        v.forwarding.push_back("net.ipv4.conf." + conf +
                                                               ".send_redirects is 1");
                if (conntrack != plan.conntrack)
                        v.conntrack.emplace_back(conntrack
                                                         ? "conntrack's settings differ"
                                                         : "conntrack's settings are the kernel's");
                verified_plan = plan;
                v.table_present = table.has_value();
                if (!table)
                        v.ruleset.emplace_back("table ip natd is missing");
                else if (*table != plan.ruleset)
                        v.ruleset.emplace_back("table ip natd differs");
                for (const auto& want : plan.routes) {
                        if (foreign_at(want) != nullptr) {
                                v.route_conflicts.push_back("route " + want.destination.str() +
                                                            " conflicts with another");
                                v.route_present.push_back(false);
                                continue;
                        }
                        bool any = false;
                        bool by_networkd = false;
                        for (const auto& k : routes)
                                if (k.route == want) {
                                        any = true;
                                        by_networkd = by_networkd || k.protocol != kRouteProtocol;
                                }
                        v.route_present.push_back(any);
                        if (!any)
                                v.routes.push_back("route " + want.destination.str() +
                                                   " is missing");
                        if (!by_networkd)
                                v.routes_networkd.push_back("route " + want.destination.str() +
                                                            " is missing (systemd-networkd)");
                }
                for (const auto& k : routes)
                        v.own_routes += k.protocol == kRouteProtocol ? 1 : 0;
                return v;
        }
        RouteAnswer lookup_route(const RouteQuery& query) override {
                calls.emplace_back("lookup_route");
                if (route_lookup)
                        return route_lookup(query);
                RouteAnswer a;
                a.type = 1;  // RTN_UNICAST
                if (query.destination == kInternetProbe) {
                        a.output_ifindex = verified_plan.public_interface.ifindex;
                        a.gateway = Ipv4Address((203U << 24) | (113U << 8) | 1U);
                } else {
                        a.output_ifindex = verified_plan.private_interface.ifindex;
                }
                return a;
        }
        Result<std::vector<std::string>> find_blockers(const NatPlan& /*plan*/) override {
                calls.emplace_back("find_blockers");
                return blockers;
        }

        Result<FileRegistry::SyncResult>
        sync_files(const std::vector<PersistedFile>& planned) override {
                if (auto s = enter("sync_files"); !s.ok())
                        return s.failure();
                FileRegistry::SyncResult result;
                std::set<std::filesystem::path> keep;
                for (const auto& f : planned) {
                        keep.insert(f.path);
                        if (files[f.path] != f.content)
                                result.written.push_back(f.path);
                        files[f.path] = f.content;
                }
                for (auto it = files.begin(); it != files.end();) {
                        if (keep.contains(it->first)) {
                                ++it;
                                continue;
                        }
                        result.removed.push_back(it->first);
                        it = files.erase(it);
                }
                return result;
        }
        bool files_in_sync(const std::vector<PersistedFile>& planned) override {
                if (planned.size() != files.size())
                        return false;
                for (const auto& f : planned)
                        if (!file_current(f))
                                return false;
                return true;
        }
        bool file_current(const PersistedFile& f) override {
                auto it = files.find(f.path);
                return it != files.end() && it->second == f.content;
        }
        [[nodiscard]] std::string on_disk(const std::filesystem::path& path) const override {
                return path.string();
        }

        std::map<int, NetworkdLink> networkd_links() override { return networkd; }
        bool networkd_reachable() override { return bus; }
        void reload_networkd(std::function<void(const Status&)> done) override {
                calls.emplace_back("reload_networkd");
                pending_reloads.push_back(std::move(done));
        }

private:
        Status enter(const std::string& op) {
                calls.push_back(op);
                if (auto it = failing.find(op); it != failing.end())
                        return errno_error(op, it->second);
                return Ok{};
        }
};

}  // namespace natd::testing
