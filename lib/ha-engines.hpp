// keepalived.conf and conntrackd.conf for the pair, rendered from natd's
// configuration: natd configures the engines and drives them, it never
// speaks VRRP or syncs state itself. Pure: the text is unit-tested, and
// integration tests run the real engines on it.
//
// keepalived (VRRP, unicast: a VPC has no multicast) decides which NAT is
// active and calls natd through its notify hooks; conntrackd (FTFW over
// UDP, external cache) copies the connection-tracking table, NAT bindings
// included, to the standby, which commits it into its kernel on takeover.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "ipv4.hpp"
#include "result.hpp"

namespace natd {

struct HaEngineSettings {
        std::string vrrp_interface;                   // kernel name of the interface VRRP uses
        Ipv4Address own_address;                      // this NAT's address on it (unicast_src_ip)
        Ipv4Address peer_address;                     // the other NAT's
        unsigned virtual_router_id = 51;              // 1..255
        unsigned priority = 100;                      // 1..254
        uint32_t advertisement_interval_msec = 1000;  // 10 ms steps, 10..40950
        bool preempt = false;
        // keepalived runs this with " master", " backup", " fault", " stop".
        std::string notify_command = "/usr/bin/natd-ctl ha notify";
        std::string sync_interface;  // conntrackd's; usually vrrp_interface
        Ipv4Address sync_own_address;
        Ipv4Address sync_peer_address;
        uint16_t sync_port = 3780;
        std::filesystem::path run_directory = "/run/natd/ha";  // sockets, lock
        uint32_t conntrack_max = 262144;                       // sizes conntrackd's cache
};

// An error names the setting that cannot go into the file (out of range,
// or a name that would break out of its quotes or braces).
Result<std::string> render_keepalived_conf(const HaEngineSettings& settings);
Result<std::string> render_conntrackd_conf(const HaEngineSettings& settings);

// Where conntrackd's control socket is: natd's commands (-c, -n) use it.
std::filesystem::path conntrackd_socket_path(const HaEngineSettings& settings);

}  // namespace natd
