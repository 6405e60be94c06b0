// The remote CSID and the call's duration from the queue file and the
// session log (hylafax_call.hpp, hylafax_poll.hpp), over the fake hfaxd.
#include "tests/unit/fax/hylafax_fake_hfaxd.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <variant>

using namespace hylafax_test;

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
  auto lost = concat({login(),
                      list("sendq", ""),
                      one_done_job(),
                      job_status(),
                      retr("doneq/q4", kSentQfile),
                      {{"PASV", "227 Entering passive mode ({pasv})"}, drop}});
  FakeHfaxd server(lost);  // no other job: no new connection
  auto reports = backend(server.port())->finished();
  server.finish();
  EXPECT_EQ(server.failure, "");
  ASSERT_TRUE(reports) << reports.error().message;
  ASSERT_EQ(reports->size(), 1u) << "the job's result does not wait for its session log";
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

namespace {

// LIST doneq with the one sent job `id`.
std::vector<Step> sent_job(const std::string& id) {
  Step done_list{"LIST doneq", "150 Opening new data connection for \"doneq\".",
                 Step::Data::listing, "226 Transfer complete."};
  done_list.listing = id + " D bridgehead 2 2 bridgehead/fax/Q" + id + ".0\r\n";
  return concat({{{"JOBFMT \"%j %a %o %p %y %J\"", "200 JOBFMT command successful."},
                  {"PASV", "227 Entering passive mode ({pasv})"},
                  done_list}});
}
// Its status, its queue file (commid 42) and the session log's RETR
// answering log_reply.
std::vector<Step> facts_of(const std::string& id, const std::string& log_reply) {
  return concat({{{"JOB " + id, "200 Current job: jobid: " + id + " groupid: " + id + "."},
                  {"JPARM STATUS", "213 "},
                  {"JPARM STATUSCODE", "213 000"}},
                 retr("doneq/q" + id, kSentQfile),
                 retr("log/c000000042", kSessionLog, log_reply)});
}
const std::string kNotPermitted = "550 log/c000000042: Operation not permitted.";

}  // namespace

TEST_F(FaxHylafaxBackend, ARefusedAdminIsNotSentAgainUntilThePasswordFileChanges) {
  // Poll 1: ADMIN refused. Poll 2 (another job): no ADMIN. Then the
  // operator fixes the password file; poll 3 sends the new password.
  auto poll1 = concat({login(),
                       list("sendq", ""),
                       sent_job("4"),
                       {{"ADMIN \"wrong\"", "530 Password incorrect."}},
                       facts_of("4", kNotPermitted)});
  auto poll2 = concat({login(), list("sendq", ""), sent_job("5"), facts_of("5", kNotPermitted)});
  auto poll3 = concat({login(),
                       list("sendq", ""),
                       sent_job("6"),
                       {{"ADMIN \"right\"", "230 Administrative privileges established."}},
                       facts_of("6", "150 Opening new data connection.")});
  FakeHfaxd server(std::vector<std::vector<Step>>{poll1, poll2, poll3});
  auto fax = backend(server.port(), {}, "wrong");
  auto first = fax->finished();
  auto second = fax->finished();
  write_admin_password("right");
  // A modification time certainly different from the first file's.
  std::filesystem::last_write_time(
      admin_file(), std::filesystem::last_write_time(admin_file()) + std::chrono::seconds(10));
  auto third = fax->finished();
  server.finish();
  EXPECT_EQ(server.failure, "");
  ASSERT_TRUE(first && second && third);
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ(second->front().duration, std::chrono::seconds(0));
  ASSERT_EQ(third->size(), 1u);
  EXPECT_EQ(third->front().duration, std::chrono::seconds(41));
}

TEST_F(FaxHylafaxBackend, AnAdminLostOnTheNetworkIsAConnectionLostNotARefusal) {
  // The connection closes instead of ADMIN's reply: the poll does not go
  // on over it (JOB would fail), and job 4 comes with the next poll, which does not send ADMIN
  // again (backing off) and reads the world-readable log.
  auto poll1 = concat(
      {login(), list("sendq", ""), sent_job("4"), {{"ADMIN \"pw\"", "", Step::Data::hang_up}}});
  auto poll2 = concat({login(), list("sendq", ""), sent_job("4"),
                       facts_of("4", "150 Opening new data connection.")});
  FakeHfaxd server(std::vector<std::vector<Step>>{poll1, poll2});
  auto fax = backend(server.port(), {}, "pw");
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  auto first = fax->finished();
  std::string log = testing::internal::GetCapturedStdout() + testing::internal::GetCapturedStderr();
  auto second = fax->finished();
  server.finish();
  EXPECT_EQ(server.failure, "");
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(first->empty()) << "job 4 waits for its call facts";
  EXPECT_NE(log.find("fax_hylafax_admin_failed"), std::string::npos) << log;
  EXPECT_EQ(log.find("fax_hylafax_admin_refused"), std::string::npos) << log;
  ASSERT_TRUE(second) << second.error().message;
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ(second->front().duration, std::chrono::seconds(41));
}

TEST_F(FaxHylafaxBackend, AKeptDataConnectionIsClosedWhenTheNextPasvNamesAnotherPort) {
  // After the 550 for job 4's queue file the client keeps its data
  // connection; the next PASV names a new listener, so the kept one is
  // closed (the fake checks) and a new one is opened.
  auto listing = one_done_job("F");
  listing.back().listing += "5 F bridgehead 1 1 bridgehead/fax/Q3.0\r\n";
  auto next = retr("doneq/q5", "state:8\ncsi:+49 30 555\n");
  next[0].expect_kept_closed = true;
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
  EXPECT_EQ((*reports)[1].remote_csid, "+49 30 555");
}
