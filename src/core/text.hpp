// Small text helpers shared by the parsers: trimming, case-blind compares, and making hostile
// bytes (file names, /proc fields, user input) safe to print on a terminal.
#pragma once

#include <string>
#include <string_view>

namespace capwise::core {

std::string_view trim(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
std::string to_upper(std::string_view s);

// Printable ASCII kept, everything else as \xNN (backslash doubled); cut after max_len bytes.
std::string printable(std::string_view s, std::size_t max_len = 64);
// Control and non-ASCII bytes as \xNN, a backslash left as it is: for text that may already have
// been through escape_bytes (escaping it again would double its backslashes), as a last guard
// before a terminal.
std::string escape_controls(std::string_view s);
// For whole messages capwise writes to a terminal: valid UTF-8 text kept (capwise's own "→"),
// every control byte (C0, DEL, C1), bidirectional override and invalid byte as \xNN; a
// backslash left as it is.
std::string escape_terminal(std::string_view s);
// Like printable, for paths and names in tables: never cut, and a space stays a space.
std::string escape_bytes(std::string_view s);
// One word for a POSIX shell: as is when it holds only safe characters, else in single quotes
// ('\'' for a quote inside). What capwise prints as a command must paste and run as printed.
std::string shell_quote(std::string_view s);

} // namespace capwise::core
