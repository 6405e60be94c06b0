#include "directory/ldap_client.hpp"

#include <ldap.h>
#include <sys/time.h>

#include <charconv>

#include <fmt/format.h>

#include "util/printable.hpp"

namespace bh::directory {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

struct MessageFree {
  void operator()(LDAPMessage* m) const { ldap_msgfree(m); }
};
using Message = std::unique_ptr<LDAPMessage, MessageFree>;

struct ControlsFree {
  void operator()(LDAPControl** c) const { ldap_controls_free(c); }
};
using Controls = std::unique_ptr<LDAPControl*, ControlsFree>;

struct ValuesFree {
  void operator()(berval** v) const { ldap_value_free_len(v); }
};

struct LdapFree {
  void operator()(void* p) const { ldap_memfree(p); }
};

// libldap hands out berval cookies whose bytes it allocated.
struct Cookie {
  berval value{0, nullptr};
  ~Cookie() { clear(); }
  void clear() {
    if (value.bv_val) ber_memfree(value.bv_val);
    value = {0, nullptr};
  }
};

timeval seconds(int n) {
  return timeval{n, 0};
}

// The server's text for the last operation ("80090308: LdapErr: ..."), if any.
std::string diagnostic(LDAP* ld) {
  char* text = nullptr;
  if (ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &text) != LDAP_OPT_SUCCESS || !text)
    return "";
  std::string out = text;
  ldap_memfree(text);
  return out;
}

// The attribute values of one entry of a search result.
LdapEntry read_entry(LDAP* ld, LDAPMessage* message) {
  LdapEntry entry;
  if (char* dn = ldap_get_dn(ld, message)) {
    entry.dn = dn;
    ldap_memfree(dn);
  }
  BerElement* ber = nullptr;
  for (char* name = ldap_first_attribute(ld, message, &ber); name;
       name = ldap_next_attribute(ld, message, ber)) {
    std::unique_ptr<char, LdapFree> owned(name);
    std::unique_ptr<berval*, ValuesFree> values(ldap_get_values_len(ld, message, name));
    auto& out = entry.attributes[lower(name)];
    for (berval** v = values.get(); v && *v; ++v) out.emplace_back((*v)->bv_val, (*v)->bv_len);
  }
  if (ber) ber_free(ber, 0);
  return entry;
}

// The first referral URL of a result, if it has one.
std::string referral_of(LDAP* ld, LDAPMessage* result) {
  if (!result) return "";
  int code = LDAP_SUCCESS;
  char** referrals = nullptr;
  if (ldap_parse_result(ld, result, &code, nullptr, nullptr, &referrals, nullptr, 0) !=
          LDAP_SUCCESS ||
      !referrals)
    return "";
  std::string out = referrals[0] ? referrals[0] : "";
  ldap_memvfree(reinterpret_cast<void**>(referrals));
  return out;
}

// Answers about one DN that say nothing about the connection: the DN is
// in another partition (a referral), hidden from the account, or no DN.
bool refuses_the_dn(int code) {
  return code == LDAP_REFERRAL || code == LDAP_INSUFFICIENT_ACCESS ||
         code == LDAP_INVALID_DN_SYNTAX;
}

