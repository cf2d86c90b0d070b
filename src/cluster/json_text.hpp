// Reading a field of an API answer or an agent's line, both hostile: a missing key, a value of
// another type or a non-object on the way gives nothing, never an exception.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>

namespace capwise::cluster {

// The value at j.a (or j.a.b, ...); nullptr when there is none.
inline const nlohmann::json* value_at(const nlohmann::json& j,
                                      std::initializer_list<const char*> path) {
    const nlohmann::json* v = &j;
    for (const char* key : path) {
        if (!v->is_object()) {
            return nullptr;
        }
        auto it = v->find(key);
        if (it == v->end()) {
            return nullptr;
        }
        v = &*it;
    }
    return v;
}

// The string at the path; "" when there is none.
inline std::string text_at(const nlohmann::json& j, std::initializer_list<const char*> path) {
    const nlohmann::json* v = value_at(j, path);
    return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

// The boolean at the path; false when there is none.
inline bool flag_at(const nlohmann::json& j, std::initializer_list<const char*> path) {
    const nlohmann::json* v = value_at(j, path);
    return v != nullptr && v->is_boolean() && v->get<bool>();
}

} // namespace capwise::cluster
