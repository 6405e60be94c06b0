#include "connectors/fax/hylafax_client.hpp"

#include <cerrno>
#include <fstream>

#include <fmt/format.h>

#include "connectors/fax/hylafax_limits.hpp"
#include "util/secret_file.hpp"

namespace bh::connectors::fax::hylafax {

namespace {

class ReplyCategory : public std::error_category {
 public:
  const char* name() const noexcept override { return "hylafax-reply"; }
  std::string message(int code) const override { return fmt::format("HylaFAX reply {}", code); }
};

Error refused(std::string_view what, const Reply& reply) {
  return Error{fmt::format("HylaFAX {}: {}", what, reply.summary()),
               std::error_code(reply.code, reply_category())};
}

Error malformed(std::string what) {
  return Error{"HylaFAX: " + std::move(what), std::make_error_code(std::errc::protocol_error)};
}

Error unsendable(std::string_view what) {
  return Error{fmt::format("HylaFAX {}: the value cannot be sent in a command line", what),
               std::make_error_code(std::errc::invalid_argument)};
}

}  // namespace

const std::error_category& reply_category() {
  static const ReplyCategory category;
  return category;
}

int reply_code(const Error& error) {
  return error.code.category() == reply_category() ? error.code.value() : 0;
}

Result<std::string> read_password(const std::string& path, std::string_view what) {
  auto password = read_secret_file(path, what, kMaxPasswordBytes);
  if (!password) return password.error();
  while (!password->empty() && (password->back() == '\n' || password->back() == '\r'))
    password->pop_back();
  return password;
}

Result<std::unique_ptr<Client>> Client::connect(const ClientOptions& options) {
  auto socket = Socket::connect(options.host, options.port, options.timeout);
  if (!socket) {
    Error error = socket.error();
    error.message = "HylaFAX connect " + error.message;
    return error;
  }
  std::unique_ptr<Client> client(new Client(options, std::move(*socket)));
  auto greeting = client->read_reply();
  if (!greeting) return greeting.error();
  if (greeting->code != 220) return refused("greeting", *greeting);

  auto user = client->exchange(command_line("USER", options.user).value_or(""));
  if (!user) return user.error();
  if (user->code == 331) {
    if (options.password.empty())
      return refused("USER (asks for a password, none is configured)", *user);
    auto password = command_line("PASS", options.password);
    if (!password) return unsendable("PASS");
    auto pass = client->exchange(*password);
    if (!pass) return pass.error();
    if (pass->code != 230) return refused("PASS", *pass);
  } else if (user->code != 230) {
    return refused("USER " + options.user, *user);
  }
  for (const char* setup : {"TZONE GMT", "TYPE I", "MODE S"})
    if (auto reply = client->expect(command_line(setup), 200, setup); !reply) return reply.error();
  return client;
}

Result<Reply> Client::exchange(const std::string& line) {
  if (line.empty()) return unsendable("command");
  if (auto sent = control_.send_all(line, options_.timeout); !sent) return sent.error();
  return read_reply();
}

Result<Reply> Client::read_reply() {
  ReplyParser parser;
  std::string line;
  for (;;) {
    switch (lines_.next(line)) {
      case LineSplitter::Status::malformed:
        return malformed("a reply line that is too long or holds control bytes");
      case LineSplitter::Status::line:
        switch (parser.add_line(line)) {
          case ReplyParser::Status::complete:
            return parser.take();
          case ReplyParser::Status::incomplete:
            continue;
          case ReplyParser::Status::malformed:
            return malformed(fmt::format("malformed reply line \"{}\"", line));
        }
        continue;
      case LineSplitter::Status::need_more:
        break;
    }
    std::string bytes;
    auto got = control_.receive(bytes, options_.timeout);
    if (!got) return got.error();
    if (*got == 0)
      return Error{"HylaFAX closed the connection",
                   std::make_error_code(std::errc::connection_reset)};
    lines_.feed(bytes);
  }
}

Result<Reply> Client::expect(const std::optional<std::string>& line, int expected,
                             std::string_view what) {
  if (!line) return unsendable(what);
  auto reply = exchange(*line);
  if (!reply) return reply.error();
  if (reply->code != expected) return refused(what, *reply);
  return reply;
}

Result<Socket> Client::open_data_connection() {
  // PASV names an IPv4 address (checked against the peer's); EPSV only a port.
  bool ipv4 = control_.peer_is_ipv4();
  auto reply = exchange(ipv4 ? "PASV\r\n" : "EPSV\r\n");
  if (!reply) return reply.error();
  if (!reply->completion()) return refused(ipv4 ? "PASV" : "EPSV", *reply);
  auto port = ipv4 ? parse_pasv(*reply, control_.peer_address()) : parse_epsv(*reply);
  if (!port) return malformed(port.error().message);
  data_port_ = *port;
  std::optional<Socket> unused = std::move(unused_data_);
  unused_data_.reset();
  if (unused && unused_data_port_ == *port) return std::move(*unused);
  return control_.connect_to_peer_port(*port, options_.timeout);
}

void Client::keep_unused(Socket data) {
  unused_data_ = std::move(data);
  unused_data_port_ = data_port_;
}

Result<std::string> Client::upload_tiff(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return system_error("open " + file.string(), errno);
  if (auto form = expect(command_line("FORM", "TIFF"), 200, "FORM TIFF"); !form)
    return form.error();
  auto data = open_data_connection();
  if (!data) return data.error();
  auto opened = exchange("STOT\r\n");
  if (!opened) return opened.error();
  if (!opened->preliminary()) {
    keep_unused(std::move(*data));
    return refused("STOT", *opened);
  }

  char buffer[65536];
  while (in) {
    in.read(buffer, sizeof buffer);
    if (in.gcount() > 0) {
      auto sent = data->send_all(std::string_view(buffer, static_cast<std::size_t>(in.gcount())),
                                 options_.timeout);
      if (!sent) return sent.error();
    }
  }
  if (!in.eof()) return system_error("read " + file.string(), errno);
  data->finish_sending();

  auto done = read_reply();
  if (!done) return done.error();
  if (!done->completion()) return refused("STOT", *done);
  auto name = parse_file_name(*done);
  if (!name) name = parse_file_name(*opened);
  if (!name) return malformed("no FILE: in the STOT replies: " + done->summary());
  return *name;
}

Result<std::string> Client::create_job() {
  auto reply = expect(std::string("JNEW\r\n"), 200, "JNEW");
  if (!reply) return reply.error();
  auto id = parse_job_id(*reply);
  if (!id) return malformed("no job id in " + reply->summary());
  return *id;
}

Status Client::set_parameter(std::string_view name, std::string_view value) {
  auto reply = expect(jparm_string(name, value), 213, fmt::format("JPARM {}", name));
  if (!reply) return reply.error();
  return ok_status();
}

Status Client::set_number(std::string_view name, long long value) {
  auto reply = expect(std::optional(jparm_number(name, value)), 213, fmt::format("JPARM {}", name));
  if (!reply) return reply.error();
  return ok_status();
}

Status Client::add_document(std::string_view server_file) {
  auto line = command_line("JPARM DOCUMENT", server_file);
  auto reply = expect(line, 200, "JPARM DOCUMENT");
  if (!reply) return reply.error();
  return ok_status();
}

Status Client::submit_job() {
  auto reply = expect(std::string("JSUBM\r\n"), 200, "JSUBM");
  if (!reply) return reply.error();
  return ok_status();
}

Status Client::select_job(std::string_view id) {
  if (!valid_job_id(id)) return unsendable("JOB");
  auto reply = expect(command_line("JOB", id), 200, fmt::format("JOB {}", id));
  if (!reply) return reply.error();
  return ok_status();
}

Result<std::string> Client::query_parameter(std::string_view name) {
  auto reply = expect(command_line("JPARM", name), 213, fmt::format("JPARM {}", name));
  if (!reply) return reply.error();
  auto value = parse_parameter_value(*reply);
  if (!value) return malformed("JPARM " + std::string(name) + ": " + reply->summary());
  return *value;
}

Status Client::kill_job() {
  auto reply = expect(std::string("JKILL\r\n"), 200, "JKILL");
  if (!reply) return reply.error();
  return ok_status();
}

Status Client::delete_job() {
  auto reply = expect(std::string("JDELE\r\n"), 200, "JDELE");
  if (!reply) return reply.error();
  return ok_status();
}

Result<std::string> Client::receive_all(Socket& data, std::size_t max_bytes) {
  std::string bytes;
  for (;;) {
    auto got = data.receive(bytes, options_.timeout);
    if (!got) return got.error();
    if (*got == 0) return bytes;
    if (bytes.size() > max_bytes)
      return Error{fmt::format("HylaFAX: more than {} bytes of data", max_bytes),
                   std::make_error_code(std::errc::file_too_large)};
  }
}

Result<std::string> Client::transfer_in(const std::string& command, std::size_t max_bytes) {
  auto line = command_line(command);
  if (!line) return unsendable(command);
  auto data = open_data_connection();
  if (!data) return data.error();
  auto opened = exchange(*line);
  if (!opened) return opened.error();
  if (!opened->preliminary()) {
    keep_unused(std::move(*data));
    return refused(command, *opened);
  }
  auto bytes = receive_all(*data, max_bytes);
  data->close();
  if (!bytes) {
    if (bytes.error().code != std::errc::file_too_large) return bytes.error();
    // The server answers the transfer we cut short (426, or 226 when it
    // had written everything): read that reply so the next command's is
    // not mistaken for it.
    if (auto aborted = read_reply(); !aborted) return aborted.error();
    return bytes.error();
  }
  auto done = read_reply();
  if (!done) return done.error();
  if (!done->completion()) return refused(command, *done);
  return bytes;
}

Result<JobList> Client::list_jobs(std::string_view queue) {
  auto format = quote_string(kJobFormat);
  if (auto set = expect(command_line("JOBFMT", format.value_or("")), 200, "JOBFMT"); !set)
    return set.error();
  auto bytes = transfer_in(fmt::format("LIST {}", queue), options_.max_listing_bytes);
  if (!bytes) return bytes.error();
  return parse_job_list(*bytes);
}

Result<std::string> Client::retrieve(std::string_view path, std::size_t max_bytes) {
  return transfer_in(fmt::format("RETR {}", path), max_bytes);
}

Status Client::become_admin(std::string_view password) {
  auto quoted = quote_string(password);
  if (!quoted) return unsendable("ADMIN");
  auto reply = expect(command_line("ADMIN", *quoted), 230, "ADMIN");
  if (!reply) return reply.error();
  return ok_status();
}

void Client::quit() {
  (void)exchange("QUIT\r\n");
  control_.close();
}

}  // namespace bh::connectors::fax::hylafax
