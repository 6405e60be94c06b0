// What the admin listener (admin/http_server.cpp) answers by itself, before
// or instead of a handler, the plain request a handler is given, and the
// HTTP message an answer is written as.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>
#include <optional>
#include <string_view>

#include "admin/admin_settings.hpp"
#include "admin/router.hpp"
#include "admin/worker_call.hpp"

namespace bh::admin {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;
using BeastResponse = boost::beast::http::response<boost::beast::http::string_body>;

// The token in "Authorization: Bearer <token>" (the scheme in any case).
std::optional<std::string_view> bearer_token(std::string_view header);

// 401 with WWW-Authenticate (error="invalid_token" when a token was given).
HttpResponse unauthorized(std::string_view message, bool invalid_token);

// The 503 of a request whose deadline overtook its token check or handler
// (outcome not_started or still_running).
HttpResponse overtaken(CallOutcome outcome, const AdminSettings& settings);

// What a client whose request could not be read is told; nullopt: it
// closed or went silent, so nothing is sent.
std::optional<HttpResponse> refusal_for(const boost::system::error_code& ec,
                                        const AdminSettings& settings);

// The router's answer to a request that was read (runs on a worker).
HttpResponse answer_request(const Router& router, BeastRequest request, const Caller& caller);

BeastResponse to_message(const HttpResponse& answer, unsigned version, bool keep_alive);

}  // namespace bh::admin
