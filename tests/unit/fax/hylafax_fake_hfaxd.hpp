// The HylaFAX backend's tests (hylafax_submit_test.cpp, hylafax_poll_test.cpp,
// hylafax_call_facts_test.cpp) against a scripted fake hfaxd on loopback:
// one thread answers a transcript per connection (command prefix -> reply),
// opens passive data connections, and records what the client sent.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <variant>

#include "connectors/fax/hylafax_backend.hpp"

namespace hylafax_test {

using namespace bh::connectors::fax;

struct Step {
  std::string expect;  // prefix of the command line
  std::string reply;   // lines without CRLF, joined by "\n"; "{pasv}" is the data address
  // drop: the data connection and the control connection close; hang_up:
  // the control connection closes instead of the reply (a reply lost).
  enum class Data { none, upload, listing, drop, hang_up } data = Data::none;
  std::string final_reply;  // after the data connection (upload, listing)
  std::string listing;      // bytes sent on the data connection
  std::string pasv_address = "127,0,0,1";
  // For a PASV: answer with the listener that is still open (as hfaxd does
  // after refusing a RETR) instead of a new one.
  bool same_listener = false;
  // For a PASV naming a new listener: the connection the client kept for
  // the previous one (after a refused RETR) must be closed by the client.
  bool expect_kept_closed = false;
};

inline int listen_loopback(std::uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::listen(fd, 1);
  socklen_t size = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  port = ntohs(address.sin_port);
  return fd;
}

class FakeHfaxd {
 public:
  explicit FakeHfaxd(std::vector<Step> script)
      : FakeHfaxd(std::vector<std::vector<Step>>{std::move(script)}) {}
  // One script per connection, in turn (a backend connects once per call).
  explicit FakeHfaxd(std::vector<std::vector<Step>> sessions) : sessions_(std::move(sessions)) {
    listener_ = listen_loopback(port_);
    thread_ = std::thread([this] {
      for (const auto& script : sessions_)
        if (!serve(script)) break;
    });
  }
  ~FakeHfaxd() {
    finish();
    ::close(listener_);
  }
  void finish() {
    if (thread_.joinable()) thread_.join();
  }
  std::uint16_t port() const { return port_; }
  const std::vector<std::string>& commands() const { return commands_; }
  const std::string& uploaded() const { return uploaded_; }
  std::string failure;  // what went wrong on the server's side

