// C++ values <-> D-Bus values. Codec<T> knows T's D-Bus signature (derived
// at compile time for arrays, optionals and structs, so a signature is never
// written twice) and writes or reads one T, sd-bus style: >= 0 on success,
// a negative errno on failure.
#pragma once

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <systemd/sd-bus.h>

namespace natd::bus {

// A D-Bus signature as a NUL-terminated compile-time string.
template <size_t N>
struct Signature {
        std::array<char, N> text{};

        constexpr Signature() = default;
        constexpr Signature(const char (&s)[N]) {  // NOLINT(google-explicit-constructor)
                std::copy_n(s, N, text.begin());
        }
        [[nodiscard]] constexpr const char* c_str() const { return text.data(); }
};

template <size_t... N>
constexpr auto concat(const Signature<N>&... parts) {
        Signature<(N + ...) - sizeof...(N) + 1> out;
        auto at = out.text.begin();
        ((at = std::copy_n(parts.text.begin(), N - 1, at)), ...);
        return out;
}

template <typename T>
struct Codec;

// Types whose D-Bus value has the same bytes as the C++ one.
template <typename T, char Type>
struct TrivialCodec {
        static constexpr char type_string[2] = {Type, '\0'};
        static constexpr Signature<2> signature{type_string};
        static int write(sd_bus_message* m, const T& v) {
                return sd_bus_message_append_basic(m, Type, &v);
        }
        static int read(sd_bus_message* m, T& v) { return sd_bus_message_read_basic(m, Type, &v); }
};

template <>
struct Codec<int32_t> : TrivialCodec<int32_t, 'i'> {};
template <>
struct Codec<uint32_t> : TrivialCodec<uint32_t, 'u'> {};
template <>
struct Codec<uint64_t> : TrivialCodec<uint64_t, 't'> {};

// D-Bus booleans are 32 bits wide.
template <>
struct Codec<bool> {
        static constexpr Signature signature{"b"};
        static int write(sd_bus_message* m, const bool& v) {
                const int b = v ? 1 : 0;
                return sd_bus_message_append_basic(m, 'b', &b);
        }
        static int read(sd_bus_message* m, bool& v) {
                int b = 0;
                const int r = sd_bus_message_read_basic(m, 'b', &b);
                if (r > 0)
                        v = b != 0;
                return r;
        }
};

template <>
struct Codec<std::string> {
        static constexpr Signature signature{"s"};
        static int write(sd_bus_message* m, const std::string& v) {
                return sd_bus_message_append_basic(m, 's', v.c_str());
        }
        static int read(sd_bus_message* m, std::string& v) {
                const char* s = nullptr;
                const int r = sd_bus_message_read_basic(m, 's', &s);
                if (r > 0)
                        v = s;
                return r;
        }
};

// D-Bus has no "absent": an empty optional is written as T{}, and what is
// read is always a value.
template <typename T>
struct Codec<std::optional<T>> {
        static constexpr auto signature = Codec<T>::signature;
        static int write(sd_bus_message* m, const std::optional<T>& v) {
                return Codec<T>::write(m, v.value_or(T{}));
        }
        static int read(sd_bus_message* m, std::optional<T>& v) {
                T value{};
                const int r = Codec<T>::read(m, value);
                if (r > 0)
                        v = std::move(value);
                return r;
        }
};

template <typename T>
struct Codec<std::vector<T>> {
        static constexpr auto signature = concat(Signature{"a"}, Codec<T>::signature);
        static int write(sd_bus_message* m, const std::vector<T>& items) {
                int r = sd_bus_message_open_container(m, 'a', Codec<T>::signature.c_str());
                for (const auto& i : items)
                        if (r >= 0)
                                r = Codec<T>::write(m, i);
                return r < 0 ? r : sd_bus_message_close_container(m);
        }
        static int read(sd_bus_message* m, std::vector<T>& items) {
                int r = sd_bus_message_enter_container(m, 'a', Codec<T>::signature.c_str());
                if (r <= 0)
                        return r == 0 ? -ENXIO : r;
                items.clear();
                while ((r = sd_bus_message_at_end(m, 0)) == 0) {
                        T item{};
                        if (r = Codec<T>::read(m, item); r < 0)
                                return r;
                        items.push_back(std::move(item));
                }
                return r < 0 ? r : sd_bus_message_exit_container(m);
        }
};

template <typename Member>
struct MemberTraits;
template <typename S, typename F>
struct MemberTraits<F S::*> {
        using Struct = S;
        using Type = F;
};
template <auto Member>
using MemberType = typename MemberTraits<decltype(Member)>::Type;
template <auto Member>
using MemberStruct = typename MemberTraits<decltype(Member)>::Struct;

// One field of a struct as a D-Bus value.
template <auto Field>
struct FieldCodec {
        using Value = Codec<MemberType<Field>>;
        using Struct = MemberStruct<Field>;
        static constexpr auto signature = Value::signature;
        static int write(sd_bus_message* m, const Struct& s) { return Value::write(m, s.*Field); }
        static int read(sd_bus_message* m, Struct& s) { return Value::read(m, s.*Field); }
        static bool differs(const Struct& a, const Struct& b) { return a.*Field != b.*Field; }
};

// Some fields of S, in this order, as a D-Bus struct.
template <typename S, auto... Fields>
struct StructCodec {
        static constexpr auto contents = concat(FieldCodec<Fields>::signature...);
        static constexpr auto signature = concat(Signature{"("}, contents, Signature{")"});
        static int write(sd_bus_message* m, const S& s) {
                int r = sd_bus_message_open_container(m, 'r', contents.c_str());
                ((r = r < 0 ? r : FieldCodec<Fields>::write(m, s)), ...);
                return r < 0 ? r : sd_bus_message_close_container(m);
        }
        static int read(sd_bus_message* m, S& s) {
                int r = sd_bus_message_enter_container(m, 'r', contents.c_str());
                if (r <= 0)
                        return r == 0 ? -ENXIO : r;
                ((r = r < 0 ? r : FieldCodec<Fields>::read(m, s)), ...);
                return r < 0 ? r : sd_bus_message_exit_container(m);
        }
};

// A method reply without arguments.
template <typename S>
struct NoValue {
        static constexpr Signature signature{""};
        static int write(sd_bus_message*, const S&) { return 0; }
        static int read(sd_bus_message*, S&) { return 0; }
};

}  // namespace natd::bus
