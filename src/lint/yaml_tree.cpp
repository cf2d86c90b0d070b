#include "lint/yaml_tree.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <string>
#include <unordered_map>
#include <yaml.h>

namespace capwise::lint {
namespace {

constexpr std::string_view kTagStr = "tag:yaml.org,2002:str";
constexpr std::string_view kTagBool = "tag:yaml.org,2002:bool";
constexpr std::string_view kTagInt = "tag:yaml.org,2002:int";
constexpr std::string_view kTagFloat = "tag:yaml.org,2002:float";
constexpr std::string_view kTagNull = "tag:yaml.org,2002:null";
constexpr std::string_view kTagMerge = "tag:yaml.org,2002:merge";

bool one_of(std::string_view text, std::initializer_list<std::string_view> words) {
    return std::find(words.begin(), words.end(), text) != words.end();
}

bool null_text(std::string_view text) {
    return text.empty() || one_of(text, {"~", "null", "Null", "NULL"});
}

// YAML 1.1 booleans, as go-yaml v2 (behind sigs.k8s.io/yaml) resolves them.
std::optional<bool> bool_text(std::string_view text) {
    if (one_of(text, {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})) {
        return true;
    }
    if (one_of(text,
               {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})) {
        return false;
    }
    return std::nullopt;
}

// Integers as Go's strconv.ParseInt(text, 0, 64) reads them: optional sign, 0x / 0o / 0b
// prefixes, a leading 0 for octal, underscores between digits.
std::optional<std::int64_t> int_text(std::string_view text) {
    bool negative = false;
    if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
        negative = text[0] == '-';
        text.remove_prefix(1);
    }
    if (text.empty()) {
        return std::nullopt;
    }
    int base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text.remove_prefix(2);
    } else if (text.size() > 2 && text[0] == '0' && (text[1] == 'b' || text[1] == 'B')) {
        base = 2;
        text.remove_prefix(2);
    } else if (text.size() > 2 && text[0] == '0' && (text[1] == 'o' || text[1] == 'O')) {
        base = 8;
        text.remove_prefix(2);
    } else if (text.size() > 1 && text[0] == '0') {
        base = 8;
        text.remove_prefix(1);
    }
    constexpr std::uint64_t kLimit = std::uint64_t{1} << 63; // |INT64_MIN|
    std::uint64_t value = 0;
    bool digits = false;
    for (char c : text) {
        if (c == '_') {
            continue;
        }
        int digit = -1;
        if (c >= '0' && c <= '9') {
            digit = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            digit = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            digit = c - 'A' + 10;
        }
        if (digit < 0 || digit >= base) {
            return std::nullopt;
        }
        const auto b = static_cast<std::uint64_t>(base);
        const auto d = static_cast<std::uint64_t>(digit);
        if (value > (kLimit - d) / b) {
            return std::nullopt;
        }
        value = value * b + d;
        digits = true;
    }
    if (!digits) {
        return std::nullopt;
    }
    if (!negative && value == kLimit) {
        return std::nullopt;
    }
    return negative ? -static_cast<std::int64_t>(value - 1) - 1 : static_cast<std::int64_t>(value);
}

// go-yaml v2's float pattern: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool float_syntax(std::string_view text) {
    std::size_t i = 0;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
        ++i;
    }
    auto digits = [&] {
        std::size_t start = i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
            ++i;
        }
        return i - start;
    };
    if (i < text.size() && text[i] == '.') {
        ++i;
        if (digits() == 0) {
            return false;
        }
    } else {
        if (digits() == 0) {
            return false;
        }
        if (i < text.size() && text[i] == '.') {
            ++i;
            digits();
        }
    }
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
            ++i;
        }
        if (digits() == 0) {
            return false;
        }
    }
    return i == text.size();
}

bool special_float(std::string_view text) {
    return one_of(text, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf",
                         "-.INF", ".nan", ".NaN", ".NAN"});
}

} // namespace

const YamlNode* YamlNode::find(std::string_view key) const {
    if (type != Type::Mapping) {
        return nullptr;
    }
    for (const auto& entry : entries) {
        if (entry.key == key) {
            return entry.value;
        }
    }
    return nullptr;
}

bool YamlNode::is_null() const {
    if (type != Type::Scalar) {
        return false;
    }
    if (tag == kTagNull) {
        return true;
    }
    return plain && null_text(value);
}

