// natd.conf's keys, declared once. The parser (config.cpp), --dump-config
// (config-dump.cpp) and the documentation check (tests/unit) all read this
// table: a new key is a new row here, a member of Config and, for a new kind
// of value, a ValueType (config-values.hpp). A key's default is its
// member's initializer in Config.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "config-values.hpp"
#include "config.hpp"

namespace natd {

struct ConfigKey {
        std::string_view section;        // "Routes", without brackets
        std::string_view name;           // "Subnets", without '='
        std::string_view documentation;  // what the key means, one sentence
        // A list's items accumulate over lines and files, each kept once; an
        // empty assignment empties it. A scalar's last assignment wins; an
        // empty one restores the default.
        bool list = false;

        // Parses `text` (a scalar's value, or one list item) into `config`.
        // A list item is appended even when it is already there:
        // deduplicate() drops the repeats once every file is read.
        std::function<Result<bool>(Config& config, std::string_view text)> assign;
        // A list's: drops every item equal to an earlier one, and its origin
        // in `at` (one per item, in step). Searching the list at every
        // assignment made N items cost N^2 comparisons (100,000 subnets:
        // seconds); sorting once costs N log N. None for a scalar.
        std::function<void(Config& config, std::vector<ConfigOrigin>& at)> deduplicate;
        // The empty assignment: the default, or no items.
        std::function<void(Config& config)> reset;
        // As natd.conf spells the value: one string for a scalar ("" for an
        // unset optional, whose default is decided later), one per item.
        std::function<std::vector<std::string>(const Config& config)> format;
        // The member the key sets, to find a key by its member.
        std::function<const void*(const Config& config)> field;

        [[nodiscard]] std::string str() const;  // "[Routes] Subnets="
};

// Every key, grouped by section, in the order --dump-config shows them.
const std::vector<ConfigKey>& config_schema();

// The index in config_schema() of the key whose field is `field`, a member
// of `config`; aborts when there is none (a member without a row).
std::size_t config_key_index(const Config& config, const void* field);

template <auto Member>
std::size_t config_key_index() {
        static const Config probe;
        static const std::size_t index = config_key_index(probe, &(probe.*Member));
        return index;
}

// --- building rows ----------------------------------------------------------

struct KeyText {
        std::string_view section;
        std::string_view name;
        std::string_view documentation;
};

template <auto Member>
using MemberType = std::remove_cvref_t<decltype(std::declval<Config&>().*Member)>;

template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};

// A scalar: Member is a T, or a std::optional<T> whose nullopt default
// means "decided later" (Gateway=: the private subnet's first host).
template <auto Member, typename T>
ConfigKey scalar_key(KeyText text, ValueType<T> type) {
        using Field = MemberType<Member>;
        constexpr bool optional = !std::is_same_v<Field, T> && IsOptional<Field>::value;
        static_assert(std::is_same_v<Field, T> || optional);
        return {
                .section = text.section,
                .name = text.name,
                .documentation = text.documentation,
                .list = false,
                .assign = [parse = type.parse,
                           name = text.name](Config& c, std::string_view v) -> Result<bool> {
                        auto value = parse(v, name);
                        if (!value)
                                return value.failure();
                        c.*Member = std::move(value).value();
                        return true;
                },
                .deduplicate = nullptr,
                .reset = [](Config& c) { c.*Member = Config{}.*Member; },
                .format = [format = type.format](const Config& c) -> std::vector<std::string> {
                        if constexpr (optional)
                                return {c.*Member ? format(*(c.*Member)) : std::string{}};
                        else
                                return {format(c.*Member)};
                },
                .field = [](const Config& c) -> const void* { return &(c.*Member); },
        };
}

// What keep_first_of_each() sorts list items by: the whole value, as
// plain numbers or text. (Not the ipv4 types' defaulted operator<=>:
// clang-tidy 14 flags its synthesized "< 0" as modernize-use-nullptr
// wherever it is instantiated.)
inline std::pair<uint32_t, unsigned> sort_key(const Ipv4Cidr& c) {
        return {c.address().host_order(), c.prefix_len()};
}
inline uint32_t sort_key(const Ipv4Address& a) {
        return a.host_order();
}
inline std::string_view sort_key(const std::string& s) {
        return s;
}

// Keeps the first of each run of equal items of `items` (equal sort_key()),
// and the entries of `at` in step with them; the order is kept.
template <typename T>
void keep_first_of_each(std::vector<T>& items, std::vector<ConfigOrigin>& at) {
        std::vector<std::size_t> order(items.size());
        for (std::size_t i = 0; i < order.size(); ++i)
                order[i] = i;
        // Stable: of equal items, the earliest comes first and is kept.
        const auto less = [&](std::size_t a, std::size_t b) {
                return sort_key(items[a]) < sort_key(items[b]);
        };
        std::stable_sort(order.begin(), order.end(), less);
        std::vector<bool> keep(items.size(), false);
        for (std::size_t k = 0; k < order.size(); ++k)
                keep[order[k]] = k == 0 || less(order[k - 1], order[k]);
        std::size_t kept = 0;
        for (std::size_t i = 0; i < items.size(); ++i) {
                if (!keep[i])
                        continue;
                // Not onto itself: a self-moved string is left empty.
                if (kept != i) {
                        items[kept] = std::move(items[i]);
                        if (i < at.size())
                                at[kept] = std::move(at[i]);
                }
                ++kept;
        }
        items.resize(kept);
        at.resize(std::min(at.size(), kept));
}

// A list: Member is a std::vector<T>, in the order configured, without
// duplicates once deduplicate() ran.
template <auto Member, typename T>
ConfigKey list_key(KeyText text, ValueType<T> type) {
        static_assert(std::is_same_v<MemberType<Member>, std::vector<T>>);
        return {
                .section = text.section,
                .name = text.name,
                .documentation = text.documentation,
                .list = true,
                .assign = [parse = type.parse,
                           name = text.name](Config& c, std::string_view v) -> Result<bool> {
                        auto item = parse(v, name);
                        if (!item)
                                return item.failure();
                        (c.*Member).push_back(std::move(item).value());
                        return true;
                },
                .deduplicate =
                        [](Config& c, std::vector<ConfigOrigin>& at) {
                                keep_first_of_each(c.*Member, at);
                        },
                .reset = [](Config& c) { (c.*Member).clear(); },
                .format =
                        [format = type.format](const Config& c) {
                                std::vector<std::string> items;
                                for (const auto& item : c.*Member)
                                        items.push_back(format(item));
                                return items;
                        },
                .field = [](const Config& c) -> const void* { return &(c.*Member); },
        };
}

}  // namespace natd
