// Asks the instance metadata service what imds-metadata.hpp describes:
// the instance id, the primary MAC, and kEniItems of every ENI, all
// requests at once, on the event loop.
#pragma once

#include <functional>

#include "imds-client.hpp"
#include "imds-metadata.hpp"

namespace natd {

// `done` runs once, from the event loop, with what could be read; the
// instance-level failures (no answer at all, no MAC listing) are its
// problems. Dropped, without a call, when `client` goes first.
void discover_instance(ImdsClient& client, std::function<void(InstanceMetadata)> done);

}  // namespace natd
