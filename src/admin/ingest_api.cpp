// POST /v1/ingest/fax: a received fax (the body, a TIFF) into the intake,
// for fax servers that call an HTTP hook instead of `bridgehead ingest
// fax`. Needs Scope::write; a token limited to a tenant may ingest only for
// numbers its tenant owns (checked against the directory before the fax is
// read). Blocking: the render helper makes the PDF and the enqueue waits
// for the group commit (the admin thread, never an SMTP I/O thread).
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "admin/admin_plane.hpp"
#include "admin/api_support.hpp"

namespace bh::admin {
namespace json = boost::json;
namespace {

// The body in a file of its own (mode 0600: a fax is personal data),
// removed when it goes out of scope.
class BodyFile {
 public:
  explicit BodyFile(std::string_view body) {
    std::string pattern = (std::filesystem::temp_directory_path() / "bh-fax-XXXXXX").string();
    int fd = ::mkstemp(pattern.data());
    if (fd < 0) return;
    path_ = pattern;
    std::size_t written = 0;
    while (written < body.size()) {
      ssize_t n = ::write(fd, body.data() + written, body.size() - written);
      if (n <= 0) break;
      written += static_cast<std::size_t>(n);
    }
    ok_ = written == body.size();
    ::close(fd);
  }
  ~BodyFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  BodyFile(const BodyFile&) = delete;
  BodyFile& operator=(const BodyFile&) = delete;
  bool ok() const { return ok_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool ok_ = false;
};

bool is_tiff_type(std::string_view type) {
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  std::string lower;
  for (char c : type) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return lower == "image/tiff";
}

HttpResponse reply_to(const FaxIngestReply& reply, const std::string& called) {
  switch (reply.outcome) {
    case FaxIngestOutcome::queued:
      return json_response(201,
                           json::object{{"queue_id", reply.queue_id}, {"mailbox", reply.mailbox}});
    case FaxIngestOutcome::bad_request:
      return error_response(400, "bad_request", reply.message);
    case FaxIngestOutcome::forbidden:
      return error_response(403, "forbidden",
                            fmt::format("the number {} is not your tenant's", called));
    case FaxIngestOutcome::unknown_number:
      return error_response(404, "unknown_number",
                            fmt::format("no mailbox owns the number {}", called));
    case FaxIngestOutcome::not_readable:
      return error_response(422, "not_a_fax", reply.message);
    case FaxIngestOutcome::refused:
      return error_response(422, "refused", reply.message);
    case FaxIngestOutcome::unavailable:
      break;
  }
  HttpResponse busy = error_response(503, "unavailable", reply.message);
  busy.headers.emplace_back("Retry-After", "60");
  return busy;
}

}  // namespace

void add_ingest_routes(Router& router, const AdminPlane& plane) {
  FaxIngestFunction ingest = plane.ingest_fax;
  router.add("POST", "/v1/ingest/fax", Scope::write,
             [ingest](const HttpRequest& request, const PathParams&, const Caller& caller) {
               if (auto bad = check_query(request,
                                          {"called", "caller", "caller_name", "tsi", "connector"}))
                 return *bad;
               FaxIngestCall call;
               call.called = query_value(request, "called");
               if (call.called.empty())
                 return invalid({{"called", "the called number (the DID) is required"}});
               if (!is_tiff_type(request.content_type))
                 return error_response(415, "unsupported_media_type",
                                       "the body must be the fax, sent with Content-Type: "
                                       "image/tiff");
               call.caller = query_value(request, "caller");
               call.caller_name = query_value(request, "caller_name");
               call.tsi = query_value(request, "tsi");
               call.connector = query_value(request, "connector");
               call.tenant = caller.tenant;
               BodyFile body(request.body);
               if (!body.ok()) {
                 FaxIngestReply failed;
                 failed.message = "cannot store the request's body";
                 return reply_to(failed, call.called);
               }
               call.tiff = body.path();
               return reply_to(ingest(call), call.called);
             });
}

}  // namespace bh::admin
