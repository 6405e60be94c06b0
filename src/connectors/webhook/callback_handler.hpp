// What the callback endpoint answers (README.md: "Callbacks"), apart from
// the HTTP server that carries it, so every answer is testable without a
// socket.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/connector.hpp"

namespace bh::connectors::webhook {

inline constexpr std::string_view kCallbackPath = "/callback";
inline constexpr std::size_t kMaxCallbackBody = 64 * 1024;
inline constexpr std::size_t kMaxCallbackDetail = 1000;

struct CallbackRequest {
  std::string_view method;     // "POST"
  std::string_view target;     // "/callback"
  std::string_view signature;  // X-Bridgehead-Signature, "" when absent
  std::string_view body;
};

struct CallbackAnswer {
  unsigned status = 200;
  std::string body;    // JSON: {"ok": true} or {"error": "..."}
  std::string reason;  // for the log
  std::string id;      // the reference, once known
};

// sink may be null (the gateway keeps no pending recipients): every id is
// then unknown. now: unix seconds.
CallbackAnswer handle_callback(const CallbackRequest& request, std::string_view secret,
                               std::int64_t now, PendingSink* sink, const std::string& connector);

}  // namespace bh::connectors::webhook
