// doc/manager-api.txt (iwd's format) documents exactly the schema's rows:
// every property with its type and [readonly], every method with its
// arguments, its reply and its possible errors, and nothing else.
// (doc/io.natd1.xml is generated from the schema and compared by the test
// unit.bus-xml.)
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "bus-schema.hpp"

namespace {

namespace bus = natd::bus;

struct DocMethod {
        std::string reply;  // documented type, "void" for none
        std::vector<std::string> argument_types;
        std::vector<std::string> errors;
};

struct DocInterface {
        std::map<std::string, std::string> properties;  // name -> "type [access]"
        std::map<std::string, DocMethod> methods;
};

// The type names of iwd's API documents: "string", "array(ssb)", ...
std::string doc_type(std::string_view signature) {
        static const std::map<char, std::string> basic{
                {'y', "byte"},   {'b', "boolean"}, {'n', "int16"},  {'q', "uint16"},
                {'i', "int32"},  {'u', "uint32"},  {'x', "int64"},  {'t', "uint64"},
                {'d', "double"}, {'s', "string"},  {'o', "object"}, {'g', "signature"},
                {'h', "fd"},     {'v', "variant"}};
        if (signature.empty())
                return "void";
        if (signature == "a{sv}")
                return "dict";
        auto inner = [](std::string_view s) {
                return s.front() == '(' ? s.substr(1, s.size() - 2) : s;
        };
        if (signature.front() == 'a')
                return "array(" + std::string(inner(signature.substr(1))) + ")";
        if (signature.front() == '(')
                return "struct(" + std::string(inner(signature)) + ")";
        REQUIRE(signature.size() == 1);
        return basic.at(signature.front());
}

std::map<std::string, DocInterface> parse_api_doc(const std::string& path) {
        std::ifstream in(path);
        REQUIRE(in);
        // "Methods\t\tvoid Reload()", "\t\tuint64 StateTimestamp [readonly]":
        // a declaration, after a keyword or two tabs; its description has three.
        const std::regex declaration(R"(^(Methods|Properties|Signals)?\t{1,2}([^\t].*)$)");
        const std::regex method(R"(^(\S+) (\w+)\((.*)\)$)");
        const std::regex property(R"(^(\S+) (\w+) (\[\w+\])$)");
        const std::regex errors_start(R"(^\t+Possible errors: (\S+)$)");
        const std::regex errors_more(R"(^\t+ *([\w.]+)$)");
        const std::regex argument(R"(^\s*(\S+) \w+\s*$)");

        std::map<std::string, DocInterface> doc;
        DocInterface* interface = nullptr;
        DocMethod* last_method = nullptr;
        bool in_errors = false;
        std::string line;
        std::smatch m;
        while (std::getline(in, line)) {
                if (line.rfind("Interface\t", 0) == 0) {
                        interface = &doc[line.substr(line.find_last_of('\t') + 1)];
                        last_method = nullptr;
                        in_errors = false;
                        continue;
                }
                if (interface == nullptr)
                        continue;
                if (std::regex_match(line, m, errors_start)) {
                        INFO(line);
                        REQUIRE(last_method != nullptr);
                        last_method->errors.push_back(m[1]);
                        in_errors = true;
                        continue;
                }
                if (in_errors && std::regex_match(line, m, errors_more)) {
                        last_method->errors.push_back(m[1]);
                        continue;
                }
                in_errors = false;
                if (!std::regex_match(line, m, declaration))
                        continue;
                const std::string text = m[2];
                std::smatch d;
                if (std::regex_match(text, d, method)) {
                        DocMethod& dm = interface->methods[d[2]];
                        dm.reply = d[1];
                        std::string args = d[3];
                        for (size_t start = 0; !args.empty() && start <= args.size();) {
                                const size_t comma = std::min(args.find(',', start), args.size());
                                const std::string one = args.substr(start, comma - start);
                                std::smatch a;
                                INFO(line);
                                REQUIRE(std::regex_match(one, a, argument));
                                dm.argument_types.push_back(a[1]);
                                start = comma + 1;
                        }
                        last_method = &dm;
                } else if (std::regex_match(text, d, property)) {
                        interface->properties[d[2]] = std::string(d[1]) + " " + std::string(d[3]);
                        last_method = nullptr;
                } else {
                        FAIL_CHECK("doc/manager-api.txt: not a declaration: " << line);
                }
        }
        return doc;
}

// "Name type [access]", one per property, for messages that name them.
std::vector<std::string> lines(const std::map<std::string, std::string>& properties) {
        std::vector<std::string> out;
        for (const auto& [name, declaration] : properties)
                out.push_back(name + " " + declaration);
        return out;
}

}  // namespace

TEST_CASE("doc/manager-api.txt documents every schema row and no other", "[bus][doc]") {
        const auto doc = parse_api_doc(NATD_SOURCE_DIR "/doc/manager-api.txt");

        std::map<std::string, DocInterface> schema;
        for (const char* interface : bus::interfaces())
                schema[interface];
        for (const auto& p : bus::properties())
                schema[p.interface].properties[p.name] = doc_type(p.signature) + " [readonly]";
        for (const auto& m : bus::methods()) {
                DocMethod& dm = schema[m.interface].methods[m.name];
                dm.reply = doc_type(m.out_signature);
                for (const auto type : bus::complete_types(m.in_signature))
                        dm.argument_types.push_back(doc_type(type));
                for (const char* e : bus::error_names(m))
                        dm.errors.emplace_back(e);
        }

        std::vector<std::string> doc_interfaces;
        std::vector<std::string> schema_interfaces;
        for (const auto& [name, _] : doc)
                doc_interfaces.push_back(name);
        for (const auto& [name, _] : schema)
                schema_interfaces.push_back(name);
        REQUIRE(doc_interfaces == schema_interfaces);

        for (const auto& [name, want] : schema) {
                INFO("interface " << name);
                const DocInterface& got = doc.at(name);
                CHECK(lines(got.properties) == lines(want.properties));
                std::vector<std::string> doc_methods;
                std::vector<std::string> schema_methods;
                for (const auto& [method, _] : got.methods)
                        doc_methods.push_back(method);
                for (const auto& [method, _] : want.methods)
                        schema_methods.push_back(method);
                CHECK(doc_methods == schema_methods);
                for (const auto& [method, w] : want.methods) {
                        INFO("method " << method);
                        const auto it = got.methods.find(method);
                        if (it == got.methods.end())
                                continue;
                        CHECK(it->second.reply == w.reply);
                        CHECK(it->second.argument_types == w.argument_types);
                        CHECK(it->second.errors == w.errors);
                }
        }
}
