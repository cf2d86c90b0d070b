#include "lint/fix_merge.hpp"

#include "lint/yaml_tree.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

namespace capwise::lint {
namespace {

// A fix's YAML as a value that can be merged and written back. Only what capwise's fixes use:
// mappings, scalars, lists of scalars and lists of mappings.
struct Node {
    enum class Type { Scalar, Map, List } type = Type::Scalar;
    std::string scalar;
    bool plain = true;
    // A mapping as two lists (a pair holding Node cannot be declared inside Node): keys in the
    // order they were first written, and their values.
    std::vector<std::string> keys;
    std::vector<Node> values;
    std::vector<Node> list;

    Node* find(std::string_view key) {
        for (std::size_t i = 0; i < keys.size(); ++i) {
            if (keys[i] == key) {
                return &values[i];
            }
        }
        return nullptr;
    }
    static Node of(Type type, std::string scalar = {}) {
        Node n;
        n.type = type;
        n.scalar = std::move(scalar);
        return n;
    }
    void put(std::string key, Node value) {
        keys.push_back(std::move(key));
        values.push_back(std::move(value));
    }
    void erase(std::string_view key) {
        for (std::size_t i = 0; i < keys.size(); ++i) {
            if (keys[i] == key) {
                keys.erase(keys.begin() + static_cast<long>(i));
                values.erase(values.begin() + static_cast<long>(i));
                return;
            }
        }
    }
};

std::optional<Node> convert(const YamlNode& y, int depth = 0) {
    if (depth > 16) {
        return std::nullopt;
    }
    Node n;
    switch (y.type) {
    case YamlNode::Type::Scalar:
        n.scalar = y.value;
        n.plain = y.plain;
        return n;
    case YamlNode::Type::Sequence:
        n.type = Node::Type::List;
        for (const YamlNode* item : y.items) {
            auto c = convert(*item, depth + 1);
            if (!c) {
                return std::nullopt;
            }
            n.list.push_back(std::move(*c));
        }
        return n;
    case YamlNode::Type::Mapping:
        n.type = Node::Type::Map;
        for (const auto& e : y.entries) {
            auto c = convert(*e.value, depth + 1);
            if (e.key.empty() || !c) {
                return std::nullopt;
            }
            n.put(std::string(e.key), std::move(*c));
        }
        return n;
    }
    return std::nullopt;
}

std::string scalar_text(const Node& n) {
    if (n.plain && !n.scalar.empty() &&
        n.scalar.find_first_of(":#{}[],&*!|>'\"%@`\n") == std::string::npos &&
        n.scalar.front() != ' ' && n.scalar.back() != ' ' && n.scalar.front() != '-') {
        return n.scalar;
    }
    return nlohmann::json(n.scalar).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool all_scalars(const Node& list) {
    return std::all_of(list.list.begin(), list.list.end(),
                       [](const Node& i) { return i.type == Node::Type::Scalar; });
}

void emit(const Node& n, int indent, std::string& out);

void emit_value(const Node& v, int indent, std::string& out) {
    switch (v.type) {
    case Node::Type::Scalar:
        out += " " + scalar_text(v) + "\n";
        break;
    case Node::Type::Map:
        if (v.keys.empty()) {
            out += " {}\n";
        } else {
            out += "\n";
            emit(v, indent + 2, out);
        }
        break;
    case Node::Type::List:
        if (all_scalars(v)) {
            out += " [";
            for (std::size_t i = 0; i < v.list.size(); ++i) {
                out += (i == 0 ? "" : ", ") + scalar_text(v.list[i]);
            }
            out += "]\n";
        } else {
            out += "\n";
            for (const auto& item : v.list) {
                std::string body;
                emit(item, indent + 2, body);
                // "  - " replaces the first line's indentation.
                out += std::string(static_cast<std::size_t>(indent), ' ') + "-" +
                       body.substr(static_cast<std::size_t>(indent) + 1);
            }
        }
        break;
    }
}

void emit(const Node& n, int indent, std::string& out) {
    for (std::size_t i = 0; i < n.keys.size(); ++i) {
        const std::string& k = n.keys[i];
        const Node& v = n.values[i];
        // Keys can come from the manifest (an annotation's name): quoted when they must be.
        out += std::string(static_cast<std::size_t>(indent), ' ') +
               scalar_text(Node::of(Node::Type::Scalar, k)) + ":";
        emit_value(v, indent, out);
    }
}

std::string text_of(const Node& n) {
    std::string out;
    if (n.type == Node::Type::Map) {
        emit(n, 0, out);
    } else {
        emit_value(n, 0, out);
    }
    return out;
}

struct Merger {
    Node root = Node::of(Node::Type::Map);
    std::vector<std::string> conflicts;

    void merge(Node& into, const Node& from, const std::string& where) {
        for (std::size_t i = 0; i < from.keys.size(); ++i) {
            const std::string& k = from.keys[i];
            const Node& v = from.values[i];
            Node* have = into.find(k);
            const std::string at = where.empty() ? k : where + "." + k;
            if (have == nullptr) {
                into.put(k, v);
                continue;
            }
            if (have->type == Node::Type::Map && v.type == Node::Type::Map) {
                merge(*have, v, at);
            } else if (have->type == Node::Type::List && v.type == Node::Type::List) {
                for (const auto& item : v.list) {
                    const std::string t = text_of(item);
                    if (std::none_of(have->list.begin(), have->list.end(),
                                     [&](const Node& h) { return text_of(h) == t; })) {
                        have->list.push_back(item);
                    }
                }
            } else if (text_of(*have) != text_of(v)) {
                // Findings come most severe first: the first value written answers the worst.
                std::string kept = text_of(*have), dropped = text_of(v);
                kept.erase(kept.find_last_not_of("\n ") + 1);
                dropped.erase(dropped.find_last_not_of("\n ") + 1);
                conflicts.push_back(at + ":" + kept + " kept over" + dropped);
            }
        }
    }
};

// The capabilities a fix keeps added: nullopt when the fix has no capabilities.add.
std::optional<std::vector<std::string>> kept_adds(const Node& fix) {
    Node& n = const_cast<Node&>(fix);
    Node* sc = n.find("securityContext");
    Node* caps = sc != nullptr && sc->type == Node::Type::Map ? sc->find("capabilities") : nullptr;
    if (caps == nullptr || caps->type != Node::Type::Map) {
        return std::nullopt;
    }
    // A fix without an add list says nothing about adds (it only drops ALL, say).
    Node* add = caps->find("add");
    if (add == nullptr || add->type != Node::Type::List) {
        return std::nullopt;
    }
    std::vector<std::string> out;
    for (const auto& i : add->list) {
        out.push_back(i.scalar);
    }
    return out;
}

// Full-line comments, the instructions a fix gives in words.
std::vector<std::string> comments(std::string_view fix) {
    std::vector<std::string> out;
    while (!fix.empty()) {
        const auto nl = fix.find('\n');
        std::string_view line = fix.substr(0, nl);
        fix.remove_prefix(nl == std::string_view::npos ? fix.size() : nl + 1);
        const auto start = line.find_first_not_of(' ');
        if (start != std::string_view::npos && line[start] == '#') {
            out.emplace_back(line.substr(start));
        }
    }
    return out;
}

} // namespace

std::vector<MergedFix> merge_fixes(std::span<const Finding> findings,
                                   const std::optional<std::vector<std::string>>& needed) {
    struct Work {
        MergedFix fix;
        Merger merger;
        std::vector<std::string> notes;
        std::optional<std::vector<std::string>> adds; // the intersection so far
    };
    std::vector<Work> work;
    for (const Finding& f : findings) {
        if (f.fix.empty()) {
            continue;
        }
        auto it = std::find_if(work.begin(), work.end(),
                               [&](const Work& w) { return w.fix.path == f.path; });
        if (it == work.end()) {
            work.push_back(Work{});
            work.back().fix.path = f.path;
            it = work.end() - 1;
        }
        std::optional<Node> parsed;
        int documents = 0;
        parse_yaml_stream(f.fix, YamlLimits{10000, 32}, [&](YamlDocument&& doc) {
            ++documents;
            if (!doc.error && doc.root != nullptr && doc.root->is_mapping()) {
                parsed = convert(*doc.root);
            }
        });
        const auto words = comments(f.fix);
        if (!parsed && !(documents <= 1 && !words.empty() &&
                         f.fix.find_first_not_of(" \n") == f.fix.find('#'))) {
            it->fix.by_hand.push_back(f.fix);
            continue;
        }
        for (const auto& c : words) {
            if (std::find(it->notes.begin(), it->notes.end(), c) == it->notes.end()) {
                it->notes.push_back(c);
            }
        }
        if (std::find(it->fix.resolves.begin(), it->fix.resolves.end(), f.id) ==
            it->fix.resolves.end()) {
            it->fix.resolves.push_back(f.id);
        }
        if (!parsed) {
            continue; // only words
        }
        if (auto adds = kept_adds(*parsed)) {
            if (!it->adds) {
                it->adds = *adds;
            } else {
                std::erase_if(*it->adds, [&](const std::string& a) {
                    return std::find(adds->begin(), adds->end(), a) == adds->end();
                });
            }
        }
        it->merger.merge(it->merger.root, *parsed, "");
    }
    std::vector<MergedFix> out;
    for (auto& w : work) {
        if (w.adds) {
            Node* sc = w.merger.root.find("securityContext");
            Node* caps = sc != nullptr ? sc->find("capabilities") : nullptr;
            if (caps == nullptr || caps->type != Node::Type::Map) {
                continue; // cannot happen: the adds came from a fix merged into this root
            }
            caps->erase("add");
            if (needed) {
                for (const auto& n : *needed) {
                    if (std::find(w.adds->begin(), w.adds->end(), n) == w.adds->end()) {
                        w.merger.conflicts.push_back(
                            "capabilities.add keeps " + n +
                            ": the trace shows the workload needs it, though a finding would "
                            "drop it");
                    }
                }
                w.adds = *needed;
            }
            if (!w.adds->empty()) {
                Node add = Node::of(Node::Type::List);
                for (const auto& a : *w.adds) {
                    add.list.push_back(Node::of(Node::Type::Scalar, a));
                }
                caps->put("add", std::move(add));
            }
        }
        for (const auto& n : w.notes) {
            w.fix.yaml += n + "\n";
        }
        w.fix.yaml += text_of(w.merger.root);
        w.fix.conflicts = std::move(w.merger.conflicts);
        out.push_back(std::move(w.fix));
    }
    return out;
}

} // namespace capwise::lint
