// natd-ctl's side of io.natd1 (doc/manager-api.txt).
#pragma once

#include <filesystem>

#include "daemon-status.hpp"
#include "handles.hpp"
#include "result.hpp"

namespace natd {

// Connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS is honoured).
Result<SdBusPtr> open_system_bus();

// Every Manager property (one GetAll, so one consistent snapshot) plus the
// Diagnostic counters. An error when natd does not answer.
Result<DaemonStatus> fetch_status(sd_bus* bus);

Status call_reload(sd_bus* bus);
Status call_reapply(sd_bus* bus);
Status call_teardown(sd_bus* bus);
// keepalived's notify hook: tells natd this NAT's VRRP state.
Status call_ha_notify(sd_bus* bus, const std::string& state);
// The active NAT hands over to its peer (returns once it started).
Status call_ha_handover(sd_bus* bus);

// What natd-ctl can see without natd: forwarding, natd's table and its
// counters, natd's own routes, the files natd recorded, conntrack.
DaemonStatus probe_kernel_status(const std::filesystem::path& root);

}  // namespace natd
