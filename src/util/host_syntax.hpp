// The syntax of host names and HOST:PORT as the configuration writes them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bh {

// Why `name` is not a host name for the greeting, EHLO and certificates
// (labels of letters, digits and '-', dots between them, at most 253
// characters, or an address literal "[192.0.2.1]" / "[IPv6:2001:db8::1]");
// empty when it is one.
std::string hostname_problem(std::string_view name);
// "host:port" or "[v6]:port"; port_default when no port is given. With
// port_default 0 (listeners) the host must be an IP address.
bool parse_host_and_port(const std::string& text, std::string& host, std::uint16_t& port,
                         std::uint16_t port_default);

}  // namespace bh
