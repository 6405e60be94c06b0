#include "util/result.hpp"

#include <cstring>

namespace bh {

Error system_error(const std::string& what, int errnum) {
  return Error{what + ": " + std::strerror(errnum),
               std::error_code(errnum, std::generic_category())};
}

}  // namespace bh
