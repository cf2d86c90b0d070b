// A read-only YAML tree built from libyaml's event stream, for manifests that may be hostile.
// Aliases share the anchored node (nothing is expanded, so alias bombs stay linear), merge keys
// (`<<`) are applied once when their mapping closes, nesting and node counts are bounded, and a
// syntax error ends only its own document: reading resumes at the next `---` line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace capwise::lint {

struct YamlNode {
    enum class Type : std::uint8_t { Scalar, Sequence, Mapping };
    struct Entry {
        std::string_view key; // the key's scalar text; empty for a non-scalar key
        const YamlNode* value = nullptr;
        int line = 0;
    };

    Type type = Type::Scalar;
    bool plain = true; // unquoted scalar without a tag: typed by its text, as YAML 1.1 does
    std::string tag;   // full tag ("tag:yaml.org,2002:str"), empty when none
    std::string value; // scalar text
    int line = 0;      // 1-based
    std::vector<const YamlNode*> items; // sequence
    std::vector<Entry> entries;         // mapping: merge keys applied, duplicate keys: last wins

    bool is_scalar() const { return type == Type::Scalar; }
    bool is_sequence() const { return type == Type::Sequence; }
    bool is_mapping() const { return type == Type::Mapping; }
    // The value under `key` in a mapping; nullptr when absent or when this is not a mapping.
    const YamlNode* find(std::string_view key) const;
    // A null scalar: ~, null, Null, NULL, an empty plain scalar, or tagged !!null.
    bool is_null() const;
};

// How Kubernetes' YAML decoder (YAML 1.1 typing, then JSON) reads a scalar. nullopt when the
// scalar is not of that type (a quoted "true" is a string, not a boolean).
std::optional<bool> scalar_bool(const YamlNode& node);
std::optional<std::int64_t> scalar_int(const YamlNode& node);
// Strings: any scalar that is not null (Kubernetes turns plain 8080 or true into JSON numbers
// and booleans, which a string field rejects).
std::optional<std::string_view> scalar_string(const YamlNode& node);
// "a string", "a list", "a mapping", "a number", "a boolean", "null": for error messages.
std::string_view describe(const YamlNode& node);

struct YamlIssue {
    std::string message;
    int line = 0;
};

struct YamlDocument {
    int index = 0;                   // 0-based position in the stream
    int line = 1;                    // where it starts
    const YamlNode* root = nullptr;  // nullptr for an empty document or after an error
    std::optional<YamlIssue> error;  // syntax error or a limit; the rest of this document is lost
    std::vector<YamlIssue> warnings; // duplicate keys
    std::shared_ptr<std::deque<YamlNode>> nodes; // owns everything root points to
};

struct YamlLimits {
    std::size_t max_nodes = 1'000'000; // per document: an API object is at most ~1.5 MiB
    int max_depth = 256;               // nested collections
};

// Calls on_document for every document, in order, as soon as it is complete.
void parse_yaml_stream(std::string_view text, const YamlLimits& limits,
                       const std::function<void(YamlDocument&&)>& on_document);

} // namespace capwise::lint