// NULL-terminated attribute list for libldap.
std::vector<char*> attribute_list(const std::vector<std::string>& names) {
  std::vector<char*> out;
  for (const auto& name : names) out.push_back(const_cast<char*>(name.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

const std::vector<std::string>& LdapEntry::values(std::string_view name) const {
  static const std::vector<std::string> none;
  auto found = attributes.find(lower(name));
  return found == attributes.end() ? none : found->second;
}

Error LdapConnection::failure(std::string_view what, int code) const {
  std::string message = fmt::format("{}: {}: {} ({})", url_, what, ldap_err2string(code), code);
  // libldap sets "(unknown error code)" itself when TLS fails: no news.
  if (std::string detail = diagnostic(ld_); !detail.empty() && detail != "(unknown error code)")
    message += ": " + printable(detail);
  return Error{message};
}

Result<std::unique_ptr<LdapConnection>> LdapConnection::open(const LdapSource& source,
                                                             const std::string& password) {
  // An empty password makes a simple bind "unauthenticated" (RFC 4513 5.1.2):
  // many servers answer success and the search then sees little or nothing.
  if (password.empty()) return Error{source.url + ": the bind password is empty"};
  LDAP* raw = nullptr;
  if (int rc = ldap_initialize(&raw, source.url.c_str()); rc != LDAP_SUCCESS)
    return Error{fmt::format("{}: not an LDAP URL: {}", source.url, ldap_err2string(rc))};
  std::unique_ptr<LdapConnection> connection(
      new LdapConnection(raw, source.url, source.timeout_seconds));
  LDAP* ld = connection->ld_;
  int version = LDAP_VERSION3;
  timeval timeout = seconds(source.timeout_seconds);
  int require = LDAP_OPT_X_TLS_DEMAND;
  ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
  // AD answers searches at a domain's root with referrals to other
  // partitions; following them would bind there anonymously.
  ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
  ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &timeout);
  ldap_set_option(ld, LDAP_OPT_TIMEOUT, &timeout);
  ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &require);
  if (!source.ca_file.empty() &&
      ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, source.ca_file.c_str()) != LDAP_OPT_SUCCESS)
    return Error{fmt::format("{}: ca_file {}: cannot be used", source.url, source.ca_file)};
  int is_server = 0;  // the options above take effect in a new TLS context
  if (int rc = ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &is_server); rc != LDAP_OPT_SUCCESS)
    return connection->failure("TLS set-up", rc);
  if (source.starttls)
    if (int rc = ldap_start_tls_s(ld, nullptr, nullptr); rc != LDAP_SUCCESS)
      return connection->failure("StartTLS", rc);
  berval credentials{static_cast<ber_len_t>(password.size()), const_cast<char*>(password.data())};
  int rc = ldap_sasl_bind_s(ld, source.bind_dn.c_str(), LDAP_SASL_SIMPLE, &credentials, nullptr,
                            nullptr, nullptr);
  if (rc != LDAP_SUCCESS)
    return connection->failure(fmt::format("bind as \"{}\"", printable(source.bind_dn)), rc);
  return connection;
}

LdapConnection::~LdapConnection() {
  ldap_unbind_ext_s(ld_, nullptr, nullptr);
}

Result<std::vector<LdapEntry>> LdapConnection::search(const std::string& base,
                                                      const std::string& filter,
                                                      const std::vector<std::string>& attributes,
                                                      int page_size, std::size_t* pages) {
  std::vector<LdapEntry> entries;
  std::vector<char*> names = attribute_list(attributes);
  timeval timeout = seconds(timeout_seconds_);
  Cookie cookie;
  std::size_t requests = 0;
  do {
    LDAPControl* page = nullptr;
    // Critical: a server without paging must refuse rather than return a
    // silently truncated first page (which would remove the other users).
    if (int rc = ldap_create_page_control(ld_, page_size, &cookie.value, 1, &page);
        rc != LDAP_SUCCESS)
      return failure("paged results control", rc);
    LDAPControl* controls[] = {page, nullptr};
    LDAPMessage* raw = nullptr;
    int rc = ldap_search_ext_s(ld_, base.c_str(), LDAP_SCOPE_SUBTREE, filter.c_str(), names.data(),
                               0, controls, nullptr, &timeout, LDAP_NO_LIMIT, &raw);
    ldap_control_free(page);
    Message result(raw);
    ++requests;
    if (rc != LDAP_SUCCESS)
      return failure(fmt::format("search \"{}\" below \"{}\"", printable(filter), printable(base)),
                     rc);
    for (LDAPMessage* m = ldap_first_entry(ld_, result.get()); m; m = ldap_next_entry(ld_, m))
      entries.push_back(read_entry(ld_, m));
    int code = LDAP_SUCCESS;
    LDAPControl** returned = nullptr;
    if (int parsed =
            ldap_parse_result(ld_, result.get(), &code, nullptr, nullptr, nullptr, &returned, 0);
        parsed != LDAP_SUCCESS)
      return failure("search result", parsed);
    Controls owned(returned);
    if (code != LDAP_SUCCESS) return failure("search", code);
    LDAPControl* response = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, returned, nullptr);
    if (!response) return Error{url_ + ": search: the server did not answer the paging control"};
    cookie.clear();
    ber_int_t estimate = 0;
    if (int parsed = ldap_parse_pageresponse_control(ld_, response, &estimate, &cookie.value);
        parsed != LDAP_SUCCESS)
      return failure("paged results response", parsed);
  } while (cookie.value.bv_len > 0);
  if (pages) *pages = requests;
  return entries;
}

