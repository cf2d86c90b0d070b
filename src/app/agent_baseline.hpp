// The advised sets the agent's drift alerts compare with, loaded at start from a file the user
// gives (a ConfigMap mounted into the DaemonSet): either `capwise advise --format json` of several
// workloads (an object of group → advice: its "add" list is the set) or evidence capwise reads
// with `advise --from` (agent snapshots or state files, trace events), advised as advise would.
// Keys are record::workload_key()s, so a Deployment's advice covers each of its pods.
#pragma once

#include "app/control.hpp"
#include "record/alerts.hpp"

#include <string>

namespace capwise::app {

Outcome<record::Baseline> load_baseline(const std::string& path, const Control& control);

} // namespace capwise::app