 private:
  void send_lines(int fd, const std::string& text) {
    std::string wire;
    std::size_t start = 0;
    while (start <= text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      wire += text.substr(start, end - start) + "\r\n";
      start = end + 1;
    }
    ::send(fd, wire.data(), wire.size(), MSG_NOSIGNAL);
  }
  bool read_line(int fd, std::string& line) {
    line.clear();
    char c;
    while (::recv(fd, &c, 1, 0) == 1) {
      if (c == '\n') {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return true;
      }
      line += c;
    }
    return false;
  }
  // The connection waiting in the old listener's backlog: the client
  // must close it once the PASV reply names another port (EOF within 5 s).
  void check_kept_closed(int old_listener) {
    int kept = ::accept(old_listener, nullptr, nullptr);
    timeval wait{5, 0};
    ::setsockopt(kept, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    char c;
    if (kept < 0 || ::recv(kept, &c, 1, 0) != 0) failure = "the kept data connection stayed open";
    if (kept >= 0) ::close(kept);
    ::close(old_listener);
  }
  // False when the session ended early (the next one is not served).
  bool serve(const std::vector<Step>& script) {
    int control = ::accept(listener_, nullptr, nullptr);
    send_lines(control, "220 fake server (HylaFAX (tm) Version 6.0.7) ready.");
    int data_listener = -1;
    int kept_listener = -1;
    std::uint16_t data_port = 0;
    std::string line;
    for (const Step& step : script) {
      if (!read_line(control, line)) {
        failure = "connection closed before " + step.expect;
        break;
      }
      commands_.push_back(line);
      if (line.rfind(step.expect, 0) != 0) {
        failure = "expected " + step.expect + ", got " + line;
        send_lines(control, "500 unexpected");
        break;
      }
      if (step.data == Step::Data::hang_up) {
        ::close(control);
        if (data_listener >= 0) ::close(data_listener);
        return true;
      }
      std::string reply = step.reply;
      if (auto at = reply.find("{pasv}"); at != std::string::npos) {
        std::uint16_t port = data_port;
        if (!step.same_listener || data_listener < 0) {
          if (step.expect_kept_closed) {
            kept_listener = data_listener;
          } else if (data_listener >= 0) {
            ::close(data_listener);
          }
          data_listener = listen_loopback(port);
          data_port = port;
        }
        reply.replace(at, 6,
                      step.pasv_address + "," + std::to_string(port / 256) + "," +
                          std::to_string(port % 256));
      }
      send_lines(control, reply);
      if (kept_listener >= 0) {
        check_kept_closed(kept_listener);
        kept_listener = -1;
      }
      if (step.data == Step::Data::none) continue;
      int data = ::accept(data_listener, nullptr, nullptr);
      if (step.data == Step::Data::drop) {
        ::close(data);
        ::close(data_listener);
        ::close(control);  // and the control connection with it
        return true;       // the client may connect again
      }
      if (step.data == Step::Data::upload) {
        char buffer[4096];
        ssize_t got;
        while ((got = ::recv(data, buffer, sizeof buffer, 0)) > 0) uploaded_.append(buffer, got);
      } else {
        ::send(data, step.listing.data(), step.listing.size(), MSG_NOSIGNAL);
      }
      ::close(data);
      ::close(data_listener);
      data_listener = -1;
      send_lines(control, step.final_reply);
    }
    if (data_listener >= 0) ::close(data_listener);
    // The client's QUIT (or its hang-up).
    if (read_line(control, line)) {
      commands_.push_back(line);
      send_lines(control, "221 Goodbye.");
    }
    ::close(control);
    return failure.empty();
  }

  std::vector<std::vector<Step>> sessions_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::vector<std::string> commands_;
  std::string uploaded_;
};

inline std::vector<Step> login() {
  return {{"USER bridgehead", "230 User bridgehead logged in."},
          {"TZONE GMT", "200 Using time values in GMT."},
          {"TYPE I", "200 Type set to Image."},
          {"MODE S", "200 Mode set to Stream."}};
}

inline std::vector<Step> upload() {
  Step stot{"STOT", "150 FILE: /tmp/doc7.tif (Opening new data connection).", Step::Data::upload,
            "226 Transfer complete (FILE: /tmp/doc7.tif)."};
  return {{"FORM TIFF", "200 Format set to TIFF."},
          {"PASV", "227 Entering passive mode ({pasv})"},
          stot};
}

inline std::vector<Step> jparms(bool subaddress = false) {
  std::vector<Step> steps;
  std::vector<const char*> names = {"FROMUSER", "NOTIFYADDR", "DIALSTRING", "EXTERNAL",
                                    "JOBINFO",  "NOTIFY",     "MODEM"};
  if (subaddress) names.push_back("SUBADDR");
  names.insert(names.end(),
               {"VRES", "PAGEWIDTH", "PAGELENGTH", "MAXTRIES", "MAXDIALS", "LASTTIME"});
  for (const char* name : names)
    steps.push_back({std::string("JPARM ") + name, std::string("213 ") + name + " set."});
  return steps;
}

// JOBFMT, then LIST of queue answering listing.
inline std::vector<Step> list(const std::string& queue, const std::string& listing) {
  Step step{"LIST " + queue, "150 Opening new data connection for \"" + queue + "\".",
            Step::Data::listing, "226 Transfer complete."};
  step.listing = listing;
  return {{"JOBFMT \"%j %a %o %p %y %J\"", "200 JOBFMT command successful."},
          {"PASV", "227 Entering passive mode ({pasv})"},
          step};
}

// submit()'s look for an earlier attempt's job: sendq, then doneq.
inline std::vector<Step> lookup(const std::string& sendq = "", const std::string& doneq = "") {
  auto steps = list("sendq", sendq);
  auto done = list("doneq", doneq);
  steps.insert(steps.end(), done.begin(), done.end());
  return steps;
}

inline std::vector<Step> concat(std::initializer_list<std::vector<Step>> parts) {
  std::vector<Step> all;
  for (const auto& part : parts) all.insert(all.end(), part.begin(), part.end());
  return all;
}

class FaxHylafaxBackend : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("bh-hylafax-test-" + std::to_string(::getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(directory_);
    tiff_ = directory_ / "fax.tif";
    std::ofstream(tiff_, std::ios::binary) << std::string("II*\0", 4) << std::string(5000, 'x');
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::unique_ptr<FaxBackend> backend(std::uint16_t port) {
    FaxSettings settings;
    settings.name = "fax";
    settings.hostname = "gw.example.com";
    settings.hylafax.port = port;
    settings.hylafax.timeout = std::chrono::seconds(5);
    return make_hylafax_backend(settings);
  }
  // With limits, and an admin password file when admin_password is given.
  std::unique_ptr<FaxBackend> backend(std::uint16_t port, const hylafax::PollLimits& limits,
                                      const std::string& admin_password = "") {
    FaxSettings settings;
    settings.name = "fax";
    settings.hylafax.port = port;
    settings.hylafax.timeout = std::chrono::seconds(5);
    if (!admin_password.empty()) {
      write_admin_password(admin_password);
      settings.hylafax.admin_password_file = admin_file().string();
    }
    return make_hylafax_backend(settings, limits);
  }
  std::filesystem::path admin_file() const { return directory_ / "hylafax.admin"; }
  void write_admin_password(const std::string& password) const {
    std::ofstream(admin_file()) << password << "\n";
    std::filesystem::permissions(
        admin_file(), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }
  FaxSubmission submission() const {
    FaxSubmission job;
    job.number = "+4930123456";
    job.tiff = tiff_;
    job.pages = 1;
    job.tag = "Q1.0";
    job.sender = "alice@example.com";
    return job;
  }
  std::filesystem::path directory_;
  std::filesystem::path tiff_;
};

inline std::string find_command(const std::vector<std::string>& commands,
                                const std::string& prefix) {
  for (const auto& command : commands)
    if (command.rfind(prefix, 0) == 0) return command;
  return "";
}

// LIST doneq with one finished job 4 of this connector, then its JOB and JPARMs.
inline std::vector<Step> one_done_job(const std::string& state = "D") {
  Step done_list{"LIST doneq", "150 Opening new data connection for \"doneq\".",
                 Step::Data::listing, "226 Transfer complete."};
  done_list.listing = "4 " + state + " bridgehead 2 2 bridgehead/fax/Q2.0\r\n";
  return {{"JOBFMT \"%j %a %o %p %y %J\"", "200 JOBFMT command successful."},
          {"PASV", "227 Entering passive mode ({pasv})"},
          done_list};
}

inline std::vector<Step> job_status() {
  return {{"JOB 4", "200 Current job: jobid: 4 groupid: 4."},
          {"JPARM STATUS", "213 "},
          {"JPARM STATUSCODE", "213 000"}};
}

// RETR path answering content (or reply instead, when it is not a 150).
inline std::vector<Step> retr(const std::string& path, const std::string& content,
                              const std::string& reply = "150 Opening new data connection.",
                              const std::string& final_reply = "226 Transfer complete.") {
  Step step{"RETR " + path, reply,
            reply.rfind("150", 0) == 0 ? Step::Data::listing : Step::Data::none, final_reply};
  step.listing = content;
  return {{"PASV", "227 Entering passive mode ({pasv})"}, step};
}

// A sent job's queue file (faxd/FaxRequest.c++ writeQFile's tags).
inline const std::string kSentQfile =
    "tts:1764693600\nkilltime:1764704400\nretrytime:0\nstate:7\nnpages:2\ntotpages:2\n"
    "number:+4930123456\nowner:bridgehead\njobtag:bridgehead/fax/Q2.0\ncommid:000000042\n"
    "csi:+49 30 999\nstatus:\nstatuscode:0\n";

// Its session log: dialled at 16:40:12.50, ended 16:40:53.20.
inline const std::string kSessionLog =
    "Dec 02 16:40:12.05: [ 4242]: SESSION BEGIN 000000042 4930123456\n"
    "Dec 02 16:40:12.50: [ 4242]: DIAL +4930123456\n"
    "Dec 02 16:40:33.70: [ 4242]: REMOTE CSI \"+49 30 999 log\"\n"
    "Dec 02 16:40:53.20: [ 4242]: SESSION END\n";

}  // namespace hylafax_test