std::optional<bool> scalar_bool(const YamlNode& node) {
    if (!node.is_scalar() || (!node.plain && node.tag != kTagBool)) {
        return std::nullopt;
    }
    return bool_text(node.value);
}

std::optional<std::int64_t> scalar_int(const YamlNode& node) {
    if (!node.is_scalar() || (!node.plain && node.tag != kTagInt && node.tag != kTagFloat)) {
        return std::nullopt;
    }
    if (auto value = int_text(node.value)) {
        return value;
    }
    // A float with no fractional part becomes a JSON integer on its way to the API server.
    if (float_syntax(node.value)) {
        std::string copy;
        for (char c : node.value) {
            if (c != '_') {
                copy += c;
            }
        }
        double value = std::strtod(copy.c_str(), nullptr);
        if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 9.2e18) {
            return static_cast<std::int64_t>(value);
        }
    }
    return std::nullopt;
}

std::optional<std::string_view> scalar_string(const YamlNode& node) {
    if (!node.is_scalar() || node.is_null()) {
        return std::nullopt;
    }
    if (!node.plain) {
        if (node.tag.empty() || node.tag == kTagStr || node.tag.rfind("tag:yaml.org,", 0) != 0) {
            return std::string_view(node.value);
        }
        return std::nullopt; // !!int "5" and friends are not strings
    }
    if (bool_text(node.value) || int_text(node.value) || float_syntax(node.value) ||
        special_float(node.value)) {
        return std::nullopt;
    }
    return std::string_view(node.value);
}

std::string_view describe(const YamlNode& node) {
    switch (node.type) {
    case YamlNode::Type::Sequence:
        return "a list";
    case YamlNode::Type::Mapping:
        return "a mapping";
    case YamlNode::Type::Scalar:
        break;
    }
    if (node.is_null()) {
        return "null";
    }
    if (scalar_string(node)) {
        return "a string";
    }
    if (scalar_bool(node)) {
        return "a boolean";
    }
    return "a number";
}

namespace {

// Builds one document at a time from libyaml events.
class TreeBuilder {
  public:
    TreeBuilder(const YamlLimits& limits, int base_line) : limits_(limits), base_line_(base_line) {}

    void start_document(int index, int line) {
        doc_ = YamlDocument{};
        doc_.index = index;
        doc_.line = line;
        doc_.nodes = std::make_shared<std::deque<YamlNode>>();
        anchors_.clear();
        stack_.clear();
    }

