// GET /v1/messages and GET /v1/messages/{id}: the message trace (Scope::read).
// A caller bound to a tenant sees only that tenant's messages.
#pragma once

#include "admin/router.hpp"
#include "trace/trace_store.hpp"

namespace bh::admin {

void add_trace_routes(Router& router, trace::TraceStore& store);

}  // namespace bh::admin
