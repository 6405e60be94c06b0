// Errors of the store that callers tell apart: the admin API maps them to
// 404, 409 and 400; the policy maps `unavailable` to 451 4.3.0.
#pragma once

#include <system_error>

#include "util/result.hpp"

namespace bh::store {

enum class StoreErrc {
  not_found = 1,  // the object does not exist
  conflict,       // it exists, or belongs to another tenant
  invalid,        // the value breaks a rule of the model
  unavailable,    // the store cannot be reached (or the cache is too old)
};

const std::error_category& store_category();

inline std::error_code make_error_code(StoreErrc e) {
  return {static_cast<int>(e), store_category()};
}

inline Error store_error(StoreErrc e, std::string message) {
  return Error{std::move(message), make_error_code(e)};
}

inline bool is(const Error& error, StoreErrc e) {
  return error.code == make_error_code(e);
}

}  // namespace bh::store

template <>
struct std::is_error_code_enum<bh::store::StoreErrc> : std::true_type {};
