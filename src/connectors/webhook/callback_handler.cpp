#include "connectors/webhook/callback_handler.hpp"

#include "connectors/webhook/json.hpp"
#include "connectors/webhook/response.hpp"
#include "connectors/webhook/signature.hpp"
#include "util/printable.hpp"

namespace bh::connectors::webhook {
namespace {

CallbackAnswer refuse(unsigned status, std::string reason, std::string id = {}) {
  CallbackAnswer answer;
  answer.status = status;
  JsonWriter json;
  json.begin_object().key("error").string(reason).end_object();
  answer.body = json.take();
  answer.reason = std::move(reason);
  answer.id = std::move(id);
  return answer;
}

// The detail, made fit for a DSN's Diagnostic-Code and a log line.
std::string bounded_detail(std::string_view detail) {
  if (detail.size() > kMaxCallbackDetail) detail = detail.substr(0, kMaxCallbackDetail);
  return printable(detail);
}

}  // namespace

CallbackAnswer handle_callback(const CallbackRequest& request, std::string_view secret,
                               std::int64_t now, PendingSink* sink, const std::string& connector) {
  if (request.target != kCallbackPath) return refuse(404, "no such path: POST /callback");
  if (request.method != "POST") return refuse(405, "only POST /callback");
  if (request.body.size() > kMaxCallbackBody) return refuse(413, "body larger than 64 KiB");
  // The signature first: nothing of an unauthenticated body is looked at.
  if (SignatureCheck check = verify(request.signature, secret, request.body, now);
      check != SignatureCheck::valid)
    return refuse(401, std::string(describe(check)));
  auto parsed = parse_json(request.body);
  if (!parsed) return refuse(400, "malformed JSON: " + parsed.error().message);
  if (!parsed->as_object()) return refuse(400, "the body must be a JSON object");
  const JsonValue* id_value = parsed->member("id");
  const JsonValue* status_value = parsed->member("status");
  const JsonValue* detail_value = parsed->member("detail");
  const std::string* id = id_value ? id_value->as_string() : nullptr;
  const std::string* status = status_value ? status_value->as_string() : nullptr;
  if (!id || !valid_reference(*id))
    return refuse(400, "\"id\" must be a string of 1 to 200 printable ASCII characters");
  if (!status || (*status != "delivered" && *status != "failed"))
    return refuse(400, "\"status\" must be \"delivered\" or \"failed\"", *id);
  std::string detail;
  if (detail_value) {
    const std::string* text = detail_value->as_string();
    if (!text && !std::holds_alternative<std::nullptr_t>(detail_value->value))
      return refuse(400, "\"detail\" must be a string", *id);
    if (text) detail = bounded_detail(*text);
  }

  RecipientResult result;
  if (*status == "delivered") {
    result.outcome = Outcome::delivered;
    result.status = "2.0.0";
    result.success_action = "delivered";
    result.diagnostic =
        detail.empty() ? "webhook callback: delivered" : "webhook callback: " + detail;
  } else {
    result.outcome = Outcome::bounced;
    result.status = "5.0.0";
    result.diagnostic = detail.empty() ? "webhook callback: failed" : "webhook callback: " + detail;
  }
  if (sink == nullptr || !sink->resolve(connector, *id, result))
    return refuse(503, "the report could not be recorded; send it again", *id);
  CallbackAnswer answer;
  answer.body = R"({"ok":true})";
  answer.reason = *status;
  answer.id = *id;
  return answer;
}

}  // namespace bh::connectors::webhook
