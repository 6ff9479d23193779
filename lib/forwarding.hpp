// IPv4 forwarding of natd's network namespace: net.ipv4.ip_forward and the
// per-interface net.ipv4.conf.<if>.forwarding the kernel actually checks.
// /proc/sys is the only interface the kernel offers for writing them
// (RTM_GETNETCONF only reads).
#pragma once

#include <string>

#include "result.hpp"

namespace natd {

Status set_ipv4_forwarding(bool enabled);
Result<bool> read_ipv4_forwarding();

// The kernel forwards a packet only when its input interface has
// forwarding on. net.ipv4.ip_forward=1 turns it on for the interfaces
// present when it changes, not for one switched off later nor for an ENI
// attached later while net.ipv4.conf.default.forwarding is 0.
Status set_interface_forwarding(const std::string& ifname, bool enabled);
Result<bool> read_interface_forwarding(const std::string& ifname);

// "net.ipv4.conf.ens6.forwarding": the sysctl's name, for messages.
std::string interface_forwarding_key(const std::string& ifname);

// net.ipv4.conf.<conf>.send_redirects, `conf` an interface name or "all".
// The kernel sends a redirect when either is 1: a single-ENI NAT turns both
// off.
Status set_send_redirects(const std::string& conf, bool enabled);
Result<bool> read_send_redirects(const std::string& conf);
std::string send_redirects_key(const std::string& conf);

}  // namespace natd
