// A [[rule]]'s header edits (set_header, add_header) and its reject table.
#include <algorithm>
#include <cctype>

#include "mail/header_edit.hpp"
#include "server/config_rules_internal.hpp"

namespace bh::config_detail {
namespace {

// Calls visit(reader) for a table, or for each table of a list of tables.
template <typename Visit>
void tables(TableReader& r, const std::string& key, std::vector<std::string>& errors,
            const std::string& source, Visit visit) {
  const toml::node* n = r.node(key);
  if (!n) return;
  if (const toml::table* table = n->as_table()) {
    TableReader reader(*table, r.qualified(key), source, errors);
    return visit(reader, *n);
  }
  const toml::array* array = n->as_array();
  if (!array || array->empty() || !array->is_array_of_tables())
    return r.error(*n, key, "must be a table { name = ..., ... } or a list of them");
  std::size_t index = 0;
  for (const toml::node& item : *array) {
    TableReader reader(*item.as_table(), fmt::format("{}[{}]", r.qualified(key), index++), source,
                       errors);
    visit(reader, item);
  }
}

}  // namespace

void RuleReader::header_edits(const std::string& key, HeaderEdit::Kind kind) {
  tables(r, key, errors, source, [&](TableReader& t, const toml::node&) {
    HeaderEdit edit{kind, "", ""};
    t.text("name", edit.name, true);
    t.text("value", edit.value, true);
    if (!t.table().contains("name") || !t.table().contains("value")) return;
    if (!is_field_name(edit.name))
      return t.error(
          *t.node("name"), "name",
          in_quotes(edit.name) + " is not a header field name (printable ASCII except ':')");
    if (std::string problem = value_problem(edit.value); !problem.empty())
      return t.error(*t.node("value"), "value", problem);
    if (std::string problem = header_edit_problem(edit.name, edit.value); !problem.empty())
      return t.error(*t.node("value"), "value", problem);
    rule.header_edits.push_back(std::move(edit));
  });
}

void RuleReader::reject() {
  const toml::node* n = r.node("reject");
  if (!n) return;
  const toml::table* table = n->as_table();
  if (!table)
    return r.error(*n, "reject",
                   "must be a table: { code = 550, enhanced = \"5.7.1\", text = \"...\" }");
  TableReader t(*table, r.qualified("reject"), source, errors);
  RuleRejection reject;
  reject.text = "Delivery not authorized, message refused";
  const toml::node* code = t.node("code");
  t.text("enhanced", reject.enhanced);
  t.text("text", reject.text);
  bool good = true;
  auto bad = [&](const char* key, const std::string& message) {
    t.error(*t.node(key), key, message);
    good = false;
  };
  std::int64_t value = code && code->is_integer() ? *code->value<std::int64_t>() : 0;
  // RFC 5321 4.2: the second digit is 0 to 5.
  if (!code) {
    t.missing("code");
    good = false;
  } else if (value < 400 || value > 599 || value / 10 % 10 > 5) {
    bad("code", "must be a 4xx or 5xx reply code, e.g. 550");
  }
  reject.code = static_cast<int>(value);
  const char kind = static_cast<char>('0' + value / 100);
  if (!table->contains("enhanced")) {
    reject.enhanced = fmt::format("{}.7.1", kind);
  } else if (t.node("enhanced")->is_string()) {
    const std::string& e = reject.enhanced;
    std::size_t dot1 = e.find('.');
    std::size_t dot2 = dot1 == e.npos ? e.npos : e.find('.', dot1 + 1);
    auto digits = [&](std::size_t from, std::size_t to) {
      return to > from && to - from <= 3 &&
             std::all_of(e.begin() + from, e.begin() + to,
                         [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    };
    if (dot1 != 1 || dot2 == e.npos || !digits(2, dot2) || !digits(dot2 + 1, e.size()) ||
        (e[0] != '4' && e[0] != '5'))
      bad("enhanced", in_quotes(e) + " is not an enhanced status code (4.x.y or 5.x.y, RFC 3463)");
    else if (good && e[0] != kind)
      bad("enhanced",
          fmt::format("{} does not have the class of code {} ({}.x.y)", in_quotes(e), value, kind));
  }
  if (const toml::node* text = t.table().get("text"); text && text->is_string()) {
    if (reject.text.empty() || reject.text.size() > 400 ||
        !std::all_of(reject.text.begin(), reject.text.end(),
                     [](char c) { return c >= 32 && c <= 126; }))
      bad("text", "must be 1 to 400 characters of printable ASCII");
  }
  if (good) rule.reject = std::move(reject);
}

}  // namespace bh::config_detail
