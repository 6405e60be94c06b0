#pragma once

#include <string>
#include <vector>

namespace bh::dns {

struct ResolverSettings {
  std::string resolv_conf = "/etc/resolv.conf";  // forwarders; empty: recurse from the root
  std::string hosts_file;                        // e.g. /etc/hosts; empty: not used
  std::vector<std::string> local_data;           // unbound local-data lines
};

}  // namespace bh::dns
