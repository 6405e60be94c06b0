#include "policy/transport_rules.hpp"

#include <algorithm>

#include <re2/re2.h>

#include "mail/header_block.hpp"
#include "policy/routes.hpp"

namespace bh {
namespace {

using Kind = RuleCondition::Kind;

struct Field {
  std::string name;
  std::string value;  // unfolded
};

// The header as the rules see it: the message's fields, then the edits of
// the rules that applied so far (so a later rule can test a header an
// earlier one set). Built on the first header condition only.
class HeaderView {
 public:
  explicit HeaderView(const HeaderBlock* block) : block_(block) {}

  const std::vector<Field>& fields() {
    if (!built_) {
      built_ = true;
      if (block_)
        for (const HeaderField& f : block_->fields())
          fields_.push_back({std::string(f.name), HeaderBlock::unfolded(f.value)});
      for (const HeaderEdit& edit : pending_) apply(edit);
      pending_.clear();
    }
    return fields_;
  }

  void edit(const HeaderEdit& edit) {
    if (built_)
      apply(edit);
    else
      pending_.push_back(edit);
  }

 private:
  // As apply_header_edits does it; the order of fields does not matter here.
  void apply(const HeaderEdit& edit) {
    if (edit.kind != HeaderEdit::Kind::add)
      std::erase_if(fields_, [&](const Field& f) { return iequals_ascii(f.name, edit.name); });
    if (edit.kind != HeaderEdit::Kind::remove)
      fields_.push_back({edit.name, HeaderBlock::unfolded(edit.value)});
  }

  const HeaderBlock* block_;
  bool built_ = false;
  std::vector<Field> fields_;
  std::vector<HeaderEdit> pending_;
};

bool any_of(const std::vector<std::string>& values, auto matches) {
  return std::any_of(values.begin(), values.end(), matches);
}

// Full addresses compare the local part without case, as routes do.
bool address_listed(const std::vector<std::string>& values, const Address& address) {
  if (address.null()) return any_of(values, [](const std::string& v) { return v == "<>"; });
  std::string key = to_lower_ascii(address.local) + "@" + address.domain_key();
  return any_of(values, [&](const std::string& v) { return v == key; });
}

bool domain_listed(const std::vector<std::string>& values, const Address& address) {
  if (address.null()) return false;
  std::string domain = address.domain_key();
  return any_of(values, [&](const std::string& v) { return domain_matches(v, domain); });
}

bool header_test(const RuleCondition& c, HeaderView& header) {
  for (const Field& field : header.fields()) {
    if (c.kind == Kind::header_exists) {
      if (any_of(c.values, [&](const std::string& v) { return iequals_ascii(v, field.name); }))
        return true;
      continue;
    }
    if (!iequals_ascii(field.name, c.header)) continue;
    switch (c.kind) {
      case Kind::header_equals:
        if (any_of(c.values, [&](const std::string& v) { return iequals_ascii(v, field.value); }))
          return true;
        break;
      default:  // header_matches
        if (c.regex && RE2::PartialMatch(field.value, *c.regex)) return true;
        break;
    }
  }
  return false;
}

// A condition that does not depend on the recipient (without `except`).
bool message_test(const RuleCondition& c, const RuleInput& in, HeaderView& header) {
  switch (c.kind) {
    case Kind::header_exists:
    case Kind::header_equals:
    case Kind::header_matches:
      return header_test(c, header);
    case Kind::sender:
      return address_listed(c.values, in.sender);
    case Kind::sender_domain:
      return domain_listed(c.values, in.sender);
    case Kind::inbound_connector:
      return !in.inbound_connector.empty() &&
             any_of(c.values, [&](const std::string& v) { return v == in.inbound_connector; });
    case Kind::tenant: {
      std::string tenant = to_lower_ascii(in.tenant);
      return !tenant.empty() && any_of(c.values, [&](const std::string& v) { return v == tenant; });
    }
    case Kind::client_ip:
      return in.client_ip && any_contains(c.ranges, *in.client_ip);
    case Kind::size_over:
      return in.size > c.size;
    case Kind::size_under:
      return in.size < c.size;
    case Kind::stamp_valid:
      return in.stamp_valid == c.flag;
    case Kind::recipient:
    case Kind::recipient_domain:
      break;
  }
  return false;
}

bool recipient_test(const RuleCondition& c, const Address& recipient) {
  return c.kind == Kind::recipient ? address_listed(c.values, recipient)
                                   : domain_listed(c.values, recipient);
}

}  // namespace

RuleOutcome TransportRules::evaluate(const RuleInput& in) const {
  RuleOutcome out;
  const std::size_t n = in.recipients.size();
  out.routes.assign(n, std::nullopt);
  out.routed_by.assign(n, std::string());
  HeaderView header(in.header);
  std::vector<bool> selected;
  for (const TransportRule& rule : rules_) {
    if (!rule.enabled) continue;
    selected.assign(n, true);
    bool by_recipient = false;
    bool holds = true;
    for (const RuleCondition& c : rule.conditions) {
      if (c.per_recipient()) {
        by_recipient = true;
        for (std::size_t i = 0; i < n; ++i)
          if (selected[i] && recipient_test(c, in.recipients[i]) == c.except) selected[i] = false;
      } else if (message_test(c, in, header) == c.except) {
        holds = false;
        break;
      }
    }
    if (holds && by_recipient)
      holds = std::find(selected.begin(), selected.end(), true) != selected.end();
    if (!holds) continue;
    out.matched.push_back(rule.name);
    if (rule.reject) {
      out.reject = rule.reject;
      out.rejected_by = rule.name;
      return out;
    }
    if (rule.route_to) {
      for (std::size_t i = 0; i < n; ++i) {
        if (!selected[i]) continue;
        out.routes[i] = rule.route_to;
        out.routed_by[i] = rule.name;
      }
    }
    for (const HeaderEdit& edit : rule.header_edits) {
      out.header_edits.push_back(edit);
      out.header_edited_by.push_back(rule.name);
      header.edit(edit);
    }
    if (rule.stop) break;
  }
  return out;
}

Result<std::shared_ptr<const re2::RE2>> compile_rule_regex(std::string_view pattern) {
  RE2::Options options;
  options.set_log_errors(false);  // the error goes into the configuration message instead
  auto regex = std::make_shared<RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!regex->ok()) return Error{regex->error()};
  return std::shared_ptr<const re2::RE2>(std::move(regex));
}

}  // namespace bh
