// Rendering capability sets and the catalog: capsh-compatible decode lines, compact set
// summaries for tables, the `list` table and the `explain` entry, as text or JSON.
#pragma once

#include "core/catalog.hpp"
#include "output/json.hpp"

#include <string>

namespace capwise::output {

// "0x00000000000005fb=cap_chown,..." exactly as capsh --decode prints it.
std::string decode_line(core::CapSet set, int last_cap);
// {"hex": "0x...", "names": ["CHOWN", ...]}
Json cap_set_json(core::CapSet set);
// For narrow table cells: "-" (empty), "ALL" (everything up to last_cap), "ALL -SYS_RESOURCE"
// (most of it), or "CHOWN,NET_RAW".
std::string compact_set(core::CapSet set, int last_cap);

std::string catalog_table(int last_cap);
Json catalog_json(int last_cap);
std::string explain_text(const core::CatalogEntry& entry, int last_cap);
Json explain_json(const core::CatalogEntry& entry, int last_cap);

} // namespace capwise::output
