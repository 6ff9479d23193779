// Whether a kernel module with parameters (nf_conntrack) is loadable or
// built into the kernel. It matters for conntrack's hash size: a loadable
// nf_conntrack sizes its table from its "hashsize" parameter when it loads,
// and net.netfilter.nf_conntrack_buckets can only resize it afterwards,
// from the initial network namespace; so where it is a module natd also
// writes a modprobe.d option (persisted-files.hpp), which holds from the
// first load at boot.
//
// The evidence, read once at start (probe_module) and judged by a pure
// function (classify_module):
//   - /sys/module/NAME/initstate ("live", "coming", "going") is an
//     attribute of a loaded module (kernel/module: modinfo_initstate); a
//     built-in module has no struct module and never has it;
//   - a built-in module with parameters still has /sys/module/NAME, with
//     parameters/ only (kernel/params.c, param_sysfs_builtin): a built-in
//     nf_conntrack always shows its hashsize there. No /sys/module/NAME at
//     all is a module not loaded yet (at boot natd may start before
//     anything loaded nf_conntrack);
//   - /lib/modules/$(uname -r)/modules.builtin, the list of modules built
//     in ("kernel/net/netfilter/nf_conntrack.ko"), where it can be read
//     (natd.service's ProtectKernelModules= hides it): a module it lists
//     is built in.
#pragma once

#include <optional>
#include <string>

namespace natd {

enum class ModuleKind {
        Loadable,
        BuiltIn,
};

struct ModuleEvidence {
        bool in_sysfs = false;       // /sys/module/NAME exists
        bool has_initstate = false;  // /sys/module/NAME/initstate exists
        // /lib/modules/<release>/modules.builtin, when it could be read.
        std::optional<std::string> modules_builtin;
};

// For a module that has parameters (see above).
ModuleKind classify_module(const std::string& name, const ModuleEvidence& evidence);

// The shell: reads /sys/module and modules.builtin of the running kernel.
ModuleEvidence probe_module(const std::string& name);

// "loadable", "built-in", for logs.
const char* module_kind_name(ModuleKind kind);

}  // namespace natd
