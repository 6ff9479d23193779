#include "health.hpp"

#include <json-c/json.h>
#include <memory>

#include "handles.hpp"

namespace natd {

namespace {

using JsonPtr = std::unique_ptr<json_object, FreeWith<json_object_put>>;

HealthAnswer answer(unsigned http_status, const DaemonStatus& s, const std::string& role,
                    const std::string& reason) {
        JsonPtr root(json_object_new_object());
        json_object* o = root.get();
        json_object_object_add(o, "healthy", json_object_new_boolean(http_status == 200));
        json_object_object_add(o, "state", json_object_new_string(s.state.c_str()));
        json_object_object_add(o, "role", json_object_new_string(role.c_str()));
        json_object_object_add(o, "reason", json_object_new_string(reason.c_str()));
        std::string body = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        body += '\n';
        return {http_status, std::move(body)};
}

}  // namespace

HealthAnswer health_answer(const DaemonStatus& s, const std::string& pair_role,
                           const std::map<std::string, std::string>& query) {
        // Without a pair this NAT is the only one: active whenever it runs.
        const std::string role = pair_role.empty() ? "active" : pair_role;
        for (const auto& [key, value] : query)
                if (key != "role")
                        return answer(400, s, role, "unknown argument '" + key + "'; known: role");
        const auto wanted = query.find("role");
        if (wanted != query.end() && wanted->second != "active" && wanted->second != "standby")
                return answer(400, s, role,
                              "role='" + wanted->second + "'; expected active or standby");
        if (s.state != "ready")
                return answer(503, s, role,
                              s.status_text.empty() ? "natd is " + s.state : s.status_text);
        if (wanted != query.end() && wanted->second != role)
                return answer(503, s, role, "ready, but " + role + ", not " + wanted->second);
        return answer(200, s, role, s.status_text);
}

}  // namespace natd
