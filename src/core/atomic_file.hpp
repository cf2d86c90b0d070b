// Output files that readers never see half-written: the content goes to a new file beside the
// target and replaces it with one rename.
#pragma once

#include "core/result.hpp"

#include <string>
#include <string_view>

namespace capwise::core {

Status write_file_atomically(const std::string& path, std::string_view content);

} // namespace capwise::core
