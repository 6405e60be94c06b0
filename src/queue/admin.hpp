// `bridgehead queue ...`: works on the spool directly, also while the gateway
// runs (every change is a rename; the running scheduler notices within a
// second).
#pragma once

#include <ostream>
#include <string>

#include "queue/spool.hpp"

namespace bh::queue {

int admin_list(const Spool& spool, std::ostream& out);
int admin_show(const Spool& spool, const std::string& id, std::ostream& out, std::ostream& err);
int admin_hold(const Spool& spool, const std::string& id, std::ostream& out, std::ostream& err);
int admin_release(const Spool& spool, const std::string& id, std::ostream& out, std::ostream& err);
int admin_delete(const Spool& spool, const std::string& id, std::ostream& out, std::ostream& err);
int admin_retry(const Spool& spool, const std::string& id, std::ostream& out, std::ostream& err);
// Moves every deferred message to incoming.
int admin_flush(const Spool& spool, std::ostream& out);

}  // namespace bh::queue