bool parse_attribute_range(std::string_view description, std::string_view attribute,
                           AttributeRange& range) {
  std::string prefix = lower(attribute) + ";range=";
  if (description.size() <= prefix.size() || lower(description.substr(0, prefix.size())) != prefix)
    return false;
  std::string_view bounds = description.substr(prefix.size());
  std::size_t dash = bounds.find('-');
  if (dash == std::string_view::npos || dash == 0) return false;
  std::size_t start = 0;
  auto [p, ec] = std::from_chars(bounds.data(), bounds.data() + dash, start);
  if (ec != std::errc{} || p != bounds.data() + dash) return false;
  std::string_view end = bounds.substr(dash + 1);
  if (end == "*") {
    range = {start, true};
    return true;
  }
  std::size_t last = 0;
  auto [q, ec2] = std::from_chars(end.data(), end.data() + end.size(), last);
  if (ec2 != std::errc{} || q != end.data() + end.size() || end.empty() || last < start)
    return false;
  range = {last, false};
  return true;
}

Result<LdapRead> LdapConnection::read_attribute(const std::string& dn,
                                                const std::string& attribute) {
  LdapRead read;
  timeval timeout = seconds(timeout_seconds_);
  std::string wanted = attribute;
  // Each round either ends or moves the start on, so this ends; the cap
  // guards against a server that repeats a range.
  for (int round = 0; round < 100000; ++round) {
    std::vector<std::string> requested{wanted};
    std::vector<char*> names = attribute_list(requested);
    LDAPMessage* raw = nullptr;
    int rc = ldap_search_ext_s(ld_, dn.c_str(), LDAP_SCOPE_BASE, "(objectClass=*)", names.data(), 0,
                               nullptr, nullptr, &timeout, LDAP_NO_LIMIT, &raw);
    Message result(raw);
    if (rc == LDAP_NO_SUCH_OBJECT) return LdapRead{LdapRead::Outcome::no_entry, {}, ""};
    // Only the first request can be refused for the DN; later ones read an
    // entry the server has already shown.
    if (round == 0 && refuses_the_dn(rc)) {
      std::string refusal = fmt::format("{} ({})", ldap_err2string(rc), rc);
      if (std::string url = referral_of(ld_, result.get()); !url.empty())
        refusal += ", to " + url;  // encoded where it is written
      return LdapRead{LdapRead::Outcome::refused, {}, refusal};
    }
    if (rc != LDAP_SUCCESS) return failure(fmt::format("read \"{}\"", printable(dn)), rc);
    LDAPMessage* m = ldap_first_entry(ld_, result.get());
    if (!m) return LdapRead{LdapRead::Outcome::no_entry, {}, ""};
    LdapEntry entry = read_entry(ld_, m);
    bool more = false;
    for (auto& [description, part] : entry.attributes) {
      AttributeRange range;
      if (description == lower(attribute)) {
        read.values.insert(read.values.end(), part.begin(), part.end());
      } else if (parse_attribute_range(description, attribute, range)) {
        read.values.insert(read.values.end(), part.begin(), part.end());
        if (!range.last) {
          wanted = fmt::format("{};range={}-*", attribute, range.end + 1);
          more = true;
        }
      }
    }
    if (!more) return read;
  }
  return Error{fmt::format("\"{}\": {}: the server's ranges do not end", printable(dn), attribute)};
}

std::string dn_key(std::string_view dn) {
  std::string text(dn);
  char* normalised = nullptr;
  if (ldap_dn_normalize(text.c_str(), LDAP_DN_FORMAT_LDAP, &normalised, LDAP_DN_FORMAT_LDAPV3) ==
          LDAP_SUCCESS &&
      normalised) {
    text = normalised;
    ldap_memfree(normalised);
  }
  return lower(text);
}

}  // namespace bh::directory
