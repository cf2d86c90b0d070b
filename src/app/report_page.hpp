// The HTML page of `report` (and advise --format html): the advice, the manifests linted, the
// rootfs scanned.
#pragma once

#include "app/advise.hpp"

#include <string>
#include <vector>

namespace capwise::app {

// The page, with the warnings of the evidence; a manifest path that holds nothing readable is an
// error, never a page that looks clean because nothing was read.
Outcome<std::string> report_html(const AdviseRequest& request,
                                 const std::vector<advise::GroupAdvice>& advice,
                                 const advise::RenderOptions& render_options);

} // namespace capwise::app
