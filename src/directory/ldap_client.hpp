// A blocking LDAP client for the directory sync, on OpenLDAP's libldap:
// connect (ldap://, ldaps:// or StartTLS, certificates verified), simple
// bind, subtree search with RFC 2696 paged results, and multi-valued
// attributes read with Active Directory's ranged retrieval. Used only by
// directory/ldap_sync.cpp, never on the message path.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "directory/ldap_settings.hpp"
#include "util/result.hpp"

typedef struct ldap LDAP;

namespace bh::directory {

struct LdapEntry {
  std::string dn;
  // Attribute names in lower case (LDAP compares them case-insensitively).
  std::map<std::string, std::vector<std::string>> attributes;

  // The values of `name` (any case); empty when the entry has none.
  const std::vector<std::string>& values(std::string_view name) const;
};

// A base-object read of one attribute of one entry.
struct LdapRead {
  enum class Outcome {
    found,     // values: the attribute's values (none: the entry has none the account may read)
    no_entry,  // noSuchObject, or no entry the account may see
    // The server does not answer for the DN: a referral (10; the DN is in
    // another domain's partition, and referrals are not followed),
    // insufficient access (50), or invalid DN syntax (34). `refusal` says
    // which ("Referral (10), to ldap://...").
    refused,
  };
  Outcome outcome = Outcome::found;
  std::vector<std::string> values;
  std::string refusal;
};

class LdapConnection {
 public:
  // Connects to source.url and binds as source.bind_dn with password.
  static Result<std::unique_ptr<LdapConnection>> open(const LdapSource& source,
                                                      const std::string& password);
  ~LdapConnection();
  LdapConnection(const LdapConnection&) = delete;
  LdapConnection& operator=(const LdapConnection&) = delete;

  // Every entry below base matching filter, page_size entries a request;
  // *pages counts the requests.
  Result<std::vector<LdapEntry>> search(const std::string& base, const std::string& filter,
                                        const std::vector<std::string>& attributes, int page_size,
                                        std::size_t* pages = nullptr);

  // All values of one attribute of the entry dn. Active Directory returns
  // at most 1500 values of a large attribute (a group's member) at a time,
  // as "member;range=0-1499"; the rest is asked for range by range. An
  // error: the connection failed or timed out, or any other LDAP failure.
  Result<LdapRead> read_attribute(const std::string& dn, const std::string& attribute);

 private:
  LdapConnection(LDAP* ld, std::string url, int timeout_seconds)
      : ld_(ld), url_(std::move(url)), timeout_seconds_(timeout_seconds) {}
  Error failure(std::string_view what, int code) const;

  LDAP* ld_;
  std::string url_;
  int timeout_seconds_;
};

// A DN in one form for comparing (libldap's normalisation, then lower case,
// as AD and OpenLDAP compare the usual naming attributes): member and
// memberOf values are matched with it.
std::string dn_key(std::string_view dn);

// Parses the option of an attribute description that AD's ranged retrieval
// returns: "member;range=0-1499" -> end 1499; "member;range=1500-*" -> last.
// false when description is not attribute with a range option.
struct AttributeRange {
  std::size_t end = 0;
  bool last = false;
};
bool parse_attribute_range(std::string_view description, std::string_view attribute,
                           AttributeRange& range);

}  // namespace bh::directory
