#include "connectors/fax/hylafax_call.hpp"

#include <system_error>

#include "connectors/fax/hylafax_limits.hpp"
#include "connectors/fax/hylafax_log.hpp"
#include "connectors/fax/hylafax_protocol.hpp"
#include "util/log.hpp"

namespace bh::connectors::fax::hylafax {

namespace {

// A failed RETR after which the connection still works: the server said
// no (550: no such file, not permitted) or the file was too big (the
// client read the aborted transfer's reply).
bool connection_usable(const Error& error) {
  return reply_code(error) != 0 || error.code == std::errc::file_too_large;
}

// The file, or nullopt (logged as event, with the reason).
std::optional<std::string> fetch(Client& client, const std::string& path, std::size_t max_bytes,
                                 const char* event, std::string_view connector,
                                 const std::string& job_id, CallFacts& facts) {
  auto bytes = client.retrieve(path, max_bytes);
  if (bytes) {
    facts.bytes_read += bytes->size();
    return std::move(*bytes);
  }
  if (bytes.error().code == std::errc::file_too_large) facts.bytes_read += max_bytes;
  facts.connection_lost = !connection_usable(bytes.error());
  log::Line(event)
      .kv("connector", connector)
      .kv("job", job_id)
      .kv("file", path)
      .kv("reason", bytes.error().message)
      .write(log::Level::debug);
  return std::nullopt;
}

}  // namespace

CallFacts read_call_facts(Client& client, const std::string& job_id, bool with_session_log,
                          std::string_view connector) {
  CallFacts facts;
  auto qfile = fetch(client, "doneq/q" + job_id, kMaxQueueFileBytes, "fax_hylafax_no_queue_file",
                     connector, job_id, facts);
  if (!qfile) return facts;
  facts.remote_csid = clean_csid(queue_file_value(*qfile, "csi").value_or(""));
  if (!with_session_log) return facts;
  // The call that sent the job (FaxRequest's commid: the last attempt's).
  std::string commid = queue_file_value(*qfile, "commid").value_or("");
  if (!valid_commid(commid)) return facts;
  auto log = fetch(client, "log/c" + commid, kMaxSessionLogBytes, "fax_hylafax_no_session_log",
                   connector, job_id, facts);
  if (!log) return facts;
  SessionFacts session = parse_session_log(*log);
  if (facts.remote_csid.empty()) facts.remote_csid = session.remote_csid;
  if (session.duration) facts.duration = *session.duration;
  return facts;
}

}  // namespace bh::connectors::fax::hylafax
