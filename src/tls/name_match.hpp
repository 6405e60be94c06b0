// Certificate names of inbound connectors, and the SNI of outbound sessions.
//
// Pure text functions, no OpenSSL (the fuzz targets link this file). The
// outbound DomainValidation check goes through OpenSSL's X509_check_host /
// X509_check_ip_asc instead (tls/client_policy.cpp).
//
// A name is compared without regard to ASCII case and one trailing dot. A
// wildcard is "*." followed by a name of at least two labels ("*.com" is
// not a wildcard and matches nothing); the "*" stands for exactly one
// non-empty label. Any other "*" ("f*.example.com", "a.*.example.com")
// makes the name match nothing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bh::tls {

// "*.example.com" yes; "*.com", "*", "*.", "f*.example.com" no.
bool valid_wildcard(std::string_view pattern);

// pattern (an exact name or a wildcard) against host, an exact name. A host
// with a "*" matches only the identical wildcard; a wildcard never matches
// an IP address literal.
bool name_matches(std::string_view pattern, std::string_view host);

// Inbound connectors: does a certificate carry the configured name? expected
// is the connector's certificate_names entry (exact or wildcard). The
// certificate's DNS SANs are checked when it has any, its CN only when it
// has none (RFC 6125). Matches when expected (as a pattern) matches a
// certificate name, or a certificate wildcard matches expected.
bool certificate_matches(std::string_view expected, const std::vector<std::string>& dns_names,
                         std::string_view common_name);

// An IPv4 or IPv6 address literal (IPv6 with or without brackets).
bool is_ip_literal(std::string_view text);

// The server name to send in the TLS SNI extension when connecting to host
// with the configured tls_domain (may be empty): tls_domain when it is an
// exact name, otherwise host; never a wildcard or an IP literal (RFC 6066),
// empty when there is no name to send. Without the trailing dot.
std::string sni_name(std::string_view tls_domain, std::string_view host);

}  // namespace bh::tls
