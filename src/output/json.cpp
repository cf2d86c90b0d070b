#include "output/json.hpp"

namespace capwise::output {

std::string dump_json(const Json& value, int indent) {
    return value.dump(indent, ' ', false, Json::error_handler_t::replace);
}

} // namespace capwise::output
