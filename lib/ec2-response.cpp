#include "ec2-response.hpp"

#include <algorithm>
#include <array>
#include <expat.h>
#include <memory>
#include <type_traits>

#include "handles.hpp"

namespace natd {

namespace {

// An element of a response: its local name, the character data directly
// inside it and its child elements. EC2's answers are data, not documents:
// attributes and mixed content carry nothing natd reads.
struct XmlElement {
        std::string name;
        std::string text;
        std::vector<XmlElement> children;
};

// EC2 nests a handful of levels; the cap keeps a hostile document from
// making the tree (and its recursive destruction) as deep as it likes.
constexpr std::size_t kMaxDepth = 32;
// Expat reports a namespaced name as "URI<separator>local". No XML name
// holds a space, so the local name is what follows the last one.
constexpr char kNamespaceSeparator = ' ';

struct TreeBuilder {
        XML_Parser parser = nullptr;
        XmlElement root;
        // The open elements, root first. Only the innermost one gains
        // children, so pointers to the ones enclosing it stay valid.
        std::vector<XmlElement*> open;
        std::string refusal;  // why a handler stopped the parser; empty: it did not

        void refuse(std::string why) {
                if (refusal.empty())
                        refusal = std::move(why);
                XML_StopParser(parser, XML_FALSE);
        }
};

void XMLCALL on_start(void* data, const XML_Char* name, const XML_Char** /*attributes*/) {
        auto& tree = *static_cast<TreeBuilder*>(data);
        if (!tree.refusal.empty())
                return;
        if (tree.open.size() >= kMaxDepth) {
                tree.refuse("elements nest deeper than " + std::to_string(kMaxDepth));
                return;
        }
        std::string_view local(name);
        if (const auto sep = local.rfind(kNamespaceSeparator); sep != std::string_view::npos)
                local.remove_prefix(sep + 1);
        if (tree.open.empty()) {
                tree.root.name = local;
                tree.open.push_back(&tree.root);
                return;
        }
        auto& children = tree.open.back()->children;
        children.push_back(XmlElement{std::string(local), {}, {}});
        tree.open.push_back(&children.back());
}

void XMLCALL on_end(void* data, const XML_Char* /*name*/) {
        auto& tree = *static_cast<TreeBuilder*>(data);
        if (tree.refusal.empty() && !tree.open.empty())
                tree.open.pop_back();
}

void XMLCALL on_text(void* data, const XML_Char* text, int length) {
        auto& tree = *static_cast<TreeBuilder*>(data);
        // No DOCTYPE, so no entities but the five predefined ones: the text
        // is never longer than the (capped) document.
        if (tree.refusal.empty() && !tree.open.empty())
                tree.open.back()->text.append(text, static_cast<std::size_t>(length));
}

void XMLCALL on_doctype(void* data, const XML_Char* /*name*/, const XML_Char* /*sysid*/,
                        const XML_Char* /*pubid*/, int /*has_internal_subset*/) {
        // EC2 sends none; refusing it refuses entity expansion with it.
        static_cast<TreeBuilder*>(data)->refuse("it has a DOCTYPE, which EC2 never sends");
}

// Built by appending: GCC 12 warns (-Wrestrict, a false positive) on
// "literal" + std::string&& in optimized builds.
std::string enclosed(char open, std::string_view text, std::string_view close) {
        std::string out(1, open);
        out += text;
        out += close;
        return out;
}

// `text` for a message: what a hostile document says can be long.
std::string quoted(std::string_view text) {
        constexpr std::size_t kMax = 64;
        if (text.size() <= kMax)
                return enclosed('\'', text, "'");
        return enclosed('\'', text.substr(0, kMax), "...'");
}

std::string tag(std::string_view name) {
        return enclosed('<', name.substr(0, 64), ">");
}

std::string_view trimmed(std::string_view s) {
        constexpr std::string_view kSpace = " \t\r\n";
        const auto first = s.find_first_not_of(kSpace);
        if (first == std::string_view::npos)
                return {};
        return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

using XmlParserPtr = std::unique_ptr<std::remove_pointer_t<XML_Parser>, FreeWith<XML_ParserFree>>;

Result<XmlElement> parse_xml(std::string_view xml) {
        if (trimmed(xml).empty())
                return Error{"the body is empty"};
        if (xml.size() > kEc2MaxResponseBytes)
                return Error{"the body is " + std::to_string(xml.size()) + " bytes, more than " +
                             std::to_string(kEc2MaxResponseBytes)};
        const XmlParserPtr parser(XML_ParserCreateNS(nullptr, kNamespaceSeparator));
        if (!parser)
                return Error{"could not create an XML parser"};
        TreeBuilder tree;
        tree.parser = parser.get();
        XML_SetUserData(parser.get(), &tree);
        XML_SetElementHandler(parser.get(), on_start, on_end);
        XML_SetCharacterDataHandler(parser.get(), on_text);
        XML_SetStartDoctypeDeclHandler(parser.get(), on_doctype);
        // Whole: a truncated body is an error, not a document cut short.
        if (XML_Parse(parser.get(), xml.data(), static_cast<int>(xml.size()), XML_TRUE) !=
            XML_STATUS_OK) {
                if (!tree.refusal.empty())
                        return Error{"refused: " + tree.refusal};
                return Error{std::string("not well-formed XML: ") +
                             XML_ErrorString(XML_GetErrorCode(parser.get())) + " at line " +
                             std::to_string(XML_GetCurrentLineNumber(parser.get())) + ", column " +
                             std::to_string(XML_GetCurrentColumnNumber(parser.get()))};
        }
        return std::move(tree.root);
}

// The child `name` of `parent`; null when there is none and it is not
// `required`. Several are an error: which one would EC2 have meant?
Result<const XmlElement*> child_of(const XmlElement& parent, std::string_view name, bool required) {
        const XmlElement* found = nullptr;
        for (const auto& child : parent.children) {
                if (child.name != name)
                        continue;
                if (found != nullptr)
                        return Error{tag(parent.name) + " has more than one " + tag(name)};
                found = &child;
        }
        if (found == nullptr && required)
                return Error{tag(parent.name) + " has no " + tag(name)};
        return found;
}

// The trimmed text of the child `name`; empty when it is absent and not required.
Result<std::string> text_of(const XmlElement& parent, std::string_view name, bool required) {
        auto child = child_of(parent, name, required);
        if (!child.ok())
                return child.failure();
        if (child.value() == nullptr)
                return std::string();
        return std::string(trimmed(child.value()->text));
}

Result<bool> bool_of(const XmlElement& parent, std::string_view name) {
        auto text = text_of(parent, name, true);
        if (!text.ok())
                return text.failure();
        if (text.value() == "true")
                return true;
        if (text.value() == "false")
                return false;
        return Error{tag(name) + " is " + quoted(text.value()) + ", not true or false"};
}

const XmlElement* first_child(const XmlElement& parent, std::string_view name) {
        for (const auto& child : parent.children)
                if (child.name == name)
                        return &child;
        return nullptr;
}

// EC2: <Response><Errors><Error>..</Error></Errors><RequestID>..</RequestID>.
// Other AWS query APIs (and EC2 in places) say <ErrorResponse><Error>..
// </Error><RequestId>; either reads the same. Of several errors, the first.
Result<Ec2Error> error_from(const XmlElement& root) {
        const XmlElement* error = nullptr;
        if (root.name == "Response") {
                auto errors = child_of(root, "Errors", true);
                if (!errors.ok())
                        return errors.failure();
                error = first_child(*errors.value(), "Error");
                if (error == nullptr)
                        return Error{"<Errors> has no <Error>"};
        } else if (root.name == "ErrorResponse") {
                error = first_child(root, "Error");
                if (error == nullptr)
                        return Error{"<ErrorResponse> has no <Error>"};
        } else {
                return Error{"the root element is " + tag(root.name) + ", not <Response>"};
        }
        Ec2Error out;
        auto code = text_of(*error, "Code", true);
        if (!code.ok())
                return code.failure();
        if (code.value().empty())
                return Error{"<Code> is empty"};
        out.code = std::move(code).value();
        auto message = text_of(*error, "Message", false);
        if (!message.ok())
                return message.failure();
        out.message = std::move(message).value();
        for (const char* name : {"RequestID", "RequestId"}) {
                auto id = text_of(root, name, false);
                if (!id.ok())
                        return id.failure();
                if (!id.value().empty())
                        out.request_id = std::move(id).value();
        }
        return out;
}

// The document, when its root is `expected_root`. An error response in its
// place says what EC2 refused, not just that the root is wrong.
Result<XmlElement> response_document(std::string_view xml, std::string_view expected_root) {
        auto doc = parse_xml(xml);
        if (!doc.ok() || doc.value().name == expected_root)
                return doc;
        if (auto error = error_from(doc.value()); error.ok())
                return Error{"an error response: " + error.value().code + ": " +
                             error.value().message};
        return Error{"the root element is " + tag(doc.value().name) + ", not " +
                     tag(expected_root)};
}

Result<Ec2Return> return_from(const XmlElement& root) {
        Ec2Return out;
        auto id = text_of(root, "requestId", false);
        if (!id.ok())
                return id.failure();
        out.request_id = std::move(id).value();
        auto returned = bool_of(root, "return");
        if (!returned.ok())
                return returned.failure();
        out.returned = returned.value();
        return out;
}

Result<Ec2AssignedAddresses> assigned_from(const XmlElement& root) {
        auto base = return_from(root);
        if (!base.ok())
                return base.failure();
        Ec2AssignedAddresses out;
        out.returned = base.value().returned;
        out.request_id = std::move(base.value().request_id);
        auto eni = text_of(root, "networkInterfaceId", false);
        if (!eni.ok())
                return eni.failure();
        out.network_interface_id = std::move(eni).value();
        auto set = child_of(root, "assignedPrivateIpAddressesSet", false);
        if (!set.ok())
                return set.failure();
        if (set.value() == nullptr)
                return out;  // nothing assigned
        for (const auto& item : set.value()->children) {
                if (item.name != "item")
                        continue;
                auto text = text_of(item, "privateIpAddress", true);
                if (!text.ok())
                        return text.failure().wrapped("assignedPrivateIpAddressesSet");
                auto address = Ipv4Address::parse(text.value());
                if (!address.ok())
                        return Error{"assignedPrivateIpAddressesSet: " + quoted(text.value()) +
                                     " is not an IPv4 address"};
                out.assigned.push_back(address.value());
        }
        return out;
}

Result<Ec2Route> route_from(const XmlElement& item) {
        Ec2Route route;
        const std::pair<const char*, std::string*> fields[] = {
                {"destinationCidrBlock", &route.destination},
                {"networkInterfaceId", &route.network_interface_id},
                {"gatewayId", &route.gateway_id},
                {"instanceId", &route.instance_id},
                {"state", &route.state},
        };
        for (const auto& [name, into] : fields) {
                auto text = text_of(item, name, false);
                if (!text.ok())
                        return text.failure();
                *into = std::move(text).value();
        }
        return route;
}

// <routeTableSet><item><routeTableId/><routeSet><item>..</item></routeSet>
// <associationSet><item>..</item></associationSet><tagSet>..</tagSet></item>:
// routes are the items of routeSet and nothing else named <item>.
Result<std::vector<Ec2RouteTable>> route_tables_from(const XmlElement& root) {
        auto set = child_of(root, "routeTableSet", true);
        if (!set.ok())
                return set.failure();
        std::vector<Ec2RouteTable> tables;
        for (const auto& item : set.value()->children) {
                if (item.name != "item")
                        continue;
                const std::string where = "route table " + std::to_string(tables.size() + 1);
                Ec2RouteTable table;
                auto id = text_of(item, "routeTableId", true);
                if (!id.ok())
                        return id.failure().wrapped(where);
                if (id.value().empty())
                        return Error{where + ": <routeTableId> is empty"};
                table.id = std::move(id).value();
                const std::string named = "route table " + quoted(table.id);
                auto routes = child_of(item, "routeSet", true);
                if (!routes.ok())
                        return routes.failure().wrapped(named);
                for (const auto& route_item : routes.value()->children) {
                        if (route_item.name != "item")
                                continue;
                        auto route = route_from(route_item);
                        if (!route.ok())
                                return route.failure().wrapped(
                                        named + ", route " +
                                        std::to_string(table.routes.size() + 1));
                        table.routes.push_back(std::move(route).value());
                }
                tables.push_back(std::move(table));
        }
        return tables;
}

// `read` on the document of `action`'s response, every error saying so.
template <typename T, typename Read>
Result<T> parse_response(std::string_view action, std::string_view xml, Read read) {
        const std::string where = "EC2 " + std::string(action) + " response";
        auto doc = response_document(xml, std::string(action) + "Response");
        if (!doc.ok())
                return doc.failure().wrapped(where);
        Result<T> out = read(doc.value());
        if (!out.ok())
                return out.failure().wrapped(where);
        return out;
}

}  // namespace

Result<Ec2Error> ec2_parse_error(std::string_view xml) {
        auto doc = parse_xml(xml);
        if (!doc.ok())
                return doc.failure().wrapped("EC2 error response");
        auto error = error_from(doc.value());
        if (!error.ok())
                return error.failure().wrapped("EC2 error response");
        return error;
}

Result<Ec2Return> ec2_parse_return(std::string_view action, std::string_view xml) {
        return parse_response<Ec2Return>(action, xml, return_from);
}

Result<Ec2AssignedAddresses> ec2_parse_assign_private_ip(std::string_view xml) {
        return parse_response<Ec2AssignedAddresses>("AssignPrivateIpAddresses", xml, assigned_from);
}

Result<std::vector<Ec2RouteTable>> ec2_parse_describe_route_tables(std::string_view xml) {
        return parse_response<std::vector<Ec2RouteTable>>("DescribeRouteTables", xml,
                                                          route_tables_from);
}

bool ec2_error_retriable(long http_status, std::string_view code) {
        if ((http_status >= 500 && http_status <= 599) || http_status == 429)
                return true;
        // Busy, throttled or failed inside: the same request may well
        // succeed later. Not RequestExpired: the request's time is more than
        // 5 minutes off EC2's, a clock to fix, which sending again does not.
        static constexpr std::array<std::string_view, 8> kRetriableCodes{
                "RequestLimitExceeded", "Throttling",  "ThrottlingException", "InternalError",
                "InternalFailure",      "Unavailable", "ServiceUnavailable",  "RequestTimeout",
        };
        return std::ranges::find(kRetriableCodes, code) != kRetriableCodes.end();
}

bool ec2_error_credentials_expired(std::string_view code) {
        // Not AuthFailure: it also means keys that were never valid, which
        // fresh ones from the same source would not cure in a loop.
        return code == "ExpiredToken" || code == "ExpiredTokenException";
}

}  // namespace natd
