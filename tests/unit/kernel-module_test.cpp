#include <catch2/catch.hpp>

#include "kernel-module.hpp"

using natd::ModuleEvidence;
using natd::ModuleKind;

TEST_CASE("nf_conntrack loadable or built in, from /sys/module and modules.builtin", "[module]") {
        auto kind = [](const ModuleEvidence& e) {
                return natd::classify_module("nf_conntrack", e);
        };
        // Amazon Linux 2023, once loaded: /sys/module/nf_conntrack/initstate.
        CHECK(kind({true, true, std::nullopt}) == ModuleKind::Loadable);
        // Built in: /sys/module/nf_conntrack/parameters only (this machine).
        CHECK(kind({true, false, std::nullopt}) == ModuleKind::BuiltIn);
        // Not loaded yet (natd early at boot): loadable, since a built-in
        // one would be in /sys/module with its hashsize parameter...
        CHECK(kind({false, false, std::nullopt}) == ModuleKind::Loadable);
        CHECK(kind({false, false,
                    "kernel/net/netfilter/nf_nat.ko\n"
                    "kernel/net/netfilter/nf_conntrack_ftp.ko\n"}) == ModuleKind::Loadable);
        // ... unless modules.builtin says otherwise.
        CHECK(kind({false, false,
                    "kernel/net/ipv4/tcp_bbr.ko\n"
                    "kernel/net/netfilter/nf_conntrack.ko\n"}) == ModuleKind::BuiltIn);
        CHECK(natd::module_kind_name(ModuleKind::Loadable) == std::string("loadable"));
        CHECK(natd::module_kind_name(ModuleKind::BuiltIn) == std::string("built-in"));
}
