// A blocking client of hfaxd (HylaFAX's client protocol on port 4559):
// one control connection, logged in, times in GMT, binary stream
// transfers; passive data connections for uploads and listings. Every
// reply is checked: a reply the command does not expect is an Error whose
// code is the reply's (reply_category()) and whose message carries the
// server's text; network trouble is an Error with errno's code or
// std::errc::timed_out; a malformed reply is std::errc::protocol_error.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "connectors/fax/hylafax_protocol.hpp"
#include "connectors/fax/hylafax_socket.hpp"
#include "util/result.hpp"

namespace bh::connectors::fax::hylafax {

struct ClientOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 4559;
  std::chrono::milliseconds timeout{30'000};  // connect, each reply, each wait of a transfer
  std::string user = "bridgehead";
  std::string password;  // empty: none sent (hosts.hfaxd admits the user without one)
  std::size_t max_listing_bytes = 16u << 20;
};

// Errors whose value is the HylaFAX reply code (460, 504, ...).
const std::error_category& reply_category();
// The reply code carried by an error from this client, 0 when the error
// is not a server's reply (network, timeout, malformed).
int reply_code(const Error& error);

// A password file's one line (hylafax_password_file,
// hylafax_admin_password_file), without its line end; the file must be
// protected as read_secret_file (util/secret_file.hpp) requires.
Result<std::string> read_password(const std::string& path, std::string_view what);

class Client {
 public:
  // Connects, reads the greeting, logs in (USER, PASS when asked), then
  // TZONE GMT, TYPE I, MODE S.
  static Result<std::unique_ptr<Client>> connect(const ClientOptions& options);

  // FORM TIFF, then STOT over a passive data connection: the server's
  // temporary file name ("/tmp/doc7.tif") for JPARM DOCUMENT.
  Result<std::string> upload_tiff(const std::filesystem::path& file);
  // JNEW: the new job's id; the job becomes the current one.
  Result<std::string> create_job();
  // JPARM NAME "value" / JPARM NAME 196 on the current job.
  Status set_parameter(std::string_view name, std::string_view value);
  Status set_number(std::string_view name, long long value);
  Status add_document(std::string_view server_file);
  Status submit_job();  // JSUBM
  // JOB id. A job that does not exist (any more) is an Error with reply code 500.
  Status select_job(std::string_view id);
  // JPARM NAME on the current job: its value.
  Result<std::string> query_parameter(std::string_view name);
  Status kill_job();    // JKILL the current job
  Status delete_job();  // JDELE the current (done) job
  // JOBFMT kJobFormat, then LIST queue ("sendq", "doneq").
  Result<JobList> list_jobs(std::string_view queue);
  // RETR path (spool-relative, "doneq/q7") over a passive data
  // connection: the file's bytes, at most max_bytes. A bigger file is an
  // Error with std::errc::file_too_large; the transfer is then aborted and
  // its final reply read, so the connection stays usable.
  Result<std::string> retrieve(std::string_view path, std::size_t max_bytes);
  // ADMIN "password": administrative privileges for the rest of the
  // connection (hosts.hfaxd's fourth field). A refusal is an Error with
  // reply code 530; hfaxd closes the connection after five of them.
  Status become_admin(std::string_view password);
  // QUIT, best effort; the destructor closes in any case.
  void quit();

  // One command line (with CRLF) and its reply, unchecked: for tests and the above.
  Result<Reply> exchange(const std::string& line);

 private:
  explicit Client(ClientOptions options, Socket control)
      : options_(std::move(options)), control_(std::move(control)) {}

  Result<Reply> read_reply();
  // The command's reply when its code is expected, else an Error naming what.
  Result<Reply> expect(const std::optional<std::string>& line, int expected, std::string_view what);
  // PASV/EPSV and a connection to the port it names (or the kept one).
  Result<Socket> open_data_connection();
  // A data connection the server did not use: it refused the command
  // (RETR of a file it does not let us read, 550). hfaxd 6.0.7 then keeps
  // its passive listener, with this connection waiting in its backlog, and
  // the next PASV names the same port: the server's next accept() returns
  // this connection, so it is the one to use. Kept until the next PASV,
  // which uses it when the port is the same and closes it otherwise.
  void keep_unused(Socket data);
  Result<std::string> receive_all(Socket& data, std::size_t max_bytes);
  // Passive data connection, the command, its data, the final reply.
  Result<std::string> transfer_in(const std::string& command, std::size_t max_bytes);

  ClientOptions options_;
  Socket control_;
  LineSplitter lines_;
  std::optional<Socket> unused_data_;
  std::uint16_t unused_data_port_ = 0;
  std::uint16_t data_port_ = 0;  // of the last open_data_connection()
};

}  // namespace bh::connectors::fax::hylafax
