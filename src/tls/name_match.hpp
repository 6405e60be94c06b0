// Certificate name checks for outbound TLS policies (RFC 6125 style): a
// leading "*." wildcard matches exactly one label.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bh::tls {

bool name_matches(std::string_view pattern, std::string_view host);
// DNS SANs are checked when present; the CN only when there are none.
bool certificate_matches(std::string_view expected, const std::vector<std::string>& dns_names,
                         std::string_view common_name);

}  // namespace bh::tls
