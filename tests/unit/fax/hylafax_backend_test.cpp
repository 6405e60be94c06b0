// The HylaFAX backend against a scripted fake hfaxd on loopback: one
// thread answers a transcript (command prefix -> reply), opens passive
// data connections, and records what the client sent.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <variant>

#include "connectors/fax/hylafax_backend.hpp"

using namespace bh::connectors::fax;

namespace {

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
};

int listen_loopback(std::uint16_t& port) {
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
  // False when the session ended early (the next one is not served).
  bool serve(const std::vector<Step>& script) {
    int control = ::accept(listener_, nullptr, nullptr);
    send_lines(control, "220 fake server (HylaFAX (tm) Version 6.0.7) ready.");
    int data_listener = -1;
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
          if (data_listener >= 0) ::close(data_listener);
          data_listener = listen_loopback(port);
          data_port = port;
        }
        reply.replace(at, 6,
                      step.pasv_address + "," + std::to_string(port / 256) + "," +
                          std::to_string(port % 256));
      }
      send_lines(control, reply);
      if (step.data == Step::Data::none) continue;
      int data = ::accept(data_listener, nullptr, nullptr);
      if (step.data == Step::Data::drop) {
        ::close(data);
        ::close(data_listener);
        ::close(control);  // and the control connection with it
        return false;
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

std::vector<Step> login() {
  return {{"USER bridgehead", "230 User bridgehead logged in."},
          {"TZONE GMT", "200 Using time values in GMT."},
          {"TYPE I", "200 Type set to Image."},
          {"MODE S", "200 Mode set to Stream."}};
}

std::vector<Step> upload() {
  Step stot{"STOT", "150 FILE: /tmp/doc7.tif (Opening new data connection).", Step::Data::upload,
            "226 Transfer complete (FILE: /tmp/doc7.tif)."};
  return {{"FORM TIFF", "200 Format set to TIFF."},
          {"PASV", "227 Entering passive mode ({pasv})"},
          stot};
}

std::vector<Step> jparms(bool subaddress = false) {
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
std::vector<Step> list(const std::string& queue, const std::string& listing) {
  Step step{"LIST " + queue, "150 Opening new data connection for \"" + queue + "\".",
            Step::Data::listing, "226 Transfer complete."};
  step.listing = listing;
  return {{"JOBFMT \"%j %a %o %p %y %J\"", "200 JOBFMT command successful."},
          {"PASV", "227 Entering passive mode ({pasv})"},
          step};
}

// submit()'s look for an earlier attempt's job: sendq, then doneq.
std::vector<Step> lookup(const std::string& sendq = "", const std::string& doneq = "") {
  auto steps = list("sendq", sendq);
  auto done = list("doneq", doneq);
  steps.insert(steps.end(), done.begin(), done.end());
  return steps;
}

std::vector<Step> concat(std::initializer_list<std::vector<Step>> parts) {
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

std::string find_command(const std::vector<std::string>& commands, const std::string& prefix) {
  for (const auto& command : commands)
    if (command.rfind(prefix, 0) == 0) return command;
  return "";
}

}  // namespace

TEST_F(FaxHylafaxBackend, SubmitsAJob) {
  FakeHfaxd server(concat({login(),
                           lookup(),
                           upload(),
                           {{"JNEW", "200 New job created: jobid: 7 groupid: 7."}},
                           jparms(true),
                           {{"JPARM DOCUMENT /tmp/doc7.tif", "200 Added document."},
                            {"JSUBM", "200 Job 7 submitted."}}}));
  FaxSubmission job = submission();
  job.subaddress = "1387";
  auto result = backend(server.port())->submit(job);
  server.finish();
  EXPECT_EQ(server.failure, "");
  ASSERT_TRUE(std::holds_alternative<Submitted>(result)) << std::get<SubmitFailure>(result).text;
  EXPECT_EQ(std::get<Submitted>(result).reference, "7");
  const auto& sent = server.commands();
  EXPECT_EQ(server.uploaded().size(), std::filesystem::file_size(tiff_));
  EXPECT_EQ(find_command(sent, "JPARM DIALSTRING"), "JPARM DIALSTRING \"+4930123456\"");
  EXPECT_EQ(find_command(sent, "JPARM JOBINFO"), "JPARM JOBINFO \"bridgehead/fax/Q1.0\"");
  EXPECT_EQ(find_command(sent, "JPARM NOTIFYADDR"),
            "JPARM NOTIFYADDR \"postmaster@gw.example.com\"");
  EXPECT_EQ(find_command(sent, "JPARM FROMUSER"), "JPARM FROMUSER \"alice@example.com\"");
  EXPECT_EQ(find_command(sent, "JPARM NOTIFY "), "JPARM NOTIFY \"NONE\"");
  EXPECT_EQ(find_command(sent, "JPARM VRES"), "JPARM VRES 196");
  EXPECT_EQ(find_command(sent, "JPARM LASTTIME"), "JPARM LASTTIME 000300");
  EXPECT_EQ(find_command(sent, "JPARM SUBADDR"), "JPARM SUBADDR \"1387\"");
  EXPECT_EQ(sent.back(), "QUIT");
}

TEST_F(FaxHylafaxBackend, ARetryAfterALostSubmitReplyFindsTheJobInsteadOfSendingAgain) {
  Step lost{"JSUBM", "", Step::Data::hang_up};  // submitted, but the reply never arrives
  auto first = concat({login(),
                       lookup(),
                       upload(),
                       {{"JNEW", "200 New job created: jobid: 7 groupid: 7."}},
                       jparms(),
                       {{"JPARM DOCUMENT /tmp/doc7.tif", "200 Added document."}, lost}});
  // The retry: job 7 is in sendq now, tagged with the same tag (job 6 has the
  // tag too but is another user's, job 8 is another recipient's).
  // Found in sendq, so doneq is not asked.
  auto second = concat({login(), list("sendq",
                                      "6 P other 0 1 bridgehead/fax/Q1.0\r\n"
                                      "8 P bridgehead 0 1 bridgehead/fax/Q1.1\r\n"
                                      "7 S bridgehead 0 1 bridgehead/fax/Q1.0\r\n")});
  FakeHfaxd server(std::vector<std::vector<Step>>{first, second});
  auto fax = backend(server.port());
  auto lost_reply = fax->submit(submission());
  ASSERT_TRUE(std::holds_alternative<SubmitFailure>(lost_reply));
  EXPECT_FALSE(std::get<SubmitFailure>(lost_reply).permanent);
  EXPECT_EQ(std::get<SubmitFailure>(lost_reply).status, "4.4.1");
  std::size_t first_commands = server.commands().size();

  auto retried = fax->submit(submission());
  server.finish();
  EXPECT_EQ(server.failure, "");
  ASSERT_TRUE(std::holds_alternative<Submitted>(retried)) << std::get<SubmitFailure>(retried).text;
  EXPECT_EQ(std::get<Submitted>(retried).reference, "7");
  std::vector<std::string> retry(server.commands().begin() + first_commands,
                                 server.commands().end());
  EXPECT_EQ(find_command(retry, "JNEW"), "") << "no second job";
  EXPECT_EQ(find_command(retry, "STOT"), "") << "no second upload";
  EXPECT_EQ(find_command(retry, "JSUBM"), "");
  EXPECT_EQ(retry.back(), "QUIT");
}

TEST_F(FaxHylafaxBackend, AFinishedJobOfAnEarlierAttemptIsFoundInDoneq) {
  FakeHfaxd server(concat({login(), lookup("", "7 D bridgehead 1 1 bridgehead/fax/Q1.0\r\n")}));
  auto result = backend(server.port())->submit(submission());
  server.finish();
  EXPECT_EQ(server.failure, "");
  ASSERT_TRUE(std::holds_alternative<Submitted>(result)) << std::get<SubmitFailure>(result).text;
  EXPECT_EQ(std::get<Submitted>(result).reference, "7");
  EXPECT_EQ(find_command(server.commands(), "JNEW"), "");
}

TEST_F(FaxHylafaxBackend, AJobInNeitherQueueIsLoggedAsVanished) {
  auto submit = concat({login(),
                        lookup(),
                        upload(),
                        {{"JNEW", "200 New job created: jobid: 7 groupid: 7."}},
                        jparms(),
                        {{"JPARM DOCUMENT /tmp/doc7.tif", "200 Added document."},
                         {"JSUBM", "200 Job 7 submitted."}}});
  // First poll: job 7 still waits in sendq. Second poll: gone from both
  // queues (faxqclean expired it before a poll saw it in doneq).
  auto waiting = lookup("7 S bridgehead 0 1 bridgehead/fax/Q1.0\r\n");
  auto gone = lookup();
  FakeHfaxd server(
      std::vector<std::vector<Step>>{submit, concat({login(), waiting}), concat({login(), gone})});
  auto fax = backend(server.port());
  ASSERT_TRUE(std::holds_alternative<Submitted>(fax->submit(submission())));
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  auto first = fax->finished();
  std::string first_log = testing::internal::GetCapturedStdout();
  first_log += testing::internal::GetCapturedStderr();
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  auto second = fax->finished();
  std::string second_log = testing::internal::GetCapturedStdout();
  second_log += testing::internal::GetCapturedStderr();
  server.finish();
  EXPECT_EQ(server.failure, "");
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_TRUE(first->empty());
  EXPECT_TRUE(second->empty());
  EXPECT_EQ(first_log.find("fax_hylafax_job_vanished"), std::string::npos) << first_log;
  EXPECT_NE(second_log.find("fax_hylafax_job_vanished"), std::string::npos) << second_log;
  EXPECT_NE(second_log.find("Q1.0"), std::string::npos) << second_log;
}

TEST_F(FaxHylafaxBackend, FaxqUnreachableIsTransient) {
  FakeHfaxd server(concat({login(),
                           lookup(),
                           upload(),
                           {{"JNEW", "200 New job created: jobid: 8 groupid: 8."}},
                           jparms(),
                           {{"JPARM DOCUMENT", "200 Added document."},
                            {"JSUBM", "460 Failed to submit job 8: Unable to talk to faxq."}}}));
  auto result = backend(server.port())->submit(submission());
  server.finish();
  ASSERT_TRUE(std::holds_alternative<SubmitFailure>(result));
  const auto& failure = std::get<SubmitFailure>(result);
  EXPECT_FALSE(failure.permanent);
  EXPECT_EQ(failure.status, "4.3.0");
  EXPECT_NE(failure.text.find("460 Failed to submit job 8"), std::string::npos) << failure.text;
}

TEST_F(FaxHylafaxBackend, ARefusedParameterIsPermanentWithTheServersText) {
  auto script = concat({login(),
                        lookup(),
                        upload(),
                        {{"JNEW", "200 New job created: jobid: 9 groupid: 9."}},
                        {{"JPARM FROMUSER", "213 FROMUSER set."},
                         {"JPARM NOTIFYADDR", "213 NOTIFYADDR set."},
                         {"JPARM DIALSTRING", "503 Bad dialstring."}}});
  FakeHfaxd server(script);
  auto result = backend(server.port())->submit(submission());
  server.finish();
  ASSERT_TRUE(std::holds_alternative<SubmitFailure>(result));
  const auto& failure = std::get<SubmitFailure>(result);
  EXPECT_TRUE(failure.permanent);
  EXPECT_EQ(failure.status, "5.3.0");
  EXPECT_NE(failure.text.find("503 Bad dialstring."), std::string::npos) << failure.text;
}

TEST_F(FaxHylafaxBackend, AConnectionDroppedMidUploadIsTransient) {
  auto script = concat(
      {login(),
       lookup(),
       {{"FORM TIFF", "200 Format set to TIFF."},
        {"PASV", "227 Entering passive mode ({pasv})"},
        {"STOT", "150 FILE: /tmp/doc7.tif (Opening new data connection).", Step::Data::drop}}});
  FakeHfaxd server(script);
  auto result = backend(server.port())->submit(submission());
  server.finish();
  ASSERT_TRUE(std::holds_alternative<SubmitFailure>(result));
  EXPECT_FALSE(std::get<SubmitFailure>(result).permanent);
  EXPECT_EQ(std::get<SubmitFailure>(result).status, "4.4.1");
}

TEST_F(FaxHylafaxBackend, APasvToAnotherHostIsRefused) {
  Step pasv{"PASV", "227 Entering passive mode ({pasv})"};
  pasv.pasv_address = "192,0,2,1";
  FakeHfaxd server(concat(
      {login(), {{"JOBFMT \"%j %a %o %p %y %J\"", "200 JOBFMT command successful."}, pasv}}));
  auto result = backend(server.port())->submit(submission());
  server.finish();
  ASSERT_TRUE(std::holds_alternative<SubmitFailure>(result));
  const auto& failure = std::get<SubmitFailure>(result);
  EXPECT_FALSE(failure.permanent);
  EXPECT_NE(failure.text.find("192.0.2.1 is not the server's 127.0.0.1"), std::string::npos)
      << failure.text;
}

TEST_F(FaxHylafaxBackend, ALoginRefusalAndARefusedConnectionAreTransient) {
  FakeHfaxd server(std::vector<Step>{{"USER bridgehead", "530 User bridgehead access denied."}});
  auto refused = backend(server.port())->submit(submission());
  server.finish();
  ASSERT_TRUE(std::holds_alternative<SubmitFailure>(refused));
  EXPECT_FALSE(std::get<SubmitFailure>(refused).permanent);
  EXPECT_NE(std::get<SubmitFailure>(refused).text.find("530"), std::string::npos);

  std::uint16_t closed_port = 0;
  ::close(listen_loopback(closed_port));  // nothing listens there any more
  auto unreachable = backend(closed_port)->submit(submission());
  ASSERT_TRUE(std::holds_alternative<SubmitFailure>(unreachable));
  EXPECT_FALSE(std::get<SubmitFailure>(unreachable).permanent);
  EXPECT_EQ(std::get<SubmitFailure>(unreachable).status, "4.4.1");
}

TEST_F(FaxHylafaxBackend, ReportsOnlyItsOwnFinishedJobs) {
  Step done_list{"LIST doneq", "150 Opening new data connection for \"doneq\".",
                 Step::Data::listing, "226 Transfer complete."};
  done_list.listing =
      "3 F bridgehead 1 2 bridgehead/fax/Q1.0\r\n"
      "4 D bridgehead 2 2 bridgehead/fax/Q2.0\r\n"
      "5 D bridgehead 1 1 somebody else's tag\r\n"
      "6 D other 1 1 bridgehead/fax/Q3.0\r\n"
      "7 D bridgehead 1 1 bridgehead/other-connector/Q4.0\r\n";
  Step qfile{"RETR doneq/q3", "150 Opening new data connection for doneq/q3 (60 bytes).",
             Step::Data::listing, "226 Transfer complete."};
  qfile.listing = "state:8\nnpages:1\ncsi:+49 30 123456\nstatus:No carrier detected\n";
  FakeHfaxd server(concat({login(),
                           list("sendq", "9 S bridgehead 0 1 bridgehead/fax/Q5.0\r\n"),
                           {{"JOBFMT \"%j %a %o %p %y %J\"", "200 JOBFMT command successful."},
                            {"PASV", "227 Entering passive mode ({pasv})"},
                            done_list,
                            {"JOB 3", "200 Current job: jobid: 3 groupid: 3."},
                            {"JPARM STATUS", "213 No carrier detected"},
                            {"JPARM STATUSCODE", "213 002"},
                            {"PASV", "227 Entering passive mode ({pasv})"},
                            qfile,
                            {"JOB 4", "200 Current job: jobid: 4 groupid: 4."},
                            {"JPARM STATUS", "213 "},
                            {"JPARM STATUSCODE", "213 000"},
                            {"PASV", "227 Entering passive mode ({pasv})"},
                            {"RETR doneq/q4", "550 doneq/q4: Operation not permitted."}}}));
  auto reports = backend(server.port())->finished();
  server.finish();
  EXPECT_EQ(server.failure, "");
  ASSERT_TRUE(reports) << reports.error().message;
  ASSERT_EQ(reports->size(), 2u);
  const FaxJobReport& failed = (*reports)[0];
  EXPECT_EQ(failed.reference, "3");
  EXPECT_FALSE(failed.sent);
  EXPECT_EQ(failed.status_text, "No carrier detected");
  EXPECT_EQ(failed.status_code, 2);
  EXPECT_EQ(failed.pages_sent, 1);
  EXPECT_EQ(failed.pages_total, 2);
  EXPECT_EQ(failed.remote_csid, "+49 30 123456");
  const FaxJobReport& done = (*reports)[1];
  EXPECT_EQ(done.reference, "4");
  EXPECT_TRUE(done.sent);
  EXPECT_EQ(done.status_code, 0);
  EXPECT_EQ(done.pages_sent, 2);
  EXPECT_EQ(done.remote_csid, "") << "a queue file that cannot be read leaves the CSID out";
}

TEST_F(FaxHylafaxBackend, ForgetsDoneJobsAndJobsThatAreGone) {
  FakeHfaxd server(concat({login(),
                           {{"JOB 3", "200 Current job: jobid: 3 groupid: 3."},
                            {"JDELE", "200 Job 3 deleted; current job: (default)."}}}));
  auto forgotten = backend(server.port())->forget("3");
  server.finish();
  EXPECT_EQ(server.failure, "");
  EXPECT_TRUE(forgotten) << forgotten.error().message;

  FakeHfaxd gone(concat({login(), {{"JOB 99", "500 Cannot set job 99; job does not exist."}}}));
  EXPECT_TRUE(backend(gone.port())->forget("99"));
  gone.finish();

  FakeHfaxd busy(concat({login(),
                         {{"JOB 5", "200 Current job: jobid: 5 groupid: 5."},
                          {"JDELE", "504 Job 5 not deleted; job is not done."}}}));
  auto refused = backend(busy.port())->forget("5");
  busy.finish();
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("504"), std::string::npos);
  EXPECT_FALSE(backend(busy.port())->forget("5; JKILL"));  // not a job id: nothing is sent
}

TEST_F(FaxHylafaxBackend, SendsThePasswordWhenTheServerAsksForOne) {
  std::filesystem::path password = directory_ / "hylafax.password";
  std::ofstream(password) << "s3cret\n";
  std::filesystem::permissions(
      password, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto script = login();
  script.insert(script.begin() + 1, Step{"PASS s3cret", "230 User bridgehead logged in."});
  script[0].reply = "331 Password required for bridgehead.";
  script.push_back({"JOB 3", "200 Current job: jobid: 3 groupid: 3."});
  script.push_back({"JDELE", "200 Job 3 deleted; current job: (default)."});
  FakeHfaxd server(script);
  FaxSettings settings;
  settings.name = "fax";
  settings.hylafax.port = server.port();
  settings.hylafax.password_file = password.string();
  auto forgotten = make_hylafax_backend(settings)->forget("3");
  server.finish();
  EXPECT_EQ(server.failure, "");
  EXPECT_TRUE(forgotten) << forgotten.error().message;

  // Without a password_file the request for one is an error naming the problem.
  FakeHfaxd asks(std::vector<Step>{{"USER bridgehead", "331 Password required for bridgehead."}});
  auto refused = backend(asks.port())->forget("3");
  asks.finish();
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("none is configured"), std::string::npos)
      << refused.error().message;
}

TEST_F(FaxHylafaxBackend, AFailureTextNamesNoLocalPath) {
  FakeHfaxd server(concat({login(), lookup()}));
  FaxSubmission job = submission();
  job.tiff = directory_ / "missing.tif";  // the upload cannot open it
  auto result = backend(server.port())->submit(job);
  server.finish();
  ASSERT_TRUE(std::holds_alternative<SubmitFailure>(result));
  const auto& failure = std::get<SubmitFailure>(result);
  EXPECT_FALSE(failure.permanent);
  EXPECT_EQ(failure.text.find(directory_.string()), std::string::npos) << failure.text;
  EXPECT_NE(failure.text.find("the fax document"), std::string::npos) << failure.text;
}

// --------------------------------------------------------------------------- call facts

namespace {

// LIST doneq with one finished job 4 of this connector, then its JOB and JPARMs.
std::vector<Step> one_done_job(const std::string& state = "D") {
  Step done_list{"LIST doneq", "150 Opening new data connection for \"doneq\".",
                 Step::Data::listing, "226 Transfer complete."};
  done_list.listing = "4 " + state + " bridgehead 2 2 bridgehead/fax/Q2.0\r\n";
  return {{"JOBFMT \"%j %a %o %p %y %J\"", "200 JOBFMT command successful."},
          {"PASV", "227 Entering passive mode ({pasv})"},
          done_list};
}

std::vector<Step> job_status() {
  return {{"JOB 4", "200 Current job: jobid: 4 groupid: 4."},
          {"JPARM STATUS", "213 "},
          {"JPARM STATUSCODE", "213 000"}};
}

// RETR path answering content (or reply instead, when it is not a 150).
std::vector<Step> retr(const std::string& path, const std::string& content,
                       const std::string& reply = "150 Opening new data connection.",
                       const std::string& final_reply = "226 Transfer complete.") {
  Step step{"RETR " + path, reply,
            reply.rfind("150", 0) == 0 ? Step::Data::listing : Step::Data::none, final_reply};
  step.listing = content;
  return {{"PASV", "227 Entering passive mode ({pasv})"}, step};
}

// A sent job's queue file (faxd/FaxRequest.c++ writeQFile's tags).
const std::string kSentQfile =
    "tts:1764693600\nkilltime:1764704400\nretrytime:0\nstate:7\nnpages:2\ntotpages:2\n"
    "number:+4930123456\nowner:bridgehead\njobtag:bridgehead/fax/Q2.0\ncommid:000000042\n"
    "csi:+49 30 999\nstatus:\nstatuscode:0\n";

// Its session log: dialled at 16:40:12.50, ended 16:40:53.20.
const std::string kSessionLog =
    "Dec 02 16:40:12.05: [ 4242]: SESSION BEGIN 000000042 4930123456\n"
    "Dec 02 16:40:12.50: [ 4242]: DIAL +4930123456\n"
    "Dec 02 16:40:33.70: [ 4242]: REMOTE CSI \"+49 30 999 log\"\n"
    "Dec 02 16:40:53.20: [ 4242]: SESSION END\n";

}  // namespace

TEST_F(FaxHylafaxBackend, ASentJobsDurationComesFromItsSessionLogAfterAdmin) {
  std::filesystem::path admin = directory_ / "hylafax.admin";
  std::ofstream(admin) << "adm \"in\"\n";
  std::filesystem::permissions(
      admin, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  FakeHfaxd server(
      concat({login(),
              list("sendq", ""),
              one_done_job(),
              {{"ADMIN \"adm \\\"in\\\"\"", "230 Administrative privileges established."}},
              job_status(),
              retr("doneq/q4", kSentQfile),
              retr("log/c000000042", kSessionLog)}));
  FaxSettings settings;
  settings.name = "fax";
  settings.hylafax.port = server.port();
  settings.hylafax.admin_password_file = admin.string();
  auto reports = make_hylafax_backend(settings)->finished();
  server.finish();
  EXPECT_EQ(server.failure, "");
  ASSERT_TRUE(reports) << reports.error().message;
  ASSERT_EQ(reports->size(), 1u);
  const FaxJobReport& done = reports->front();
  EXPECT_TRUE(done.sent);
  EXPECT_EQ(done.remote_csid, "+49 30 999") << "the queue file's CSID comes first";
  EXPECT_EQ(done.duration, std::chrono::seconds(41));
  EXPECT_EQ(server.commands().back(), "QUIT");
}

TEST_F(FaxHylafaxBackend, WithoutTheQueueFilesCsidTheLogsIsUsed) {
  std::string qfile = kSentQfile;
  qfile.replace(qfile.find("csi:+49 30 999"), 14, "csi:<UNSPECIFIED>");
  FakeHfaxd server(concat({login(), list("sendq", ""), one_done_job(), job_status(),
                           retr("doneq/q4", qfile), retr("log/c000000042", kSessionLog)}));
  auto reports = backend(server.port())->finished();
  server.finish();
  EXPECT_EQ(server.failure, "") << "no ADMIN without an admin password file";
  ASSERT_TRUE(reports) << reports.error().message;
  ASSERT_EQ(reports->size(), 1u);
  EXPECT_EQ(reports->front().remote_csid, "+49 30 999 log");
  EXPECT_EQ(reports->front().duration, std::chrono::seconds(41));
}

TEST_F(FaxHylafaxBackend, ARefusedAdminOrAnUnreadableLogLeavesTheDurationOut) {
  std::filesystem::path admin = directory_ / "hylafax.admin";
  std::ofstream(admin) << "wrong\n";
  std::filesystem::permissions(
      admin, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  FakeHfaxd server(
      concat({login(),
              list("sendq", ""),
              one_done_job(),
              {{"ADMIN \"wrong\"", "530 Password incorrect."}},
              job_status(),
              retr("doneq/q4", kSentQfile),
              retr("log/c000000042", "", "550 log/c000000042: Operation not permitted.")}));
  FaxSettings settings;
  settings.name = "fax";
  settings.hylafax.port = server.port();
  settings.hylafax.admin_password_file = admin.string();
  auto reports = make_hylafax_backend(settings)->finished();
  server.finish();
  EXPECT_EQ(server.failure, "");
  ASSERT_TRUE(reports) << reports.error().message;
  ASSERT_EQ(reports->size(), 1u);
  EXPECT_TRUE(reports->front().sent);
  EXPECT_EQ(reports->front().remote_csid, "+49 30 999");
  EXPECT_EQ(reports->front().duration, std::chrono::seconds(0));
}

TEST_F(FaxHylafaxBackend, AFailedJobsSessionLogIsNotRead) {
  std::string qfile = kSentQfile;
  qfile.replace(qfile.find("state:7"), 7, "state:8");
  FakeHfaxd server(concat(
      {login(), list("sendq", ""), one_done_job("F"), job_status(), retr("doneq/q4", qfile)}));
  auto reports = backend(server.port())->finished();
  server.finish();
  EXPECT_EQ(server.failure, "");
  ASSERT_TRUE(reports) << reports.error().message;
  ASSERT_EQ(reports->size(), 1u);
  EXPECT_FALSE(reports->front().sent);
  EXPECT_EQ(find_command(server.commands(), "RETR log/"), "");
}

TEST_F(FaxHylafaxBackend, AnOversizedLogIsCutOffAndTheConnectionStaysInStep) {
  // More than the 1 MiB read of a session log: the client stops reading,
  // takes the server's reply to the aborted transfer, and goes on with
  // the next job (which would get that stale 426 for its JOB otherwise).
  std::string huge = kSessionLog + std::string(1100 * 1024, 'x');
  auto listing = one_done_job();
  listing.back().listing += "5 D bridgehead 1 1 bridgehead/fax/Q3.0\r\n";
  FakeHfaxd server(concat({login(),
                           list("sendq", ""),
                           listing,
                           job_status(),
                           retr("doneq/q4", kSentQfile),
                           retr("log/c000000042", huge, "150 Opening new data connection.",
                                "426 Data connection: Broken pipe."),
                           {{"JOB 5", "200 Current job: jobid: 5 groupid: 5."},
                            {"JPARM STATUS", "213 "},
                            {"JPARM STATUSCODE", "213 000"}},
                           retr("doneq/q5", "", "550 doneq/q5: Operation not permitted.")}));
  auto reports = backend(server.port())->finished();
  server.finish();
  EXPECT_EQ(server.failure, "");
  ASSERT_TRUE(reports) << reports.error().message;
  ASSERT_EQ(reports->size(), 2u);
  EXPECT_EQ((*reports)[0].duration, std::chrono::seconds(0));
  EXPECT_EQ((*reports)[0].remote_csid, "+49 30 999");
  EXPECT_EQ((*reports)[1].reference, "5");
  EXPECT_EQ(server.commands().back(), "QUIT");
}

TEST_F(FaxHylafaxBackend, AConnectionLostReadingALogStillReportsTheJob) {
  Step drop{"RETR log/c000000042", "150 Opening new data connection.", Step::Data::drop};
  FakeHfaxd server(concat({login(),
                           list("sendq", ""),
                           one_done_job(),
                           job_status(),
                           retr("doneq/q4", kSentQfile),
                           {{"PASV", "227 Entering passive mode ({pasv})"}, drop}}));
  auto reports = backend(server.port())->finished();
  server.finish();
  ASSERT_TRUE(reports) << reports.error().message;
  ASSERT_EQ(reports->size(), 1u) << "the job's result does not wait for its call facts";
  EXPECT_TRUE(reports->front().sent);
  EXPECT_EQ(reports->front().duration, std::chrono::seconds(0));
}

TEST_F(FaxHylafaxBackend, ARefusedRetrsDataConnectionIsTheNextTransfers) {
  // hfaxd 6.0.7 keeps its passive listener after a 550 for RETR: the next
  // PASV names the same port and its accept() returns the connection the
  // client opened for the refused RETR. A client that closed that one and
  // connected anew would wait in vain for the next file.
  auto listing = one_done_job("F");
  listing.back().listing += "5 F bridgehead 1 1 bridgehead/fax/Q3.0\r\n";
  auto next = retr("doneq/q5", "state:8\ncsi:+49 30 555\n");
  next[0].same_listener = true;
  FakeHfaxd server(concat({login(),
                           list("sendq", ""),
                           listing,
                           job_status(),
                           retr("doneq/q4", "", "550 doneq/q4: Operation not permitted."),
                           {{"JOB 5", "200 Current job: jobid: 5 groupid: 5."},
                            {"JPARM STATUS", "213 "},
                            {"JPARM STATUSCODE", "213 000"}},
                           next}));
  auto reports = backend(server.port())->finished();
  server.finish();
  EXPECT_EQ(server.failure, "");
  ASSERT_TRUE(reports) << reports.error().message;
  ASSERT_EQ(reports->size(), 2u);
  EXPECT_EQ((*reports)[0].remote_csid, "");
  EXPECT_EQ((*reports)[1].remote_csid, "+49 30 555");
}
