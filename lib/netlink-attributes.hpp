// Iteration over netlink attributes with C++ callables; libmnl's
// mnl_attr_for_each macros do not compile as C++.
#pragma once

#include <cstddef>
#include <functional>

#include <libmnl/libmnl.h>

namespace natd {

using AttributeVisitor = std::function<void(const nlattr*)>;

// Every attribute after the family header of `nlh` (offset = header size).
inline void for_each_attribute(const nlmsghdr* nlh, size_t offset, const AttributeVisitor& visit) {
        mnl_attr_parse(
                nlh, static_cast<unsigned>(offset),
                [](const nlattr* a, void* data) {
                        (*static_cast<const AttributeVisitor*>(data))(a);
                        return MNL_CB_OK;
                },
                const_cast<AttributeVisitor*>(&visit));
}

// Every attribute nested in `parent`.
inline void for_each_nested(const nlattr* parent, const AttributeVisitor& visit) {
        mnl_attr_parse_nested(
                parent,
                [](const nlattr* a, void* data) {
                        (*static_cast<const AttributeVisitor*>(data))(a);
                        return MNL_CB_OK;
                },
                const_cast<AttributeVisitor*>(&visit));
}

}  // namespace natd
