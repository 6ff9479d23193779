// Writes doc/io.natd1.xml: the introspection data of natd's object, made
// from the schema (lib/bus-schema.cpp) the way sd-bus introspects natd's
// vtables, without the standard org.freedesktop.DBus.* interfaces. The test
// unit.bus-xml compares it with the committed file.
// Usage: natd-bus-introspection [OUTPUT]   (default: standard output)
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "bus-schema.hpp"

namespace {

namespace bus = natd::bus;

std::string introspection_xml() {
        std::string xml =
                "<!DOCTYPE node PUBLIC \"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\"\n"
                "\"https://www.freedesktop.org/standards/dbus/1.0/introspect.dtd\">\n"
                "<!-- natd's D-Bus API (doc/manager-api.txt). Generated from "
                "lib/bus-schema.cpp:\n"
                "     do not edit; regenerate with\n"
                "     build/tests/natd-bus-introspection doc/io.natd1.xml -->\n";
        xml += "<node name=\"" + std::string(natd::kObjectPath) + "\">\n";
        for (const std::string_view interface : bus::interfaces()) {
                xml += " <interface name=\"" + std::string(interface) + "\">\n";
                for (const auto& m : bus::methods()) {
                        if (m.interface != interface)
                                continue;
                        std::string args;
                        for (const auto type : bus::complete_types(m.in_signature))
                                args += "   <arg type=\"" + std::string(type) +
                                        "\" direction=\"in\"/>\n";
                        for (const auto type : bus::complete_types(m.out_signature))
                                args += "   <arg type=\"" + std::string(type) +
                                        "\" direction=\"out\"/>\n";
                        xml += "  <method name=\"" + std::string(m.name) + "\"" +
                               (args.empty() ? "/>\n" : ">\n" + args + "  </method>\n");
                }
                // Read-only, emitting PropertiesChanged (the default: sd-bus
                // writes no annotation for it).
                for (const auto& p : bus::properties())
                        if (p.interface == interface)
                                xml += "  <property name=\"" + std::string(p.name) + "\" type=\"" +
                                       p.signature + "\" access=\"read\"/>\n";
                xml += " </interface>\n";
        }
        return xml + "</node>\n";
}

}  // namespace

int main(int argc, char** argv) {
        if (argc > 2) {
                std::cerr << "usage: " << argv[0] << " [OUTPUT]\n";
                return 2;
        }
        const std::string xml = introspection_xml();
        if (argc == 1) {
                std::cout << xml;
                return std::cout.good() ? 0 : 1;
        }
        std::ofstream out(argv[1]);
        out << xml;
        out.close();
        if (!out) {
                std::perror(argv[1]);
                return 1;
        }
        return 0;
}
