// JSON rendering. Strings from the kernel and file systems are arbitrary bytes: invalid UTF-8
// is replaced, never allowed to throw halfway through an output stream.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace capwise::output {

using Json = nlohmann::json;

// One line (indent < 0) or pretty-printed.
std::string dump_json(const Json& value, int indent = -1);

} // namespace capwise::output
