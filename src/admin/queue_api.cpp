// /v1/queue: what `bridgehead queue` does (queue/admin.hpp), as JSON. It
// works on this node's spool; every change is a rename the scheduler notices.
// Messages belong to tenants only when their envelope says so: a token
// limited to a tenant sees only messages whose tenant is its own. Reading
// needs Scope::read; changes (hold, release, retry, delete, flush) are
// operator actions and need Scope::admin.
#include <algorithm>

#include <boost/json.hpp>

#include "admin/admin_plane.hpp"
#include "admin/api_support.hpp"
#include "mail/queue_id.hpp"
#include "queue/admin.hpp"
#include "queue/spool.hpp"
#include "util/printable.hpp"

namespace bh::admin {
namespace json = boost::json;
using queue::ActionResult;
using queue::QueueAction;

namespace {

// A tenant's token filters envelopes: one page reads at most this many
// pages' worth of queue files.
constexpr std::size_t kTenantScanPages = 10;

// Text from the queue file, made valid UTF-8 for JSON (the spool keeps the
// bytes as the client sent them).
std::string safe(std::string_view text) {
  if (valid_utf8(text)) return std::string(text);
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t length = utf8_sequence(text, i);
    if (length == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

json::array recipients_of(const Envelope& envelope) {
  json::array list;
  for (const Recipient& r : envelope.recipients) list.emplace_back(safe(r.address.text()));
  return list;
}

std::string sender_of(const Envelope& envelope) {
  return envelope.sender.null() ? "" : safe(envelope.sender.text());
}

json::object entry_json(const queue::QueueEntry& entry) {
  json::object item{
      {"id", entry.id}, {"state", queue::state_name(entry.state)}, {"size", entry.size}};
  if (entry.next_attempt != 0)
    item["next_attempt"] = entry.next_attempt;
  else
    item["next_attempt"] = nullptr;
  if (!entry.envelope) {
    item["problem"] = safe(entry.problem);
    return item;
  }
  const Envelope& e = *entry.envelope;
  item["arrival"] = e.arrival;
  item["sender"] = sender_of(e);
  item["recipients"] = recipients_of(e);
  item["tenant"] = safe(e.tenant);
  return item;
}

int status_of(ActionResult result) {
  switch (result) {
    case ActionResult::done:
      return 200;
    case ActionResult::not_found:
      return 404;
    case ActionResult::busy:
    case ActionResult::wrong_state:
    case ActionResult::changed_meanwhile:
      return 409;
    case ActionResult::failed:
      return 500;
  }
  return 500;
}

std::string_view code_of(ActionResult result) {
  switch (result) {
    case ActionResult::done:
      return "ok";
    case ActionResult::not_found:
      return "not_found";
    case ActionResult::busy:
      return "busy";
    case ActionResult::wrong_state:
      return "wrong_state";
    case ActionResult::changed_meanwhile:
      return "changed_meanwhile";
    case ActionResult::failed:
      return "internal";
  }
  return "internal";
}

class QueueApi {
 public:
  explicit QueueApi(const queue::Spool& spool) : spool_(spool) {}

  // The message's state when it exists and the caller may see it.
  std::optional<queue::State> visible(const std::string& id, const Caller& caller) const {
    if (!valid_queue_id(id)) return std::nullopt;
    auto state = spool_.locate(id);
    if (!state || caller.tenant.empty()) return state;
    std::size_t size = 0;
    auto envelope = spool_.load_envelope(*state, id, &size);
    if (!envelope || envelope->tenant != caller.tenant) return std::nullopt;
    return state;
  }

  // One page, in id order (ids begin with their arrival time): the file
  // names are listed, but only the page's envelopes are read. A tenant's
  // token filters by the envelope, so its page reads at most
  // kTenantScanPages pages' worth and may come back short, with `next` to
  // go on from.
  HttpResponse list(const HttpRequest& request, const Caller& caller) const {
    if (auto refused = check_query(request, {"state", "limit", "after"})) return *refused;
    PageQuery page;
    if (auto refused = read_page(request, page)) return *refused;
    if (!page.after.empty() && !valid_queue_id(page.after))
      return invalid({{"after", "must be a queue id (the next of the previous page)"}});
    std::string wanted = query_value(request, "state");
    auto wanted_state = queue::state_from_name(wanted);
    if (!wanted.empty() && !wanted_state)
      return invalid({{"state", "must be incoming, active, deferred, hold or corrupt"}});
    std::vector<std::pair<std::string, queue::State>> ids;
    for (queue::State state : queue::kAllStates) {
      if (wanted_state && state != *wanted_state) continue;
      for (std::string& id : spool_.list(state))
        if (id > page.after) ids.emplace_back(std::move(id), state);
    }
    std::sort(ids.begin(), ids.end());
    const std::size_t limit = static_cast<std::size_t>(page.limit);
    const std::size_t scan = caller.tenant.empty() ? limit : limit * kTenantScanPages;
    json::array items;
    std::size_t examined = 0;
    std::string last;
    for (const auto& [id, state] : ids) {
      if (items.size() == limit || examined == scan) break;
      if (id == last) continue;  // met twice while it moved between states
      ++examined;
      last = id;
      queue::QueueEntry entry = queue::read_entry(spool_, state, id);
      if (!entry.envelope) {
        // Moved since the listing (the scheduler works meanwhile): read it
        // where it is now; gone altogether: left out.
        auto now = spool_.locate(id);
        if (!now) continue;
        if (*now != state) entry = queue::read_entry(spool_, *now, id);
        if (wanted_state && entry.state != *wanted_state) continue;
      }
      if (!caller.tenant.empty() && (!entry.envelope || entry.envelope->tenant != caller.tenant))
        continue;
      items.push_back(entry_json(entry));
    }
    json::object answer{{"messages", std::move(items)}};
    bool more = !ids.empty() && !last.empty() && ids.back().first > last;
    if (more)
      answer["next"] = last;
    else
      answer["next"] = nullptr;
    return json_response(200, answer);
  }

  HttpResponse show(const PathParams& params, const Caller& caller) const {
    const std::string& id = params.at("id");
    auto state = visible(id, caller);
    if (!state) return not_found("message");
    auto message = spool_.load(*state, id);
    if (!message)
      return error_response(409, "unreadable",
                            "the queue file cannot be read: " + safe(message.error().message));
    const Envelope& e = message->envelope;
    json::array recipients;
    for (const Recipient& r : e.recipients)
      recipients.push_back(json::object{{"address", safe(r.address.text())},
                                        {"orcpt", safe(r.orcpt)},
                                        {"connector", safe(r.connector)},
                                        {"pending_reference", safe(r.pending_reference)}});
    json::object answer{
        {"id", e.queue_id},
        {"state", queue::state_name(*state)},
        {"arrival", e.arrival},
        {"sender", sender_of(e)},
        {"recipients", std::move(recipients)},
        {"size", message->content.size()},
        {"tenant", safe(e.tenant)},
        {"client", json::object{{"ip", safe(e.client.ip)},
                                {"helo", safe(e.client.helo)},
                                {"tls_version", safe(e.client.tls_version)},
                                {"certificate_subject", safe(e.client.cert_subject)},
                                {"certificate_verified", e.client.cert_verified},
                                {"inbound_connector", safe(e.client.inbound_connector)}}},
        {"header", safe(queue::header_section(message->content))}};
    return json_response(200, answer);
  }

  HttpResponse act(const PathParams& params, const Caller& caller,
                   QueueAction (*action)(const queue::Spool&, const std::string&)) const {
    const std::string& id = params.at("id");
    if (!visible(id, caller)) return not_found("message");
    QueueAction done = action(spool_, id);
    if (done.result != ActionResult::done)
      return error_response(status_of(done.result), code_of(done.result), safe(done.message));
    json::object answer{
        {"id", id}, {"from", queue::state_name(done.from)}, {"state", queue::state_name(done.to)}};
    return json_response(200, answer);
  }

  HttpResponse remove(const PathParams& params, const Caller& caller) const {
    const std::string& id = params.at("id");
    if (!visible(id, caller)) return not_found("message");
    QueueAction done = queue::delete_message(spool_, id);
    if (done.result != ActionResult::done)
      return error_response(status_of(done.result), code_of(done.result), safe(done.message));
    return no_content();
  }

  HttpResponse flush(const Caller& caller) const {
    // Every deferred message, whoever's: only for tokens of every tenant.
    if (!caller.tenant.empty())
      return error_response(403, "forbidden", "flush needs a token of every tenant");
    json::object answer{{"scheduled", queue::flush_deferred(spool_)}};
    return json_response(200, answer);
  }

 private:
  const queue::Spool& spool_;
};

}  // namespace

void add_queue_routes(Router& router, const AdminPlane& plane) {
  auto api = std::make_shared<const QueueApi>(*plane.spool);
  using R = const HttpRequest&;
  using P = const PathParams&;
  using C = const Caller&;
  router.add("GET", "/v1/queue", Scope::read, [api](R r, P, C c) { return api->list(r, c); });
  router.add("POST", "/v1/queue/flush", Scope::admin, [api](R, P, C c) { return api->flush(c); });
  router.add("GET", "/v1/queue/{id}", Scope::read, [api](R, P p, C c) { return api->show(p, c); });
  router.add("DELETE", "/v1/queue/{id}", Scope::admin,
             [api](R, P p, C c) { return api->remove(p, c); });
  router.add("POST", "/v1/queue/{id}/hold", Scope::admin,
             [api](R, P p, C c) { return api->act(p, c, queue::hold_message); });
  router.add("POST", "/v1/queue/{id}/release", Scope::admin,
             [api](R, P p, C c) { return api->act(p, c, queue::release_message); });
  router.add("POST", "/v1/queue/{id}/retry", Scope::admin,
             [api](R, P p, C c) { return api->act(p, c, queue::retry_message); });
}

}  // namespace bh::admin
