#include "store/store_error.hpp"

#include <string>

namespace bh::store {
namespace {

class StoreCategory : public std::error_category {
 public:
  const char* name() const noexcept override { return "store"; }
  std::string message(int value) const override {
    switch (static_cast<StoreErrc>(value)) {
      case StoreErrc::not_found:
        return "not found";
      case StoreErrc::conflict:
        return "conflict";
      case StoreErrc::invalid:
        return "invalid";
      case StoreErrc::unavailable:
        return "store unavailable";
    }
    return "store error " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& store_category() {
  static const StoreCategory category;
  return category;
}

}  // namespace bh::store