    // Returns false (with the error recorded) when the event breaks a limit or the rules.
    bool on_event(const yaml_event_t& event) {
        const int line = static_cast<int>(event.start_mark.line) + base_line_ + 1;
        switch (event.type) {
        case YAML_SCALAR_EVENT: {
            YamlNode* node = make(YamlNode::Type::Scalar, line, event.data.scalar.tag);
            if (node == nullptr) {
                return false;
            }
            node->value.assign(reinterpret_cast<const char*>(event.data.scalar.value),
                               event.data.scalar.length);
            node->plain = event.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && node->tag.empty();
            return finish(node, event.data.scalar.anchor);
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
            const bool mapping = event.type == YAML_MAPPING_START_EVENT;
            yaml_char_t* tag =
                mapping ? event.data.mapping_start.tag : event.data.sequence_start.tag;
            yaml_char_t* anchor =
                mapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor;
            if (static_cast<int>(stack_.size()) >= limits_.max_depth) {
                return fail(line,
                            "nesting deeper than " + std::to_string(limits_.max_depth) + " levels");
            }
            YamlNode* node =
                make(mapping ? YamlNode::Type::Mapping : YamlNode::Type::Sequence, line, tag);
            if (node == nullptr) {
                return false;
            }
            Frame frame;
            frame.node = node;
            if (anchor != nullptr) {
                frame.anchor = reinterpret_cast<char*>(anchor);
            }
            stack_.push_back(std::move(frame));
            return true;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: {
            Frame frame = std::move(stack_.back());
            stack_.pop_back();
            if (frame.node->is_mapping()) {
                close_mapping(frame);
            }
            return finish(frame.node, frame.anchor);
        }
        case YAML_ALIAS_EVENT: {
            std::string name(reinterpret_cast<char*>(event.data.alias.anchor));
            auto it = anchors_.find(name);
            if (it == anchors_.end()) {
                return fail(line, "alias *" + name + " refers to no complete anchor");
            }
            return attach(it->second, line);
        }
        default:
            return true;
        }
    }

    bool fail(int line, std::string message) {
        doc_.error = YamlIssue{std::move(message), line};
        return false;
    }

    YamlDocument take() {
        if (doc_.error) {
            doc_.root = nullptr;
        }
        return std::move(doc_);
    }

  private:
    struct Frame {
        YamlNode* node = nullptr;
        std::string anchor;
        const YamlNode* key = nullptr;
        int key_line = 0;
        bool have_key = false;
        std::vector<const YamlNode*> merges;
    };

    YamlNode* make(YamlNode::Type type, int line, const yaml_char_t* tag) {
        if (doc_.nodes->size() >= limits_.max_nodes) {
            fail(line, "more than " + std::to_string(limits_.max_nodes) + " nodes");
            return nullptr;
        }
        YamlNode& node = doc_.nodes->emplace_back();
        node.type = type;
        node.line = line;
        if (tag != nullptr) {
            node.tag = reinterpret_cast<const char*>(tag);
        }
        return &node;
    }

    bool finish(const YamlNode* node, const yaml_char_t* anchor) {
        if (anchor != nullptr) {
            anchors_[reinterpret_cast<const char*>(anchor)] = node;
        }
        return attach(node, node->line);
    }
    bool finish(const YamlNode* node, const std::string& anchor) {
        if (!anchor.empty()) {
            anchors_[anchor] = node;
        }
        return attach(node, node->line);
    }

    bool attach(const YamlNode* node, int line) {
        if (stack_.empty()) {
            doc_.root = node;
            return true;
        }
        Frame& top = stack_.back();
        if (top.node->is_sequence()) {
            top.node->items.push_back(node);
            return true;
        }
        if (!top.have_key) {
            top.key = node;
            top.key_line = line;
            top.have_key = true;
            return true;
        }
        top.have_key = false;
        const YamlNode* key = top.key;
        const bool merge =
            key->is_scalar() && ((key->plain && key->value == "<<") || key->tag == kTagMerge);
        if (merge) {
            if (node->is_mapping()) {
                top.merges.push_back(node);
                return true;
            }
            if (node->is_sequence()) {
                for (const YamlNode* item : node->items) {
                    if (!item->is_mapping()) {
                        return fail(line, "a merge key (<<) takes a mapping or a list of them");
                    }
                    top.merges.push_back(item);
                }
                return true;
            }
            return fail(line, "a merge key (<<) takes a mapping or a list of them");
        }
        top.node->entries.push_back(
            YamlNode::Entry{key->is_scalar() ? std::string_view(key->value) : std::string_view(),
                            node, top.key_line});
        return true;
    }

    // Duplicate keys: the last one wins, as Kubernetes' JSON decoding does, and is reported.
    // Merged entries fill in keys the mapping does not set; the first merged mapping wins.
    void close_mapping(Frame& frame) {
        auto& entries = frame.node->entries;
        if (entries.empty() && frame.merges.empty()) {
            return;
        }
        std::vector<YamlNode::Entry> out;
        out.reserve(entries.size());
        std::unordered_map<std::string_view, std::size_t> index;
        const bool indexed = entries.size() > 16 || !frame.merges.empty();
        auto position = [&](std::string_view key) -> std::optional<std::size_t> {
            if (indexed) {
                auto it = index.find(key);
                return it == index.end() ? std::nullopt : std::optional<std::size_t>(it->second);
            }
            for (std::size_t i = 0; i < out.size(); ++i) {
                if (out[i].key == key) {
                    return i;
                }
            }
            return std::nullopt;
        };
        auto add = [&](const YamlNode::Entry& entry) {
            if (indexed) {
                index.emplace(entry.key, out.size());
            }
            out.push_back(entry);
        };
        for (const auto& entry : entries) {
            if (entry.key.empty()) {
                out.push_back(entry);
                continue;
            }
            if (auto at = position(entry.key)) {
                if (doc_.warnings.size() < 100) {
                    doc_.warnings.push_back(YamlIssue{
                        "duplicate key \"" + std::string(entry.key) + "\" (first at line " +
                            std::to_string(out[*at].line) + "): the last one wins",
                        entry.line});
                }
                out[*at] = entry;
                continue;
            }
            add(entry);
        }
        for (const YamlNode* source : frame.merges) {
            for (const auto& entry : source->entries) {
                if (!entry.key.empty() && !position(entry.key)) {
                    add(entry);
                }
            }
        }
        entries = std::move(out);
    }

    const YamlLimits& limits_;
    int base_line_;
    YamlDocument doc_;
    std::unordered_map<std::string, const YamlNode*> anchors_;
    std::vector<Frame> stack_;
};

struct Parser {
    yaml_parser_t parser{};
    Parser() { yaml_parser_initialize(&parser); }
    ~Parser() { yaml_parser_delete(&parser); }
    Parser(const Parser&) = delete;
    Parser& operator=(const Parser&) = delete;
};

struct Event {
    yaml_event_t event{};
    bool owned = false;
    ~Event() {
        if (owned) {
            yaml_event_delete(&event);
        }
    }
};

// The byte offset of the first "---" document marker line at or after `line` (0-based) whose
// offset is past `after`; npos when there is none.
std::size_t next_marker(std::string_view text, std::size_t line, std::size_t after) {
    std::size_t offset = 0;
    for (std::size_t current = 0; current < line && offset < text.size(); ++current) {
        std::size_t nl = text.find('\n', offset);
        offset = nl == std::string_view::npos ? text.size() : nl + 1;
    }
    while (offset < text.size()) {
        if (offset > after && text.compare(offset, 3, "---") == 0 &&
            (offset + 3 == text.size() || text[offset + 3] == ' ' || text[offset + 3] == '\t' ||
             text[offset + 3] == '\n' || text[offset + 3] == '\r')) {
            return offset;
        }
        std::size_t nl = text.find('\n', offset);
        if (nl == std::string_view::npos) {
            break;
        }
        offset = nl + 1;
    }
    return std::string_view::npos;
}

} // namespace

void parse_yaml_stream(std::string_view text, const YamlLimits& limits,
                       const std::function<void(YamlDocument&&)>& on_document) {
    std::size_t start = 0;
    int base_line = 0;
    int index = 0;
    while (start < text.size() || (start == 0 && text.empty())) {
        Parser parser;
        const std::string_view segment = text.substr(start);
        yaml_parser_set_input_string(
            &parser.parser, reinterpret_cast<const unsigned char*>(segment.data()), segment.size());
        TreeBuilder builder(limits, base_line);
        bool in_document = false;
        bool failed = false;
        int error_line = 0;
        for (;;) {
            Event event;
            if (yaml_parser_parse(&parser.parser, &event.event) == 0) {
                if (!in_document) {
                    builder.start_document(
                        index, static_cast<int>(parser.parser.problem_mark.line) + base_line + 1);
                }
                error_line = static_cast<int>(parser.parser.problem_mark.line) + base_line;
                builder.fail(error_line + 1, parser.parser.problem != nullptr
                                                 ? parser.parser.problem
                                                 : "malformed YAML");
                failed = true;
                break;
            }
            event.owned = true;
            const auto type = event.event.type;
            if (type == YAML_STREAM_END_EVENT) {
                break;
            }
            if (type == YAML_DOCUMENT_START_EVENT) {
                builder.start_document(index, static_cast<int>(event.event.start_mark.line) +
                                                  base_line + 1);
                in_document = true;
                continue;
            }
            if (type == YAML_DOCUMENT_END_EVENT) {
                on_document(builder.take());
                ++index;
                in_document = false;
                continue;
            }
            if (in_document && !builder.on_event(event.event)) {
                error_line = static_cast<int>(event.event.start_mark.line) + base_line;
                failed = true;
                break;
            }
        }
        if (!failed) {
            return;
        }
        on_document(builder.take());
        ++index;
        const std::size_t resume =
            next_marker(text, static_cast<std::size_t>(std::max(error_line, base_line)), start);
        if (resume == std::string_view::npos) {
            return;
        }
        base_line +=
            static_cast<int>(std::count(text.begin() + static_cast<std::ptrdiff_t>(start),
                                        text.begin() + static_cast<std::ptrdiff_t>(resume), '\n'));
        start = resume;
    }
}

} // namespace capwise::lint
